/**
 * Compares the synthetic interactive-SSH source with a real capture, feature by feature:
 *
 *   npm run calibrate [-- --capture FILE --labels FILE --out DIR --pairs N
 *                         --params JSON --population relayed|all --seed N]
 *
 * Defaults (relative to the working directory, the repository root under npm): the
 * committed fixture (fixtures/real-capture/), results/calibration/, 300
 * synthetic relayed pairs from the source's defaults. Prints one line per feature with
 * the two-sample Kolmogorov–Smirnov distance and the sample sizes, and writes
 * calibration.json (the figures) and one SVG per feature (the two histograms side by
 * side). The logic lives in src/calibration/.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURES, type Population, calibrate, capturePairs, formatLine, histogramSpec } from '../src/calibration/index.js';
import { UserError } from '../src/errors.js';
import { writeFileAtomic } from '../src/fsutil.js';
import { renderSvg } from '../src/report/plots.js';

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      capture: { type: 'string', default: 'fixtures/real-capture/capture.pcap.gz' },
      labels: { type: 'string', default: 'fixtures/real-capture/labels.csv' },
      out: { type: 'string', default: 'results/calibration' },
      pairs: { type: 'string', default: '300' },
      params: { type: 'string', default: '{}' },
      population: { type: 'string', default: 'relayed' },
      seed: { type: 'string', default: '1' },
    },
  });
  const pairs = Number(args.pairs);
  if (!Number.isInteger(pairs) || pairs < 1) throw new UserError(`--pairs: expected a positive integer, got ${JSON.stringify(args.pairs)}`);
  const seed = Number(args.seed);
  if (!Number.isInteger(seed)) throw new UserError(`--seed: expected an integer, got ${JSON.stringify(args.seed)}`);
  if (args.population !== 'relayed' && args.population !== 'all') throw new UserError('--population: expected relayed or all');
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(args.params) as Record<string, unknown>;
  } catch {
    throw new UserError(`--params: not JSON: ${args.params}`);
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new UserError('--params: expected a JSON object of synthetic-ssh parameters');

  const real = await capturePairs(args.capture, args.labels);
  const population = args.population as Population;
  const result = calibrate(real, { pairs, params, population, seed });

  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  process.stdout.write(`${args.capture} (${population} pairs) against synthetic-ssh (${pairs} relayed pairs${population === 'all' ? ` and ${pairs} others` : ''}, seed ${seed}, params ${JSON.stringify(params)})\n`);
  for (const f of result.features) process.stdout.write(`${formatLine(f)}\n`);
  for (const f of FEATURES) {
    const c = result.features.find((x) => x.id === f.id)!;
    const spec = histogramSpec({ feature: f, realSorted: result.real[f.id], synthSorted: result.synthetic[f.id], ks: c.ks });
    writeFileAtomic(join(out, `${f.id}.svg`), await renderSvg(spec));
  }
  const summary = {
    capture: args.capture,
    labels: args.labels,
    population,
    syntheticPairs: pairs,
    seed,
    params,
    features: result.features.map((c) => ({ ...c, ks: Number.isNaN(c.ks) ? null : c.ks })),
  };
  writeFileAtomic(join(out, 'calibration.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`calibration: ${join(out, 'calibration.json')} and ${FEATURES.length} SVGs\n`);
}

main().catch((e: unknown) => {
  if (e instanceof UserError) {
    process.stderr.write(`calibrate: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
});
