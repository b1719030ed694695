/**
 * Performance figures: `npm run perf [-- --quick] [--out FILE]`. Prints medians over
 * repeated runs and writes them as JSON. A benchmark, not a test: nothing here asserts.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { FlowPair } from '../src/flow.js';
import { resolveConfig } from '../src/config.js';
import { defaultParams, type Params } from '../src/params.js';
import type { AnyDetector, AnyPerturbation } from '../src/plugin.js';
import { builtinNames, loadPlugin, resolvePlugin } from '../src/registry.js';
import { rngFor } from '../src/rng.js';
import { runConfig } from '../src/runner.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string', default: 'results/perf.json' } },
});
const REPEATS = args.quick ? 3 : 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median seconds of `fn` over REPEATS runs, after one warm-up run; awaits async work. */
async function time(fn: () => unknown): Promise<number> {
  await fn();
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    await fn();
    runs.push((performance.now() - t0) / 1000);
  }
  return median(runs);
}

const cwd = process.cwd();
const source = await loadPlugin('source', resolvePlugin('source', 'synthetic-ssh', cwd));
const sourceDefaults = defaultParams(source.params);

function makePairs(n: number, duration: number): FlowPair[] {
  const params = { ...sourceDefaults, duration };
  return Array.from({ length: n }, (_, i) => source.pair({ seed: 1, dataset: 'perf', index: i, relayed: i % 2 === 0 }, params));
}

function packetsOf(pairs: FlowPair[]): number {
  return pairs.reduce((s, p) => s + p.incoming.t.length + p.outgoing.t.length, 0);
}

const report: Record<string, unknown> = { node: process.version, repeats: REPEATS };
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(3));

// 1. Source generation, as the runner does it: a chunk of pairs at a time (the default
// chunk size), each chunk dropped once its pairs are read; and, for comparison, every
// pair kept, which adds the collector's work of promoting what stays alive.
{
  const n = args.quick ? 500 : 2000;
  const chunk = 200;
  const params = { ...sourceDefaults, duration: 60 };
  let packets = 0;
  const chunked = await time(() => {
    for (let start = 0; start < n; start += chunk) {
      const pairs: FlowPair[] = [];
      for (let i = start; i < Math.min(n, start + chunk); i++) pairs.push(source.pair({ seed: 1, dataset: 'perf', index: i, relayed: i % 2 === 0 }, params));
      packets += packetsOf(pairs);
    }
  });
  const kept = await time(() => makePairs(n, 60));
  report.source = { duration_s: 60, pairs: n, chunk, pairs_per_s: n / chunked, pairs_per_s_all_kept: n / kept, packets_per_pair: packets / ((REPEATS + 1) * n) };
  console.log(`source synthetic-ssh (60 s sessions): ${fmt(n / chunked)} pairs/s on one core, in chunks of ${chunk} as the runner makes them (${fmt(n / kept)} with all ${n} kept)`);
}

// 2. Detectors at three flow lengths, and perturbations, on the same pairs.
const detectors: [string, AnyDetector][] = [];
for (const name of builtinNames('detector')) detectors.push([name, await loadPlugin('detector', resolvePlugin('detector', name, cwd))]);
const perturbations: [string, AnyPerturbation, Params][] = [];
for (const name of builtinNames('perturbation')) {
  const def = await loadPlugin('perturbation', resolvePlugin('perturbation', name, cwd));
  perturbations.push([name, def, defaultParams(def.params)]);
}

// About 8 packets per second per connection: 12 s, 2 min and 20 min give ~100, ~1,000, ~10,000.
const lengths = [
  { label: '~100', duration: 12, n: args.quick ? 400 : 1500 },
  { label: '~1000', duration: 120, n: args.quick ? 60 : 200 },
  { label: '~10000', duration: 1200, n: args.quick ? 8 : 24 },
];
const detectorRows: Record<string, unknown>[] = [];
const perturbationRows: Record<string, unknown>[] = [];
console.log('\nper pair, median of', REPEATS, 'runs (packets = both connections of a pair)');
console.log('length   plugin          pairs/s     packets/s');
for (const L of lengths) {
  const pairs = makePairs(L.n, L.duration);
  const packets = packetsOf(pairs);
  const meanPackets = packets / pairs.length;
  for (const [name, def] of detectors) {
    const params = defaultParams(def.params);
    const secs = await time(() => def.score(pairs, params, { threads: 1 }));
    detectorRows.push({ detector: name, length: L.label, packets_per_pair: meanPackets, pairs_per_s: L.n / secs, packets_per_s: packets / secs });
    console.log(`${L.label.padEnd(8)} ${name.padEnd(15)} ${fmt(L.n / secs).padStart(10)} ${fmt(packets / secs).padStart(12)}`);
  }
  for (const [name, def, params] of perturbations) {
    const secs = await time(() => {
      pairs.forEach((p, i) => def.apply(p, params, rngFor(1, 'perf', i)));
    });
    perturbationRows.push({ perturbation: name, length: L.label, packets_per_pair: meanPackets, pairs_per_s: L.n / secs, packets_per_s: packets / secs });
    console.log(`${L.label.padEnd(8)} ${`+${name}`.padEnd(15)} ${fmt(L.n / secs).padStart(10)} ${fmt(packets / secs).padStart(12)}`);
  }
}
report.detectors = detectorRows;
report.perturbations = perturbationRows;

// Growth between lengths: time per pair at 10x the packets, relative to 10x (1.0 = linear).
console.log('\ncost growth per 10x packets (1.0 = linear; time ratio divided by packet ratio)');
const growth: Record<string, unknown>[] = [];
for (const rows of [detectorRows, perturbationRows]) {
  const names = [...new Set(rows.map((r) => (r.detector ?? r.perturbation) as string))];
  for (const name of names) {
    const own = rows.filter((r) => (r.detector ?? r.perturbation) === name);
    const perPair = own.map((r) => ({ secs: 1 / (r.pairs_per_s as number), packets: r.packets_per_pair as number }));
    const steps = perPair.slice(1).map((r, i) => r.secs / perPair[i].secs / (r.packets / perPair[i].packets));
    growth.push({ plugin: name, growth: steps });
    console.log(`${name.padEnd(15)} ${steps.map((s) => s.toFixed(2)).join('  ')}`);
  }
}
report.growth = growth;

// Perturbation cost against the cheapest detector on the same pairs (60 s sessions).
{
  const row = (rows: Record<string, unknown>[], key: string) =>
    rows.filter((r) => r.length === '~1000').map((r) => ({ name: r[key] as string, secs: 1 / (r.pairs_per_s as number) }));
  const cheapest = row(detectorRows, 'detector').sort((a, b) => a.secs - b.secs)[0];
  console.log(`\nperturbation cost per pair relative to the cheapest detector (${cheapest.name}), ~1,000 packets`);
  const rel = row(perturbationRows, 'perturbation').map((p) => ({ perturbation: p.name, ratio: p.secs / cheapest.secs }));
  for (const r of rel) console.log(`${r.perturbation.padEnd(15)} ${(100 * r.ratio).toFixed(0)}%`);
  report.perturbation_vs_cheapest_detector = { detector: cheapest.name, ratios: rel };
}

// 3. Pool scaling: the same CPU-bound run with 1 and 2 worker threads.
{
  const pairs = args.quick ? 4000 : 16000;
  const raw = {
    name: 'perf-pool',
    seed: 1,
    chunkSize: 500,
    bootstrap: 0,
    datasets: [{ name: 'ssh', positives: pairs / 2, negatives: pairs / 2 }],
    // The hand-written detectors: a model detector already uses cores / workers threads
    // inside one worker, which would blur what the pool itself adds.
    detectors: builtinNames('detector')
      .filter((name) => !resolvePlugin('detector', name, cwd).endsWith('.json'))
      .map((name) => ({ name })),
  };
  const configs = { 1: await resolveConfig(raw, 'perf-pool.json', { workers: 1 }), 2: await resolveConfig(raw, 'perf-pool.json', { workers: 2 }) };
  const runs: Record<number, number[]> = { 1: [], 2: [] };
  // Alternating 1 and 2 workers, so that a slow spell of this shared machine hits both.
  for (let r = 0; r < Math.min(REPEATS, 5); r++) {
    for (const workers of [1, 2] as const) {
      const t0 = performance.now();
      await runConfig(configs[workers]);
      runs[workers].push((performance.now() - t0) / 1000);
    }
  }
  const wall = { 1: median(runs[1]), 2: median(runs[2]) };
  const ratios = runs[1].map((w1, i) => w1 / runs[2][i]);
  const speedup = wall[1] / wall[2];
  report.pool = { pairs, detectors: raw.detectors.length, runs_s: runs, wall_s: wall, speedup_2_vs_1: speedup, speedup_per_round: ratios };
  console.log(
    `\npool: ${pairs} pairs of 60 s, every hand-written detector: median ${wall[1].toFixed(2)} s with 1 worker, ${wall[2].toFixed(2)} s with 2: ${speedup.toFixed(2)}x` +
      ` (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
  );
}

// 4. Model detectors (no code of their own): scoring throughput, features included, at
// batch 1 and at the manifest's batch, on 1 and 2 threads running side by side.
{
  const models = builtinNames('detector').filter((n) => resolvePlugin('detector', n, cwd).endsWith('.json'));
  const rows: Record<string, unknown>[] = [];
  const n = args.quick ? 1024 : 4096;
  if (models.length) console.log('\nmodel detectors, 60 s pairs, features included (pairs/s, all threads together)');
  for (const name of models) {
    for (const [batchSize, workers] of [[1, 1], [0, 1], [0, 2]] as const) {
      const count = batchSize === 1 ? n / 4 : n;
      const secs = await Promise.all(
        Array.from({ length: workers }, (_, w) =>
          new Promise<number>((done, fail) => {
            new Worker(new URL('./perf-detector-worker.js', import.meta.url), {
              workerData: { detector: name, pairs: count, batchSize: batchSize || undefined, threads: 1, repeats: Math.min(REPEATS, 5), offset: w * count },
            })
              .on('message', done)
              .on('error', fail);
          }),
        ),
      );
      const rate = (workers * count) / Math.max(...secs);
      const batchLabel = batchSize === 1 ? 'batch 1' : 'manifest batch';
      rows.push({ detector: name, batch: batchLabel, workers, pairs_per_s: rate });
      console.log(`${name.padEnd(15)} ${batchLabel.padEnd(15)} ${workers} worker(s) ${fmt(rate).padStart(10)}`);
    }
  }
  report.models = rows;
}

report.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
console.log(`\npeak RSS ${fmt(report.peak_rss_mb as number)} MB`);
writeFileSync(args.out, JSON.stringify(report, null, 2) + '\n');
console.log(`written to ${args.out}`);
