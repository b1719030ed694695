import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, ssbench } from './helpers.js';



const config = {
  name: 'cli-test',
  seed: 3,
  chunkSize: 25,
  bootstrap: 40,
  datasets: [{ name: 'ssh', positives: 30, negatives: 50, params: { duration: 30 } }],
  scenarios: [
    { name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 0.5] } }] },
    { name: 'delay', perturbations: [{ name: 'delay', params: { max: [0, 1] } }] },
  ],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }],
};

describe('ssbench CLI (compiled)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssbench-cli-'));
  const file = join(dir, 'cfg.json');

  beforeAll(() => {
    buildCli();
    writeFileSync(file, JSON.stringify(config));
  });

  it('writes byte-identical results with --workers 1 and --workers 2', () => {
    const outs = [1, 2].map((w) => {
      const out = join(dir, `w${w}`);
      const r = ssbench(['bench', file, '--workers', String(w), '--out', out]);
      expect(r.stderr).toContain(`with ${w} worker(s)`);
      expect(r.code).toBe(0);
      return out;
    });
    for (const f of ['summary.json', 'table.md', 'table.csv', 'scores.csv.gz', 'config.json']) {
      expect(readFileSync(join(outs[1], f)).equals(readFileSync(join(outs[0], f))), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(outs[0], 'summary.json'), 'utf8'));
    expect(summary.cells).toHaveLength(8);
    expect(summary.cells[0]).toMatchObject({
      detector: 'blum-count',
      dataset: 'ssh',
      scenario: 'chaff',
      setting: { 'chaff.ratio': 0 },
      positives: 30,
      negatives: 50,
    });
    expect(Object.keys(summary.cells[0].tpr_at_fpr)).toEqual(['0.01', '0.001']);
    expect(summary.cells[0].auc_ci).toHaveLength(2);
  });

  it('prints the table on stdout and plain progress lines when stderr is not a terminal', () => {
    const r = ssbench(['bench', file, '--workers', '1', '--out', join(dir, 'p')]);
    expect(r.stdout).toContain('| detector | ratio=0 | ratio=0.5 |');
    expect(r.stderr).toMatch(/^cli-test: 0\/16 chunks \(0%\)/m);
    expect(r.stderr).toMatch(/^cli-test: 16\/16 chunks \(100%\)/m);
  });

  it('refuses a bad config with one line, exit code 2, and no stack trace', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...config, detectors: [{ name: 'wang-ipdd' }] }));
    const r = ssbench(['bench', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ssbench: .*bad\.json: detectors\[0\]\.name: unknown detector "wang-ipdd"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('loads a TypeScript detector named by path, outside the project, in the compiled CLI', () => {
    // A .ts file outside an ES-module package: tsx's CommonJS hook loads it.
    writeFileSync(
      join(dir, 'mine.ts'),
      `const det = { kind: 'detector' as const, name: 'mine', description: 'ts', params: {},
  score(pairs: { outgoing: { t: Float64Array } }[]): Float64Array { return Float64Array.from(pairs, (p) => p.outgoing.t.length); } };
export default det;\n`,
    );
    const cfg = join(dir, 'ts.json');
    writeFileSync(cfg, JSON.stringify({ ...config, scenarios: undefined, detectors: [{ name: './mine.ts', label: 'mine' }] }));
    const r = ssbench(['bench', cfg, '-q', '--out', join(dir, 'ts')]);
    expect(r.stderr).toContain('1 cells in');
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'ts', 'summary.json'), 'utf8'));
    expect(summary.cells[0].detector).toBe('mine');
    expect(summary.cells[0].auc).toBeGreaterThan(0);
  });

  it('lists every plugin with its parameters and defaults', () => {
    const r = ssbench(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}blum-count: /m);
    expect(r.stdout).toMatch(/^ {4}pDelta +default 5; an integer >= 0\./m);
    expect(r.stdout).toMatch(/^ {2}wang-ipd: /m);
    expect(r.stdout).toMatch(/^ {4}cpf +default "mms"; one of "mms", "pearson", "ndp"\./m);
    expect(r.stdout).toMatch(/^ {2}chaff: .*\(touches both\)/m);
    expect(r.stdout).toMatch(/^ {4}max +default 0\.5 s; a number >= 0\./m);
    expect(r.stdout).toMatch(/^ {2}synthetic-ssh: /m);
  });
});
