/**
 * Regenerates the paper's tables: `npm run tables [-- --config FILE --out DIR]`.
 *
 * Runs the config from scratch (never resumed, so the numbers are this code's), writes
 * the report (LaTeX, plots, index.html) and the comparison with the numbers the paper
 * reports. Defaults: configs/paper.json into results/paper/.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/fsutil.js';
import { comparisonDocument } from '../src/paper/compare.js';
import type { Summary } from '../src/summary.js';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/paper.json' },
    out: { type: 'string', default: 'results/paper' },
    workers: { type: 'string' },
  },
});
const cli = resolve(import.meta.dirname, '..', 'src', 'cli.js');
const out = resolve(args.out);

function ssbench(argv: string[]): void {
  // With the V8 flags this script was started with (package.json; see README, Performance).
  const r = spawnSync(process.execPath, [...process.execArgv, cli, ...argv], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

ssbench(['bench', args.config, '--out', out, '--fresh', '--quiet', ...(args.workers ? ['--workers', args.workers] : [])]);
ssbench(['report', out]);

const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
writeFileAtomic(join(out, 'comparison.md'), comparisonDocument(summary));
process.stderr.write(`comparison with the paper: ${join(out, 'comparison.md')}\n`);
