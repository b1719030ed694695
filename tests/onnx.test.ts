import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { extract, layoutFor } from '../src/features.js';
import { readNpy } from '../src/npy.js';
import { onnxDetector, readManifest } from '../src/onnx-detector.js';
import { defaultParams } from '../src/params.js';
import { runConfig } from '../src/runner.js';
import source from '../src/sources/synthetic-ssh.js';
import { summarize } from '../src/summary.js';
import { refusal, root } from './helpers.js';

const MODELS = ['cnn', 'cnn-chaff', 'cnn-timebins'];

async function ortLogits(modelPath: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await s.run({ flows: new ort.Tensor('float32', x, shape) });
  return out.logit.data as Float32Array;
}

describe('committed models', () => {
  for (const name of MODELS) {
    it(`${name}: onnxruntime-node reproduces PyTorch's logits to 1e-5`, async () => {
      const dir = join(root, 'detectors', name);
      // check_inputs/check_logits were written by train.py from the eval-mode torch model.
      const x = readNpy(join(dir, 'check_inputs.npy'));
      const want = readNpy(join(dir, 'check_logits.npy'));
      expect(x.shape[0]).toBe(want.shape[0]);
      expect(x.shape.slice(1)).toEqual([8, layoutFor(readManifest(join(dir, 'manifest.json')).layout, name).columns]);
      const got = await ortLogits(join(dir, 'model.onnx'), x.data, x.shape);
      // Relative to the logit's size where it exceeds 1: float32 logits of ~25 are only
      // resolved to about 2e-6, and the two runtimes add in different orders.
      const diffs = Array.from(got, (v, i) => Math.abs(v - want.data[i]) / Math.max(1, Math.abs(want.data[i])));
      expect(Math.max(...diffs)).toBeLessThan(1e-5);
    });
  }

  it('the plugin scores exactly what the layout and the model give, in any batch size', async () => {
    const manifest = join(root, 'detectors', 'cnn', 'manifest.json');
    const det = onnxDetector(manifest);
    const sp = defaultParams(source.params);
    const pairs = Array.from({ length: 37 }, (_, i) => source.pair({ seed: 4, dataset: 'onnx', index: i, relayed: i % 3 === 0 }, sp));
    const layout = layoutFor(readManifest(manifest).layout, manifest);
    const direct = await ortLogits(join(root, 'detectors', 'cnn', 'model.onnx'), extract(layout, pairs), [37, 8, 100]);
    const batched = await det.score(pairs, { batchSize: 8 }, { threads: 1 });
    const whole = await det.score(pairs, { batchSize: 256 }, { threads: 1 });
    expect(Array.from(batched)).toEqual(Array.from(direct));
    expect(Array.from(whole)).toEqual(Array.from(direct));
  });
});

describe('model manifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssbench-onnx-'));
  const model = join(root, 'detectors', 'cnn', 'model.onnx');
  let written = 0;
  const manifest = (over: Record<string, unknown>) => {
    const file = join(dir, `manifest-${written++}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        kind: 'onnx-detector',
        name: 'mine',
        model,
        input: 'flows',
        output: 'logit',
        layout: { name: 'deepcorr', version: 1, params: { length: 100 } },
        ...over,
      }),
    );
    return file;
  };
  const config = (detector: string) => ({ seed: 1, datasets: [{ name: 'd', positives: 2, negatives: 2 }], detectors: [{ name: detector }] });

  it('refuses a model whose input does not match the layout, before any work', async () => {
    const file = manifest({ layout: { name: 'deepcorr', version: 1, params: { length: 50 } } });
    expect(await refusal(config(file))).toBe(
      `cfg.json: detectors[0].name: ${file}: layout: the model's input flows is float32 [batch, 8, 100], but layout deepcorr v1 gives float32 [batch, 8, 50]`,
    );
  });

  it('refuses wrong input and output names, and bad manifests, naming the field', async () => {
    const badInput = manifest({ input: 'x' });
    expect(await refusal(config(badInput))).toContain(`${badInput}: input: the model has no input "x"; it has flows`);
    const badOutput = manifest({ output: 'y' });
    expect(await refusal(config(badOutput))).toContain(`${badOutput}: output: the model has no output "y"; it has logit`);
    const noModel = manifest({ model: join(dir, 'missing.onnx') });
    expect(await refusal(config(noModel))).toContain(`${noModel}: model: cannot load ${join(dir, 'missing.onnx')}`);
    const badBatch = manifest({ batchSize: 0 });
    expect(await refusal(config(badBatch))).toContain(`${badBatch}: batchSize: `);
    const badLayout = manifest({ layout: { name: 'bins', version: 1, params: {} } });
    expect(await refusal(config(badLayout))).toContain(`${badLayout}: layout: unknown layout "bins v1"`);
  });

  it('evaluates a differently shaped model (timebins) from its manifest alone', async () => {
    const c = await resolveConfig(
      { seed: 8, chunkSize: 40, bootstrap: 0, datasets: [{ name: 'd', positives: 60, negatives: 120 }], detectors: [{ name: 'cnn-timebins' }, { name: manifest({}) , label: 'copy' }] },
      join(root, 'configs', 'x.json'),
      { workers: 2 },
    );
    const cells = summarize(c, await runConfig(c)).cells;
    expect(cells.map((x) => x.detector)).toEqual(['cnn-timebins', 'copy']);
    for (const cell of cells) expect(cell.auc).toBeGreaterThan(0.9);
  });
});

const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasTorch)('training pipeline (needs Debian python3-torch)', () => {
  it('exports pairs, trains one short epoch, and the ONNX model matches torch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-train-'));
    const cfg = join(dir, 'train.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        seed: 5,
        datasets: [
          { name: 'train', positives: 100, negatives: 200 },
          { name: 'val', positives: 40, negatives: 80 },
        ],
        detectors: [{ name: 'blum-count' }],
      }),
    );
    const cli = join(root, 'dist', 'src', 'cli.js');
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root]);
    execFileSync(process.execPath, [cli, 'export', cfg, '--out', join(dir, 'data'), '--length', '40'], { stdio: 'pipe' });
    mkdirSync(join(dir, 'model'));
    execFileSync(python, [join(root, 'detectors', 'cnn', 'train', 'train.py'), '--data', join(dir, 'data'), '--out', join(dir, 'model'), '--epochs', '1', '--max-train', '200'], {
      stdio: 'pipe',
    });
    const x = readNpy(join(dir, 'model', 'check_inputs.npy'));
    const want = readNpy(join(dir, 'model', 'check_logits.npy'));
    const got = await ortLogits(join(dir, 'model', 'model.onnx'), x.data, x.shape);
    expect(x.shape.slice(1)).toEqual([8, 40]);
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want.data[i]) / Math.max(1, Math.abs(want.data[i]))))).toBeLessThan(1e-5);
  });
});
