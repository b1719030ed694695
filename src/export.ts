/**
 * `ssbench export`: training and validation pairs of a config as .npy arrays in a
 * feature layout, for a learned detector to be trained on (detectors/cnn/train/).
 */
import { join } from 'node:path';
import type { RunConfig } from './config.js';
import { UserError } from './errors.js';
import { type LayoutSpec, extract, layoutFor } from './features.js';
import { writeFileAtomic } from './fsutil.js';
import { npyBytes } from './npy.js';
import { buildPairs } from './pipeline.js';
import { type PerturbationStep, expandScenario } from './plan.js';

export interface ExportOptions {
  out: string;
  layout: LayoutSpec;
  /** Dataset names of the two splits. */
  train: string;
  val: string;
  /** Perturb the training pairs with every setting of this scenario (adversarial training). */
  scenario?: string;
  onProgress?: (done: number, total: number) => void;
}

const CHUNK = 500;

export async function exportTraining(c: RunConfig, o: ExportOptions): Promise<Record<string, unknown>> {
  const layout = layoutFor(o.layout, '--layout');
  const dataset = (name: string, flag: string) => {
    const d = c.datasets.find((x) => x.name === name);
    if (!d) throw new UserError(`${flag}: the config has no dataset ${JSON.stringify(name)}; it has ${c.datasets.map((x) => x.name).join(', ')}`);
    return d;
  };
  const train = dataset(o.train, '--train');
  const val = dataset(o.val, '--val');
  let settings: { label: string; steps: PerturbationStep[] }[] = [{ label: 'none', steps: [] }];
  if (o.scenario !== undefined) {
    const s = c.scenarios.find((x) => x.name === o.scenario);
    if (!s) throw new UserError(`--scenario: the config has no scenario ${JSON.stringify(o.scenario)}; it has ${c.scenarios.map((x) => x.name).join(', ')}`);
    settings = expandScenario(s);
  }
  const per = layout.rows * layout.columns;
  const splits = [
    { name: 'train', d: train, settings },
    // Validation pairs stay unperturbed, so that val AUC compares models on the same pairs.
    { name: 'val', d: val, settings: [{ label: 'none', steps: [] as PerturbationStep[] }] },
  ];
  const total = splits.reduce((s, x) => s + (x.d.positives + x.d.negatives) * x.settings.length, 0);
  let done = 0;
  const meta: Record<string, unknown> = { layout: layout.spec, seed: c.seed, config: c.name };
  for (const split of splits) {
    const n = split.d.positives + split.d.negatives;
    const X = new Float32Array(n * split.settings.length * per);
    const y = new Float32Array(n * split.settings.length);
    let row = 0;
    for (const setting of split.settings) {
      for (let start = 0; start < n; start += CHUNK) {
        const pairs = await buildPairs(c.seed, split.d, setting.steps, start, Math.min(n, start + CHUNK));
        X.set(extract(layout, pairs), row * per);
        pairs.forEach((p, i) => (y[row + i] = p.relayed ? 1 : 0));
        row += pairs.length;
        done += pairs.length;
        o.onProgress?.(done, total);
      }
    }
    writeFileAtomic(join(o.out, `${split.name}_X.npy`), npyBytes(X, [row, layout.rows, layout.columns]));
    writeFileAtomic(join(o.out, `${split.name}_y.npy`), npyBytes(y, [row]));
    meta[split.name] = {
      dataset: split.d.name,
      positives: split.d.positives * split.settings.length,
      negatives: split.d.negatives * split.settings.length,
      settings: split.settings.map((s) => s.label),
    };
  }
  writeFileAtomic(join(o.out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}
