/**
 * Calibration of the synthetic interactive-SSH source against a real capture: the same
 * features are taken from the capture's labelled pairs and from synthetic pairs, and
 * compared feature by feature with the two-sample Kolmogorov–Smirnov distance.
 *
 * `scripts/calibrate.ts` is the command line around it (`npm run calibrate`); the
 * defaults of src/sources/synthetic-ssh.ts were set with it (src/sources/README.md).
 */
import { type Labels, pairsFromLabels, readCapture, readLabels } from '../capture/index.js';
import type { FlowPair } from '../flow.js';
import { checkParams } from '../params.js';
import source from '../sources/synthetic-ssh.js';
import { UserError } from '../errors.js';
import { FEATURES, type FeatureOptions, type FeatureSamples, extractFeatures } from './features.js';
import { ksDistanceSorted, sortedCopy } from './ks.js';
import { quantile } from '../metrics.js';

export { CORE_FEATURES, FEATURES, type FeatureSpec, extractFeatures } from './features.js';
export { ksDistance, ksDistanceSorted } from './ks.js';
export { histogramSpec } from './plot.js';

/**
 * Which pairs' connections are compared. `relayed`: the relayed pairs only, on both
 * sides (interactive sessions through S in both the capture and the source, the
 * population the source models most closely). `all`: every labelled pair (in a capture
 * that includes the benign sessions and any bulk copies at S) against relayed and
 * non-relayed synthetic pairs in equal numbers.
 */
export type Population = 'relayed' | 'all';

export interface FeatureComparison {
  id: string;
  label: string;
  unit: string;
  log: boolean;
  ks: number;
  nReal: number;
  nSynthetic: number;
  medianReal: number;
  medianSynthetic: number;
}

export interface CalibrationResult {
  features: FeatureComparison[];
  /** Sorted samples by feature id, for plots. */
  real: FeatureSamples;
  synthetic: FeatureSamples;
}

/** Keeps the pairs of a population. */
export function population(pairs: readonly FlowPair[], which: Population): FlowPair[] {
  return which === 'relayed' ? pairs.filter((p) => p.relayed) : [...pairs];
}

/** Compares the features of two sets of pairs. */
export function compare(real: readonly FlowPair[], synthetic: readonly FlowPair[], options: FeatureOptions = {}): CalibrationResult {
  const r = extractFeatures(real, options);
  const s = extractFeatures(synthetic, options);
  const features: FeatureComparison[] = [];
  const realSorted: FeatureSamples = {};
  const synthSorted: FeatureSamples = {};
  for (const f of FEATURES) {
    const a = sortedCopy(r[f.id]);
    const b = sortedCopy(s[f.id]);
    realSorted[f.id] = a;
    synthSorted[f.id] = b;
    features.push({
      id: f.id,
      label: f.label,
      unit: f.unit,
      log: f.log,
      ks: ksDistanceSorted(a, b),
      nReal: a.length,
      nSynthetic: b.length,
      medianReal: quantile(a, 0.5),
      medianSynthetic: quantile(b, 0.5),
    });
  }
  return { features, real: realSorted, synthetic: synthSorted };
}

type SourceParams = Parameters<typeof source.pair>[1];

/** The synthetic source's parameters: its defaults, with `overrides` on top (validated). */
export function syntheticParams(overrides: Record<string, unknown> = {}): SourceParams {
  const r = checkParams(source.params, overrides, false);
  if (!r.ok) {
    throw new UserError(`synthetic-ssh params: ${r.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  }
  const p = r.value as SourceParams;
  source.check?.(p);
  return p;
}

/**
 * `positives` relayed pairs and `negatives` others from the synthetic source, indexed as
 * a dataset of that many pairs (relayed first), so a run of the harness with the same
 * seed and dataset name makes the same pairs.
 */
export function syntheticPairs(args: { params: SourceParams; positives: number; negatives?: number; seed?: number; dataset?: string }): FlowPair[] {
  const seed = args.seed ?? 1;
  const dataset = args.dataset ?? 'calibration';
  const negatives = args.negatives ?? 0;
  const out: FlowPair[] = [];
  for (let i = 0; i < args.positives + negatives; i++) {
    const relayed = i < args.positives;
    out.push(source.pair({ seed, dataset, index: i, relayed, rank: relayed ? i : i - args.positives }, args.params));
  }
  return out;
}

/** The labelled pairs of a capture, read with src/capture. */
export async function capturePairs(capture: string, labels: string): Promise<FlowPair[]> {
  const cap = await readCapture(capture);
  const lab: Labels = await readLabels(labels);
  return pairsFromLabels(cap.connections, lab, { dataset: 'capture' });
}

export interface CalibrateOptions {
  /** Synthetic relayed pairs (and, for population `all`, as many others). */
  pairs: number;
  params?: Record<string, unknown>;
  population?: Population;
  seed?: number;
  features?: FeatureOptions;
}

/** The whole comparison: a capture's labelled pairs against synthetic ones. */
export function calibrate(realPairs: readonly FlowPair[], options: CalibrateOptions): CalibrationResult {
  const which = options.population ?? 'relayed';
  const params = syntheticParams(options.params ?? {});
  const synth = syntheticPairs({
    params,
    positives: options.pairs,
    negatives: which === 'all' ? options.pairs : 0,
    seed: options.seed,
  });
  return compare(population(realPairs, which), synth, options.features);
}

/** One line per feature: `id  KS 0.123  (real n=…, synthetic n=…; medians …)`. */
export function formatLine(c: FeatureComparison): string {
  const med = (v: number) => (Number.isNaN(v) ? 'n/a' : c.unit === 'B' ? v.toFixed(0) : v.toPrecision(3));
  const ks = Number.isNaN(c.ks) ? ' n/a ' : c.ks.toFixed(3);
  return `${c.id.padEnd(12)} KS ${ks}  (real n=${c.nReal}, synthetic n=${c.nSynthetic}; median ${med(c.medianReal)} vs ${med(c.medianSynthetic)} ${c.unit})`;
}
