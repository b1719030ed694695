/** Writes a run's results folder. Every file is written atomically. */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type RunConfig, publicConfig } from './config.js';
import { writeFileAtomic, writeFileAtomicParts } from './fsutil.js';
import { provenance } from './provenance.js';
import type { RunOutcome } from './runner.js';
import type { Summary } from './summary.js';
import { csvField, csvTable, markdownTables } from './tables.js';

/**
 * Raw scores, one line per (cell, pair): enough to compute any other metric later.
 * Written as a series of gzip members of at most BLOCK lines each (a valid .gz that every
 * gunzip reads as one stream), so a million-pair run never holds the whole text.
 */
function* scoresCsvGz(c: RunConfig, outcome: RunOutcome): Generator<Buffer> {
  const BLOCK = 50_000;
  let lines = ['dataset,scenario,level,detector,pair,relayed,score'];
  // Level 9 and gzip's fixed header (no name, no time) keep the bytes identical between runs.
  const flush = () => {
    const out = gzipSync(lines.join('\n') + '\n', { level: 9 });
    lines = [];
    return out;
  };
  for (const [gi, g] of outcome.plan.groups.entries()) {
    if (!outcome.included[gi]) continue;
    for (const [di, d] of c.detectors.entries()) {
      if (outcome.groups[gi].errors[di].length) continue;
      const s = outcome.groups[gi].scores[di];
      const prefix = [g.dataset.name, g.setting.scenario, g.setting.label, d.label].map(csvField).join(',');
      for (let i = 0; i < s.length; i++) {
        lines.push(`${prefix},${i},${i < g.dataset.positives ? 1 : 0},${s[i]}`);
        if (lines.length === BLOCK) yield flush();
      }
    }
  }
  if (lines.length) yield flush();
}

export function writeResults(dir: string, c: RunConfig, outcome: RunOutcome, summary: Summary, wallSeconds: number): string[] {
  const files: [string, string | Uint8Array][] = [
    ['config.json', JSON.stringify(publicConfig(c), null, 2) + '\n'],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
    ['table.md', markdownTables(summary)],
    ['table.csv', csvTable(summary)],
    [
      'run.json',
      JSON.stringify(
        // Wall time and finish time last: the only lines that differ between two runs of one config.
        { ...provenance(c), workers: c.workers, wall_seconds: Number(wallSeconds.toFixed(2)), finished: new Date().toISOString() },
        null,
        2,
      ) + '\n',
    ],
  ];
  writeFileAtomicParts(join(dir, 'scores.csv.gz'), scoresCsvGz(c, outcome));
  for (const [name, data] of files) writeFileAtomic(join(dir, name), data);
  return [join(dir, 'scores.csv.gz'), ...files.map(([n]) => join(dir, n))];
}
