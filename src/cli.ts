#!/usr/bin/env node
/** ssbench's command line: `bench <config>` runs a benchmark, `list` shows the plugins. */
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { loadConfig } from './config.js';
import { UserError } from './errors.js';
import { exportTraining } from './export.js';
import { ownPackage } from './fsutil.js';
import { listPlugins } from './list.js';
import { writeResults } from './outputs.js';
import { progressReporter } from './progress.js';
import { writeReport } from './report/index.js';
import { Journal } from './journal.js';
import { mergeShards, writeMergedJournal } from './merge.js';
import { fingerprint, parseShard, runConfig } from './runner.js';
import { type Summary, summarize } from './summary.js';
import { markdownTables } from './tables.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command()
  .name('ssbench')
  .description('Benchmark stepping-stone detectors under chaff and delay evasion')
  .version(ownPackage().version)
  .option('--debug', 'show stack traces of errors');

program
  .command('bench')
  .description('run the benchmark described by a config file (resumes an interrupted run in the same folder)')
  .argument('<config>', 'config JSON file')
  .option('-w, --workers <n>', 'worker threads (default: the config, else the cores, at most 8)', positiveInt)
  .option('-o, --out <dir>', 'results folder (default: results/<run name>, or results/<run name>/shard-i-of-n)')
  .option('--shard <i/n>', 'run only shard i of n (0 <= i < n); merge the shard folders afterwards')
  .option('--fresh', 'discard what an earlier run left in the results folder')
  .option('--fail-fast', 'stop at the first failed chunk instead of failing its cells and going on')
  .option('-q, --quiet', 'print no tables, only where the results are')
  .action(async (file, opts) => {
    const started = performance.now();
    const config = await loadConfig(file, { workers: opts.workers });
    const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
    const shardName = shard ? `shard-${shard.index}-of-${shard.count}` : undefined;
    const out = resolve(opts.out ?? (shardName ? join('results', config.name, shardName) : join('results', config.name)));
    const { journal, done } = Journal.open(
      join(out, 'chunks.bin'),
      { fingerprint: fingerprint(config), shard: shard ? `${shard.index}/${shard.count}` : null },
      Boolean(opts.fresh),
    );
    if (done.length) process.stderr.write(`resuming from ${out}: ${done.length} chunk(s) already done\n`);
    const abort = new AbortController();
    const onSignal = () => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\nstopping after the chunks in progress (press Ctrl-C again to stop now)\n');
      abort.abort();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    const progress = progressReporter(shardName ? `${config.name} ${shardName}` : config.name);
    let outcome;
    try {
      outcome = await runConfig(config, {
        journal,
        done,
        shard,
        signal: abort.signal,
        failFast: Boolean(opts.failFast),
        onWarning: (m) => process.stderr.write(`\nssbench: ${m}\n`),
        onProgress: (d, total) => progress.update(d, total),
      });
    } finally {
      progress.stop();
      journal.close();
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    const summary = summarize(config, outcome);
    const wall = (performance.now() - started) / 1000;
    writeResults(out, config, outcome, summary, wall);
    if (!opts.quiet) process.stdout.write(markdownTables(summary) + '\n');
    reportCells(summary, wall, `with ${config.workers} worker(s); results in ${out}`);
  });

program
  .command('merge')
  .description('combine the results folders of the shards of one run into the results of the whole run')
  .argument('<dirs...>', 'shard results folders')
  .requiredOption('-o, --out <dir>', 'results folder of the merged run')
  .option('-q, --quiet', 'print no tables')
  .action((dirs, opts) => {
    const started = performance.now();
    const { config, outcome } = mergeShards(dirs);
    const summary = summarize(config, outcome);
    const out = resolve(opts.out);
    writeResults(out, config, outcome, summary, 0);
    writeMergedJournal(join(out, 'chunks.bin'), config, outcome);
    if (!opts.quiet) process.stdout.write(markdownTables(summary) + '\n');
    reportCells(summary, (performance.now() - started) / 1000, `merged from ${dirs.length} folder(s) into ${out}`);
  });

function reportCells(summary: Summary, wall: number, where: string): void {
  const failed = summary.cells.filter((c) => c.error).length;
  process.stderr.write(`${summary.cells.length} cells in ${wall.toFixed(1)} s ${where}\n`);
  if (failed) {
    process.stderr.write(`${failed} cell(s) failed; see summary.json\n`);
    process.exitCode = 1;
  }
}

program
  .command('report')
  .description('write paper-ready outputs of a results folder: LaTeX tables, SVG plots and an HTML page')
  .argument('<dir>', 'results folder written by bench or merge')
  .option('-o, --out <dir>', 'report folder (default: the results folder)')
  .option('--ci', 'LaTeX tables: give each entry its bootstrap interval')
  .option('--min-fpr <f>', 'lower end of the ROC plots\' FPR axis (default 1e-4, or 1/negatives when that is larger)', (v) => {
    const n = Number(v);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
    return n;
  })
  .action(async (dir, opts) => {
    const started = performance.now();
    const r = await writeReport(dir, { out: opts.out, ci: Boolean(opts.ci), minFpr: opts.minFpr });
    const wall = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`report in ${wall} s: tables.tex, index.html and ${r.plots} plots in ${r.out}\n`);
  });

program
  .command('export')
  .description('write the training and validation pairs of a config as .npy feature arrays for training a model')
  .argument('<config>', 'config JSON file with a training and a validation dataset')
  .requiredOption('-o, --out <dir>', 'folder for train_X.npy, train_y.npy, val_X.npy, val_y.npy, meta.json')
  .option('--layout <name>', 'feature layout: deepcorr or timebins', 'deepcorr')
  .option('--length <n>', 'deepcorr: packets per stream', positiveInt, 100)
  .option('--bins <n>', 'timebins: number of bins', positiveInt, 120)
  .option('--width <seconds>', 'timebins: bin width', Number, 0.5)
  .option('--train <dataset>', 'dataset of training pairs', 'train')
  .option('--val <dataset>', 'dataset of validation pairs', 'val')
  .option('--scenario <name>', 'perturb the training pairs with every setting of this scenario (adversarial training)')
  .action(async (file, opts) => {
    const config = await loadConfig(file);
    const params: Record<string, number> = opts.layout === 'timebins' ? { bins: opts.bins, width: opts.width } : { length: opts.length };
    const progress = progressReporter(`${config.name} export`, 'pairs');
    const meta = await exportTraining(config, {
      out: resolve(opts.out),
      layout: { name: opts.layout, version: 1, params },
      train: opts.train,
      val: opts.val,
      scenario: opts.scenario,
      onProgress: (d, t) => progress.update(d, t),
    }).finally(() => progress.stop());
    process.stderr.write(`exported ${JSON.stringify(meta.train)} and ${JSON.stringify(meta.val)} to ${resolve(opts.out)}\n`);
  });

program
  .command('list')
  .description('list detectors, perturbations and sources with their parameters')
  .action(async () => {
    process.stdout.write(await listPlugins());
  });

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof UserError && !program.opts().debug) {
    process.stderr.write(`ssbench: ${e.message.split('\n').join('\nssbench: ')}\n`);
  } else {
    process.stderr.write(`ssbench: ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exitCode = e instanceof UserError ? e.exitCode : 2;
}
