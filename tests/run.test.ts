import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { writeResults } from '../src/outputs.js';
import { runConfig } from '../src/runner.js';
import { summarize } from '../src/summary.js';
import { markdownTables } from '../src/tables.js';

const small = (extra: Record<string, unknown> = {}) => ({
  name: 'small',
  seed: 5,
  chunkSize: 16,
  bootstrap: 50,
  datasets: [{ name: 'ssh', positives: 40, negatives: 60, params: { duration: 30 } }],
  scenarios: [{ name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 1] } }] }],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }],
  ...extra,
});

async function run(raw: unknown, workers: number, file = 'small.json') {
  const c = await resolveConfig(raw, file, { workers });
  const outcome = await runConfig(c);
  return { c, outcome, summary: summarize(c, outcome) };
}

describe('runner', () => {
  it('gives byte-identical results with 1 and 2 workers', async () => {
    const one = await run(small(), 1);
    const two = await run(small(), 2);
    expect(JSON.stringify(two.summary)).toBe(JSON.stringify(one.summary));
    expect(markdownTables(two.summary)).toBe(markdownTables(one.summary));
    const dirs = [one, two].map((r) => {
      const dir = mkdtempSync(join(tmpdir(), 'ssbench-run-'));
      writeResults(dir, r.c, r.outcome, r.summary, 1);
      return dir;
    });
    const files = readdirSync(dirs[0]).filter((f) => f !== 'run.json');
    expect(files.sort()).toEqual(['config.json', 'scores.csv.gz', 'summary.json', 'table.csv', 'table.md']);
    for (const f of files) expect(readFileSync(join(dirs[1], f)).equals(readFileSync(join(dirs[0], f))), f).toBe(true);
  });

  it('gives the same scores whatever the chunk size', async () => {
    const a = await run(small({ chunkSize: 7 }), 2);
    const b = await run(small({ chunkSize: 100 }), 1);
    expect(b.summary).toEqual(a.summary);
  });

  it('separates relays from unrelated pairs without perturbation, and loses them under chaff', async () => {
    const { summary } = await run(small(), 2);
    const cell = (det: string, level: string) => summary.cells.find((c) => c.detector === det && c.level === level)!;
    // Counting reaches about 0.94 on 60 s windows of the calibrated source, not 1: the
    // user types at S before the hop, on the incoming connection only; 30 s windows leave
    // unrelated sessions less time apart.
    expect(cell('blum-count', 'ratio=0').auc).toBeGreaterThan(0.75);
    expect(cell('wang-ipd', 'ratio=0').auc).toBeGreaterThan(0.9);
    expect(cell('blum-count', 'ratio=1').auc!).toBeLessThan(cell('blum-count', 'ratio=0').auc! - 0.3);
  });

  it('runs a detector from a module path without touching src, and contains a failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-plugin-'));
    // A plugin is any module whose default export has the detector shape; this one needs
    // nothing from ssbench. Score: packets on the outgoing connection.
    writeFileSync(
      join(dir, 'count-out.mjs'),
      `export default { kind: 'detector', name: 'count-out', description: 'test', params: { scale: { type: 'number', default: 1, description: 'x' } },
        score(pairs, p) { return Float64Array.from(pairs, (q) => q.outgoing.t.length * p.scale); } };\n`,
    );
    writeFileSync(
      join(dir, 'broken.mjs'),
      `export default { kind: 'detector', name: 'broken', description: 'test', params: {},
        score(pairs) { if (pairs.some((q) => q.meta.index === 45)) throw new Error('boom'); return new Float64Array(pairs.length); } };\n`,
    );
    const raw = small({ detectors: [{ name: './count-out.mjs', label: 'count-out', params: { scale: 2 } }, { name: './broken.mjs', label: 'broken' }] });
    const { summary, outcome } = await run(raw, 2, join(dir, 'cfg.json'));
    const ours = summary.cells.filter((c) => c.detector === 'count-out');
    expect(ours).toHaveLength(2);
    expect(ours.every((c) => c.auc !== null && !c.error)).toBe(true);
    // The plugin saw its parameter: scores are twice the packet counts, so all even.
    expect(Array.from(outcome.groups[0].scores[0]).every((s) => s % 2 === 0 && s > 0)).toBe(true);
    const broken = summary.cells.filter((c) => c.detector === 'broken');
    expect(broken.map((c) => c.error)).toEqual([
      'detector broken failed on pairs 32-47: boom',
      'detector broken failed on pairs 32-47: boom',
    ]);
    expect(markdownTables(summary)).toContain('| broken | failed | failed |');
  });
});
