/**
 * Ano2: Huang & Kuo (ICPADS 2011) and Ding, Le & Huang (IAS 2013): the inter-packet delays
 * of a connection fitted to Pareto and log-normal laws by maximum likelihood, goodness of
 * fit measured, and the fitted parameters and fit statistics classified by a linear SVM.
 * Here the features come from both connections of a pair (each fit, and how far the two
 * fits are apart); train.ts fits the SVM and writes model.json. See README.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIR_FWD, type Flow, type FlowPair } from '../../src/flow.js';
import { ownPackage } from '../../src/fsutil.js';
import { defineDetector } from '../../src/plugin.js';

/** Settings of the feature extraction; they are part of the model (model.json) and fixed by training. */
export interface FeatureConfig {
  /** Bins of the binned goodness-of-fit statistics (equiprobable under the fitted law). */
  bins: number;
  /** Smallest inter-packet delay (s): a log needs a positive value, and timestamps can tie. */
  ipdFloor: number;
}

export const DEFAULT_FEATURES: FeatureConfig = { bins: 16, ipdFloor: 1e-6 };

/** Features of one connection's forward (keystroke) inter-packet delays. */
export const CONNECTION_FEATURES = [
  'lnXm', // Pareto scale: the smallest delay (log s)
  'lnAlpha', // Pareto shape (log)
  'mu', // log-normal: mean of log delays
  'lnSigma', // log-normal: log of the sd of log delays
  'ksPareto', // KS distance to the fitted Pareto law (binned)
  'ksLognormal', // KS distance to the fitted log-normal law (binned)
  'chi2Pareto', // chi-square per delay against the fitted Pareto law
  'chi2Lognormal', // chi-square per delay against the fitted log-normal law
] as const;

const C = CONNECTION_FEATURES.length;

/** The pair's feature vector: the incoming fit, the outgoing fit, and |incoming − outgoing|. */
export const FEATURE_NAMES: readonly string[] = [
  ...CONNECTION_FEATURES.map((f) => `in.${f}`),
  ...CONNECTION_FEATURES.map((f) => `out.${f}`),
  ...CONNECTION_FEATURES.map((f) => `absdiff.${f}`),
];

/**
 * Standard normal CDF, Φ(z) = erfc(−z/√2)/2, with erfc from the Chebyshev fit of Numerical
 * Recipes (fractional error below 1.2e-7 everywhere): ample for binning.
 */
export function normalCdf(z: number): number {
  const x = -z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const r =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t *
          (1.00002368 +
            t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? r : 2 - r;
  return 0.5 * erfc;
}

/** Binned KS distance (to out[ksAt]) and chi-square per observation (to out[chiAt]) of bin counts against equiprobable bins. */
function binnedFit(counts: Float64Array, n: number, out: Float64Array, ksAt: number, chiAt: number): void {
  const B = counts.length;
  const expected = n / B;
  let cum = 0;
  let ks = 0;
  let chi2 = 0;
  for (let b = 0; b < B; b++) {
    cum += counts[b];
    const d = Math.abs(cum / n - (b + 1) / B);
    if (d > ks) ks = d;
    const dev = counts[b] - expected;
    chi2 += (dev * dev) / expected;
  }
  out[ksAt] = ks;
  out[chiAt] = chi2 / n;
}

let binScratch = new Float64Array(32);

/**
 * Features of a connection with fewer than two delays, where no fit is possible: the
 * smallest delay at the floor, α = 1, μ = 0, σ = 1 (logs 0), and the worst fit (KS 1,
 * chi-square 0 as for a single bin).
 */
const NO_FIT = [NaN, 0, 0, 0, 1, 1, 0, 0];

/**
 * Fits the inter-packet delays of the payload packets of `dir` and writes the eight
 * CONNECTION_FEATURES at out[at..at+7]. Two passes over the packets and no allocation:
 *
 * 1. n, min x, Σ ln x, Σ (ln x)². Pareto MLE (scale known as the minimum, the MLE of
 *    x_m): α = n / Σ ln(x / x_m). Log-normal MLE: μ = mean ln x, σ² = mean (ln x − μ)².
 * 2. Each delay into one of B bins that are equiprobable under each fitted law
 *    (u = F(x), bin ⌊u·B⌋): Pareto F = 1 − (x_m/x)^α, log-normal F = Φ((ln x − μ)/σ).
 *    KS distance at the bin edges (within 1/B of the exact KS statistic) and Pearson's
 *    chi-square divided by n.
 */
export function connectionFeatures(f: Flow, dir: number, cfg: FeatureConfig, out: Float64Array, at: number): void {
  const floor = cfg.ipdFloor;
  let n = 0;
  let minL = Infinity;
  let sumL = 0;
  let sumL2 = 0;
  let last = NaN;
  for (let i = 0; i < f.t.length; i++) {
    if (f.dir[i] !== dir || f.size[i] <= 0) continue;
    const t = f.t[i];
    if (last === last) {
      const l = Math.log(Math.max(t - last, floor));
      n++;
      sumL += l;
      sumL2 += l * l;
      if (l < minL) minL = l;
    }
    last = t;
  }
  if (n < 2) {
    for (let k = 0; k < C; k++) out[at + k] = NO_FIT[k];
    out[at] = Math.log(floor);
    return;
  }
  const mu = sumL / n;
  const sigma = Math.max(Math.sqrt(Math.max(0, sumL2 / n - mu * mu)), 1e-3);
  const excess = sumL - n * minL; // Σ ln(x / x_m)
  const alpha = Math.min(excess > 0 ? n / excess : 1e3, 1e3);
  out[at] = minL;
  out[at + 1] = Math.log(alpha);
  out[at + 2] = mu;
  out[at + 3] = Math.log(sigma);

  const B = cfg.bins;
  if (binScratch.length < 2 * B) binScratch = new Float64Array(2 * B);
  const pBins = binScratch.subarray(0, B).fill(0);
  const lBins = binScratch.subarray(B, 2 * B).fill(0);
  last = NaN;
  for (let i = 0; i < f.t.length; i++) {
    if (f.dir[i] !== dir || f.size[i] <= 0) continue;
    const t = f.t[i];
    if (last === last) {
      const l = Math.log(Math.max(t - last, floor));
      const uP = 1 - Math.exp(-alpha * (l - minL));
      const uL = normalCdf((l - mu) / sigma);
      pBins[Math.min(B - 1, Math.floor(uP * B))]++;
      lBins[Math.min(B - 1, Math.floor(uL * B))]++;
    }
    last = t;
  }
  binnedFit(pBins, n, out, at + 4, at + 6);
  binnedFit(lBins, n, out, at + 5, at + 7);
}

/** The pair's FEATURE_NAMES vector, written into `out` (length ≥ 3 × 8). O(n) in the pair's packets. */
export function pairFeatures(pair: FlowPair, cfg: FeatureConfig, out: Float64Array): Float64Array {
  connectionFeatures(pair.incoming, DIR_FWD, cfg, out, 0);
  connectionFeatures(pair.outgoing, DIR_FWD, cfg, out, C);
  for (let k = 0; k < C; k++) out[2 * C + k] = Math.abs(out[k] - out[C + k]);
  return out;
}

/** What train.ts writes: the feature settings, the standardisation and the SVM. */
export interface Ano2Model {
  features: readonly string[];
  featureConfig: FeatureConfig;
  /** Per-feature mean and standard deviation of the training pairs (z = (x − mean) / sd). */
  mean: number[];
  sd: number[];
  /** Linear SVM on standardised features: decision = w · z + bias. */
  weights: number[];
  bias: number;
  provenance: Record<string, unknown>;
}

/** Checks a parsed model.json against the features this code computes. */
export function checkModel(raw: unknown, where: string): Ano2Model {
  const m = raw as Ano2Model;
  const d = FEATURE_NAMES.length;
  const ok =
    m &&
    Array.isArray(m.features) &&
    m.features.length === d &&
    m.features.every((f, i) => f === FEATURE_NAMES[i]) &&
    [m.mean, m.sd, m.weights].every((a) => Array.isArray(a) && a.length === d && a.every(Number.isFinite)) &&
    m.sd.every((s) => s > 0) &&
    Number.isFinite(m.bias) &&
    m.featureConfig &&
    Number.isInteger(m.featureConfig.bins) &&
    m.featureConfig.bins >= 2 &&
    m.featureConfig.ipdFloor > 0;
  if (!ok) throw new Error(`${where}: not an ano2 model for the features ${FEATURE_NAMES.join(', ')}; rerun detectors/ano2/train.ts`);
  return m;
}

/** The model beside this file (source tree), or in the package's detectors/ano2 (compiled code runs from dist/). */
function modelPath(): string {
  const here = fileURLToPath(new URL('./model.json', import.meta.url));
  return existsSync(here) ? here : join(ownPackage().root, 'detectors', 'ano2', 'model.json');
}

let loaded: Ano2Model | undefined;

export function loadModel(): Ano2Model {
  if (!loaded) {
    const path = modelPath();
    loaded = checkModel(JSON.parse(readFileSync(path, 'utf8')), path);
  }
  return loaded;
}

/** The SVM decision value of a feature vector. */
export function decision(m: Ano2Model, x: Float64Array): number {
  let s = m.bias;
  for (let k = 0; k < m.weights.length; k++) s += m.weights[k] * ((x[k] - m.mean[k]) / m.sd[k]);
  return s;
}

export default defineDetector({
  name: 'ano2',
  description: 'Ano2: Pareto and log-normal MLE fits of keystroke delays on both connections, goodness of fit, linear SVM; score = SVM decision value',
  citation:
    'S.-H. S. Huang, Y.-W. Kuo. Detecting chaff perturbation on stepping-stone connection. ICPADS 2011; W. Ding, K. Le, S.-H. S. Huang. Detecting stepping-stones under the influence of packet jittering. IAS 2013.',
  params: {},
  score(pairs) {
    const m = loadModel();
    const x = new Float64Array(FEATURE_NAMES.length);
    const out = new Float64Array(pairs.length);
    for (let i = 0; i < pairs.length; i++) out[i] = decision(m, pairFeatures(pairs[i], m.featureConfig, x));
    return out;
  },
});
