/** Writes a run's results folder. Every file is written atomically. */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type RunConfig, publicConfig } from './config.js';
import { ownPackage, writeFileAtomic } from './fsutil.js';
import type { RunOutcome } from './runner.js';
import type { Summary } from './summary.js';
import { csvTable, markdownTables } from './tables.js';

/** Raw scores, one line per (cell, pair): enough to compute any other metric later. */
function scoresCsv(c: RunConfig, outcome: RunOutcome): Buffer {
  const lines = ['dataset,scenario,level,detector,pair,relayed,score'];
  outcome.plan.groups.forEach((g, gi) => {
    if (!outcome.included[gi]) return;
    c.detectors.forEach((d, di) => {
      if (outcome.groups[gi].errors[di].length) return;
      const s = outcome.groups[gi].scores[di];
      const prefix = [g.dataset.name, g.setting.scenario, JSON.stringify(g.setting.label), d.label].join(',');
      for (let i = 0; i < s.length; i++) lines.push(`${prefix},${i},${i < g.dataset.positives ? 1 : 0},${s[i]}`);
    });
  });
  // Level 9 and no timestamp in the header keep the file byte-identical between runs.
  return gzipSync(lines.join('\n') + '\n', { level: 9 });
}

export function writeResults(dir: string, c: RunConfig, outcome: RunOutcome, summary: Summary, wallSeconds: number): string[] {
  const files: [string, string | Uint8Array][] = [
    ['config.json', JSON.stringify(publicConfig(c), null, 2) + '\n'],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
    ['table.md', markdownTables(summary)],
    ['table.csv', csvTable(summary)],
    ['scores.csv.gz', scoresCsv(c, outcome)],
    [
      'run.json',
      JSON.stringify(
        { ssbench: ownPackage().version, node: process.version, workers: c.workers, wall_seconds: Number(wallSeconds.toFixed(2)), finished: new Date().toISOString() },
        null,
        2,
      ) + '\n',
    ],
  ];
  for (const [name, data] of files) writeFileAtomic(join(dir, name), data);
  return files.map(([n]) => join(dir, n));
}
