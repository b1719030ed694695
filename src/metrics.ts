/**
 * ROC metrics with bootstrap confidence intervals.
 *
 * Threshold rule at a target FPR f over N negatives: let k = ⌊f·N⌋; the threshold τ is
 * the (k+1)-th largest negative score and a positive is detected when its score is
 * strictly above τ. At most k negatives (≤ f·N) then score above τ, so the achieved FPR
 * never exceeds the target, ties included. With k ≥ N every positive is detected.
 *
 * All metrics are computed by one walk over the pooled scores sorted once, with a weight
 * (multiplicity) per score, so that a bootstrap resample costs O(n) and not a new sort.
 */
import { type Rng, rngFor } from './rng.js';

export interface CellMetrics {
  auc: number;
  aucCi: [number, number];
  /** Detection rate per target FPR, keyed by the FPR as written in the config. */
  tpr: Record<string, number>;
  tprCi: Record<string, [number, number]>;
  /** False: fewer than 1/f negatives, so the FPR f cannot be told apart from 1/N. */
  fprResolvable: Record<string, boolean>;
}

interface Pooled {
  /** Pooled item indices sorted by score descending; items < P are positives. */
  order: Uint32Array;
  /** groupEnd[i]: true when order[i] is the last item of its tie group. */
  groupEnd: Uint8Array;
  P: number;
  N: number;
}

function pool(pos: Float64Array, neg: Float64Array): Pooled {
  const P = pos.length;
  const N = neg.length;
  const score = (i: number) => (i < P ? pos[i] : neg[i - P]);
  const order = new Uint32Array(P + N);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => score(b) - score(a) || a - b);
  const groupEnd = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i++) {
    groupEnd[i] = i + 1 === order.length || score(order[i + 1]) !== score(order[i]) ? 1 : 0;
  }
  return { order, groupEnd, P, N };
}

/**
 * AUC and detection rates for weights wP (per positive) and wN (per negative). AUC is
 * P(score+ > score−) + ½ P(score+ = score−), the Mann-Whitney statistic.
 */
function evaluate(p: Pooled, wP: Uint32Array, wN: Uint32Array, fprs: readonly number[], out: { auc: number; tpr: Float64Array }): void {
  let totP = 0;
  let totN = 0;
  for (let i = 0; i < p.P; i++) totP += wP[i];
  for (let i = 0; i < p.N; i++) totN += wN[i];
  const ks = fprs.map((f) => Math.floor(f * totN + 1e-9));
  out.tpr.fill(NaN);
  let negAbove = 0; // negative weight strictly above the current group
  let posAbove = 0;
  let gPos = 0;
  let gNeg = 0;
  let pairsWon = 0; // positive-negative pairs ordered correctly (ties count ½)
  for (let i = 0; i < p.order.length; i++) {
    const item = p.order[i];
    if (item < p.P) gPos += wP[item];
    else gNeg += wN[item - p.P];
    if (!p.groupEnd[i]) continue;
    // Each negative of this group loses to every positive above it and ties with the
    // positives of its own group.
    pairsWon += gNeg * posAbove + 0.5 * gNeg * gPos;
    for (let f = 0; f < ks.length; f++) {
      if (Number.isNaN(out.tpr[f]) && gNeg > 0 && negAbove <= ks[f] && ks[f] < negAbove + gNeg) {
        out.tpr[f] = totP > 0 ? posAbove / totP : NaN;
      }
    }
    negAbove += gNeg;
    posAbove += gPos;
    gPos = 0;
    gNeg = 0;
  }
  for (let f = 0; f < ks.length; f++) if (Number.isNaN(out.tpr[f])) out.tpr[f] = 1; // k >= N: no negative sets a threshold
  out.auc = totP > 0 && totN > 0 ? pairsWon / (totP * totN) : NaN;
}

/** Point estimates: AUC and detection rate per target FPR. */
export function rocPoint(pos: Float64Array, neg: Float64Array, fprs: readonly number[]): { auc: number; tpr: number[] } {
  const p = pool(pos, neg);
  const out = { auc: 0, tpr: new Float64Array(fprs.length) };
  evaluate(p, new Uint32Array(p.P).fill(1), new Uint32Array(p.N).fill(1), fprs, out);
  return { auc: out.auc, tpr: Array.from(out.tpr) };
}

/** The q-quantile of sorted values by linear interpolation. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function resample(w: Uint32Array, rng: Rng): void {
  w.fill(0);
  const n = w.length;
  for (let i = 0; i < n; i++) w[Math.floor(rng.next() * n)]++;
}

/**
 * Metrics of one cell with percentile bootstrap intervals; positives and negatives are
 * resampled separately (a stratified bootstrap), from a stream named by `key`.
 */
export function cellMetrics(
  pos: Float64Array,
  neg: Float64Array,
  fprs: readonly number[],
  opts: { bootstrap: number; confidence: number; seed: number; key: string },
): CellMetrics {
  const p = pool(pos, neg);
  const point = { auc: 0, tpr: new Float64Array(fprs.length) };
  evaluate(p, new Uint32Array(p.P).fill(1), new Uint32Array(p.N).fill(1), fprs, point);
  const B = opts.bootstrap;
  const aucs = new Float64Array(B);
  const tprs = fprs.map(() => new Float64Array(B));
  const rng = rngFor(opts.seed, `bootstrap/${opts.key}`, 0);
  const wP = new Uint32Array(p.P);
  const wN = new Uint32Array(p.N);
  const out = { auc: 0, tpr: new Float64Array(fprs.length) };
  for (let b = 0; b < B; b++) {
    resample(wP, rng);
    resample(wN, rng);
    evaluate(p, wP, wN, fprs, out);
    aucs[b] = out.auc;
    for (let f = 0; f < fprs.length; f++) tprs[f][b] = out.tpr[f];
  }
  const alpha = (1 - opts.confidence) / 2;
  const ci = (v: Float64Array, point: number): [number, number] => {
    if (B === 0) return [point, point];
    v.sort();
    return [quantile(v, alpha), quantile(v, 1 - alpha)];
  };
  const m: CellMetrics = { auc: point.auc, aucCi: ci(aucs, point.auc), tpr: {}, tprCi: {}, fprResolvable: {} };
  fprs.forEach((f, i) => {
    const key = String(f);
    m.tpr[key] = point.tpr[i];
    m.tprCi[key] = ci(tprs[i], point.tpr[i]);
    m.fprResolvable[key] = f * p.N >= 1;
  });
  return m;
}
