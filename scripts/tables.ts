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
import { paperComparison } from '../src/paper/compare.js';
import { PAPER_CITATION } from '../src/paper/reference.js';
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
  const r = spawnSync(process.execPath, [cli, ...argv], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

ssbench(['bench', args.config, '--out', out, '--fresh', '--quiet', ...(args.workers ? ['--workers', args.workers] : [])]);
ssbench(['report', out]);

const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
const dataset = summary.cells[0]?.dataset ?? 'ssh';
const comparison = paperComparison(summary, {
  chaff: { dataset, scenario: 'chaff', key: 'chaff.ratio' },
  delay: { dataset, scenario: 'delay', key: 'delay.max' },
  chain: { dataset, scenario: 'chain', key: 'source.chain' },
});
writeFileAtomic(
  join(out, 'comparison.md'),
  [
    '# ssbench beside the paper',
    '',
    `${PAPER_CITATION}`,
    '',
    'Each cell: the detection rate ssbench measured / the one the paper reports, at FPR 0.4 %.',
    "The paper's figures are drawn, in every public version of its source, from simulated",
    'scores and hard-coded vectors; these are the first numbers regenerated from running',
    'detectors. Differences are explained in results/paper/README.md, never tuned away.',
    '',
    comparison,
  ].join('\n'),
);
process.stderr.write(`comparison with the paper: ${join(out, 'comparison.md')}\n`);
