import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { provenance } from '../src/provenance.js';
import { root } from './helpers.js';

describe('run.json provenance', () => {
  it('records the model files a run loads, the runtime versions and the code commit', async () => {
    const c = await resolveConfig(
      {
        name: 'prov',
        seed: 1,
        datasets: [{ name: 'ssh', source: 'synthetic-ssh', positives: 1, negatives: 1 }],
        scenarios: [{ name: 'none', perturbations: [] }],
        detectors: [{ name: 'blum-count' }, { name: 'cnn', label: 'net' }],
      },
      join(root, 'configs', 'cfg.json'),
    );
    const p = provenance(c);
    const onnx = readFileSync(join(root, 'detectors', 'cnn', 'model.onnx'));
    expect(p.models.net['model.onnx']).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(Object.keys(p.models)).toEqual(['net']); // blum-count has no model file
    const ort = JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'));
    expect(p.onnxruntime).toBe(ort.version);
    expect(p.node).toBe(process.version);
    // A checkout records the commit (CI runs on one); an unpacked tarball records null.
    expect(p.code_commit === null || /^[0-9a-f]{40}$/.test(p.code_commit)).toBe(true);
  });
});
