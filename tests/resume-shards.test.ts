import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../src/journal.js';
import { buildCli, root, ssbench } from './helpers.js';

let cli = '';
const FILES = ['summary.json', 'table.md', 'table.csv', 'scores.csv.gz', 'config.json'];


function expectSameResults(a: string, b: string): void {
  for (const f of FILES) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
}

const config = {
  name: 'resume-test',
  seed: 9,
  chunkSize: 10,
  bootstrap: 30,
  datasets: [{ name: 'ssh', positives: 60, negatives: 90, params: { duration: 60 } }],
  scenarios: [
    { name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 0.5, 1] } }] },
    { name: 'delay', perturbations: [{ name: 'delay', params: { max: [0, 1] } }] },
  ],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }],
};
const TASKS = 5 * 15; // 5 settings, 150 pairs in chunks of 10

describe('resume and shards (compiled CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssbench-resume-'));
  const file = join(dir, 'cfg.json');
  const whole = join(dir, 'whole');

  beforeAll(() => {
    cli = buildCli();
    writeFileSync(file, JSON.stringify(config));
    expect(ssbench(['bench', file, '-q', '--workers', '2', '--out', whole]).code).toBe(0);
  });

  it('resumes a run killed mid-way and ends byte-identical to an uninterrupted one', async () => {
    const out = join(dir, 'killed');
    const journal = join(out, 'chunks.bin');
    const child = spawn(process.execPath, [cli, 'bench', file, '-q', '--workers', '1', '--out', out], { cwd: root });
    // Kill it (no chance to clean up) once a few chunks are in the journal.
    await new Promise<void>((done, fail) => {
      const poll = setInterval(() => {
        if (existsSync(journal) && readJournal(journal).chunks.length >= 3) {
          clearInterval(poll);
          child.kill('SIGKILL');
          done();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(poll);
        fail(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((r) => child.on('exit', r));
    const left = readJournal(journal).chunks.length;
    expect(left).toBeGreaterThanOrEqual(3);
    expect(left).toBeLessThan(TASKS);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    // A kill can also cut a record in half: the rerun must drop the torn tail.
    appendFileSync(journal, Buffer.from([200, 1, 0, 0, 7, 7, 7]));
    const r = ssbench(['bench', file, '-q', '--workers', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`resuming from ${out}: ${left} chunk(s) already done`);
    expectSameResults(whole, out);
    expect(readJournal(journal).chunks).toHaveLength(TASKS);
  });

  it('refuses to resume a folder written by a different config', () => {
    const changed = join(dir, 'changed.json');
    writeFileSync(changed, JSON.stringify({ ...config, seed: 10 }));
    const r = ssbench(['bench', changed, '-q', '--out', whole]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `ssbench: ${join(whole, 'chunks.bin')}: this results folder holds a different run (its config or shard differs); use another --out, or --fresh to discard it`,
    );
    // The refused run left the folder as it was.
    expect(readJournal(join(whole, 'chunks.bin')).chunks).toHaveLength(TASKS);
  });

  it('merges two shards into results byte-identical to one run', () => {
    const shards = [0, 1].map((i) => {
      const out = join(dir, `shard${i}`);
      const r = ssbench(['bench', file, '-q', '--shard', `${i}/2`, '--out', out]);
      expect(r.code).toBe(0);
      return out;
    });
    // Settings alternate between the shards: 3 of the 5 in shard 0, 2 in shard 1.
    const cells = shards.map((s) => JSON.parse(readFileSync(join(s, 'summary.json'), 'utf8')).cells.length);
    expect(cells).toEqual([6, 4]);
    const merged = join(dir, 'merged');
    const r = ssbench(['merge', ...shards, '-q', '--out', merged]);
    expect(r.code).toBe(0);
    expectSameResults(whole, merged);
    // The merged journal is complete, so the merged folder is a results folder like any other.
    const again = ssbench(['bench', file, '-q', '--out', merged]);
    expect(again.stderr).toContain(`${TASKS} chunk(s) already done`);
    expectSameResults(whole, merged);
  });

  it('refuses to merge when a shard is missing', () => {
    const r = ssbench(['merge', join(dir, 'shard0'), '-q', '--out', join(dir, 'partial')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ssbench: merge: 30 of 75 chunks are in none of the folders \(settings ssh\/chaff\/ratio=0.5, ssh\/delay\/max=0\); is a shard missing or unfinished, or did chunks fail\?/);
    expect(existsSync(join(dir, 'partial', 'summary.json'))).toBe(false);
  });

  it('refuses a malformed --shard', () => {
    const r = ssbench(['bench', file, '--shard', '2/2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('ssbench: --shard: expected i/n with 0 <= i < n (e.g. 0/4), got "2/2"');
  });
});
