import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { runConfig } from '../src/runner.js';
import { summarize } from '../src/summary.js';

const dir = mkdtempSync(join(tmpdir(), 'ssbench-faults-'));
const marker = join(dir, 'crashed-once');

// Kills the worker thread it runs in (process.exit in a worker ends that thread) the
// first time it meets pair 45, as an out-of-memory kill or a native crash would.
writeFileSync(
  join(dir, 'crasher.mjs'),
  `import { existsSync, writeFileSync } from 'node:fs';
export default { kind: 'detector', name: 'crasher', description: 'test', params: {},
  score(pairs) {
    if (pairs.some((q) => q.meta.index === 45) && !existsSync(${JSON.stringify(marker)})) {
      writeFileSync(${JSON.stringify(marker)}, 'x');
      process.exit(3);
    }
    return Float64Array.from(pairs, (q) => q.outgoing.t.length);
  } };\n`,
);
// A perturbation that always throws on one chunk: a deterministic plugin bug.
writeFileSync(
  join(dir, 'bad-perturbation.mjs'),
  `export default { kind: 'perturbation', name: 'bad', description: 'test', touches: 'both', params: { at: { type: 'number', default: -1, description: 'x' } },
  apply(pair, p) { if (pair.meta.index === p.at) throw new Error('cannot perturb pair ' + p.at); return pair; } };\n`,
);

const base = {
  seed: 6,
  chunkSize: 20,
  bootstrap: 20,
  datasets: [{ name: 'ssh', positives: 40, negatives: 60, params: { duration: 30 } }],
};

async function run(raw: unknown, failFast = false) {
  const c = await resolveConfig(raw, join(dir, 'cfg.json'), { workers: 2 });
  const warnings: string[] = [];
  const outcome = await runConfig(c, { failFast, onWarning: (m) => warnings.push(m) });
  return { summary: summarize(c, outcome), warnings };
}

describe('faults', () => {
  it('retries the task of a worker that died on a fresh one; results equal an undisturbed run', async () => {
    const raw = { ...base, detectors: [{ name: './crasher.mjs', label: 'crasher' }, { name: 'blum-count' }] };
    const disturbed = await run(raw);
    expect(existsSync(marker)).toBe(true);
    expect(disturbed.warnings).toHaveLength(1);
    expect(disturbed.warnings[0]).toMatch(/^pairs 40-59 of ssh\/unperturbed\/none: .*; retrying on a fresh worker$/);
    // The marker now exists, so this run is undisturbed.
    const calm = await run(raw);
    expect(calm.warnings).toEqual([]);
    expect(JSON.stringify(disturbed.summary)).toBe(JSON.stringify(calm.summary));
    expect(calm.summary.cells.every((c) => !c.error)).toBe(true);
  });

  it('fails only the cells of a chunk that fails twice, and goes on', async () => {
    const raw = {
      ...base,
      scenarios: [
        { name: 'broken', perturbations: [{ name: './bad-perturbation.mjs', params: { at: 5 } }] },
        { name: 'fine', perturbations: [{ name: './bad-perturbation.mjs' }] },
      ],
      detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }],
    };
    const { summary, warnings } = await run(raw);
    expect(warnings).toHaveLength(1);
    const broken = summary.cells.filter((c) => c.scenario === 'broken');
    expect(broken.map((c) => c.error)).toEqual([
      expect.stringMatching(/^pairs 0-19 of ssh\/broken\/broken failed twice: .*cannot perturb pair 5/),
      expect.stringMatching(/^pairs 0-19 of ssh\/broken\/broken failed twice: .*cannot perturb pair 5/),
    ]);
    const fine = summary.cells.filter((c) => c.scenario === 'fine');
    // Computed as usual: above chance (blum-count 0.69, wang-ipd 0.98 on these 30 s windows).
    expect(fine.every((c) => !c.error && (c.auc ?? 0) > 0.6)).toBe(true);
  });

  it('stops at the first failure with --fail-fast', async () => {
    const raw = {
      ...base,
      scenarios: [{ name: 'broken', perturbations: [{ name: './bad-perturbation.mjs', params: { at: 5 } }] }],
      detectors: [{ name: 'blum-count' }],
    };
    await expect(run(raw, true)).rejects.toThrow(/^stopped at the first failure \(--fail-fast\): pairs 0-19 of ssh\/broken\/broken failed twice: .*cannot perturb pair 5/);
  });
});
