#!/usr/bin/env node
/** ssbench's command line: `bench <config>` runs a benchmark, `list` shows the plugins. */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { loadConfig } from './config.js';
import { UserError } from './errors.js';
import { ownPackage } from './fsutil.js';
import { listPlugins } from './list.js';
import { writeResults } from './outputs.js';
import { progressReporter } from './progress.js';
import { runConfig } from './runner.js';
import { summarize } from './summary.js';
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
  .description('run the benchmark described by a config file')
  .argument('<config>', 'config JSON file')
  .option('-w, --workers <n>', 'worker threads (default: the config, else the cores, at most 8)', positiveInt)
  .option('-o, --out <dir>', 'results folder (default: results/<run name>)')
  .option('-q, --quiet', 'print no tables, only where the results are')
  .action(async (file, opts) => {
    const started = performance.now();
    const config = await loadConfig(file, { workers: opts.workers });
    const out = resolve(opts.out ?? resolve('results', config.name));
    const progress = progressReporter(config.name);
    const outcome = await runConfig(config, (done, total) => progress.update(done, total)).finally(() => progress.stop());
    const summary = summarize(config, outcome);
    const wall = (performance.now() - started) / 1000;
    writeResults(out, config, outcome, summary, wall);
    if (!opts.quiet) process.stdout.write(markdownTables(summary) + '\n');
    const failed = summary.cells.filter((c) => c.error).length;
    process.stderr.write(`${summary.cells.length} cells in ${wall.toFixed(1)} s with ${config.workers} worker(s); results in ${out}\n`);
    if (failed) {
      process.stderr.write(`${failed} cell(s) failed; see summary.json\n`);
      process.exitCode = 1;
    }
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
  process.exitCode = 2;
}
