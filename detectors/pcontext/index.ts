/**
 * PContext: Yang & Woolbright, "Correlating TCP/IP packet contexts to detect
 * stepping-stone intrusion", Computers & Security 30(6–7), 2011. Each echo of the incoming
 * connection is described by its timing context, the gaps between the echoes around it,
 * and compared by Pearson correlation with the contexts of the outgoing connection's
 * echoes that could be its original. A relay forwards the echoes it receives, so its two
 * connections share their contexts. See README.md for what is read and what is
 * reconstructed.
 */
import { matchRoundTrips, maxRttParam } from '../../src/analysis/rtt.js';
import type { Flow, FlowPair } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  context: {
    type: 'integer',
    default: 5,
    min: 1,
    description: 'h: gaps taken on each side of an echo; a context is 2h inter-echo gaps',
  },
  maxDelay: {
    type: 'number',
    default: 0.5,
    min: 0,
    unit: 's',
    description: 'Δ: longest the relay may hold an echo; outgoing echoes in [t − Δ, t] are candidates for an incoming echo at t',
  },
  maxRtt: maxRttParam(' when echoes are matched to sends'),
  statistic: {
    type: 'enum',
    values: ['mean-correlation', 'matched-share'],
    default: 'mean-correlation',
    description: 'score: mean of the best correlation of each incoming context, or the share of contexts whose best correlation reaches minCorrelation',
  },
  minCorrelation: {
    type: 'number',
    default: 0.9,
    min: -1,
    max: 1,
    description: 'with matched-share: correlation at which an incoming context counts as matched',
  },
} as const;

export type PcontextParams = ParamsOf<typeof params>;

/** Inter-echo gaps: g[i] = e[i + 1] − e[i]. */
export function gapsOf(e: Float64Array): Float64Array {
  const g = new Float64Array(Math.max(0, e.length - 1));
  for (let i = 0; i < g.length; i++) g[i] = e[i + 1] - e[i];
  return g;
}

/**
 * Pearson correlation of x[i0 … i0+len) and y[j0 … j0+len); 0 when either is constant
 * (a constant context carries no timing pattern to correlate). Two passes (means, then
 * deviations), no allocation.
 */
export function pearson(x: Float64Array, i0: number, y: Float64Array, j0: number, len: number): number {
  let sx = 0;
  let sy = 0;
  for (let k = 0; k < len; k++) {
    sx += x[i0 + k];
    sy += y[j0 + k];
  }
  const mx = sx / len;
  const my = sy / len;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let k = 0; k < len; k++) {
    const dx = x[i0 + k] - mx;
    const dy = y[j0 + k] - my;
    cov += dx * dy;
    vx += dx * dx;
    vy += dy * dy;
  }
  if (vx === 0 || vy === 0) return 0;
  const r = cov / Math.sqrt(vx * vy);
  return r > 1 ? 1 : r < -1 ? -1 : r; // rounding can overshoot by an ulp
}

/**
 * For every echo a[k] of the incoming connection that has a full context (h ≤ k < n − h),
 * the best Pearson correlation between its context (gaps k−h … k+h−1: the h gaps before
 * the echo and the h after it) and the context of an outgoing echo b[j] with
 * a[k] − Δ ≤ b[j] ≤ a[k] that has a full context too; −1 when there is no such candidate.
 * Both echo sequences sorted. O(n_a · c · h) with c the candidates per window (the echoes
 * of Δ seconds), one pointer that only moves forward.
 */
export function contextCorrelations(a: Float64Array, b: Float64Array, h: number, maxDelay: number): Float64Array {
  const ga = gapsOf(a);
  const gb = gapsOf(b);
  const len = 2 * h;
  const out = new Float64Array(Math.max(0, a.length - 2 * h));
  let lo = 0;
  for (let k = h; k + h < a.length; k++) {
    const t = a[k];
    while (lo < b.length && b[lo] < t - maxDelay) lo++;
    let best = -1;
    for (let j = Math.max(lo, h); j + h < b.length && b[j] <= t; j++) {
      const r = pearson(ga, k - h, gb, j - h, len);
      if (r > best) best = r;
    }
    out[k - h] = best;
  }
  return out;
}

/** Echo times of the round trips of a connection: the echoes that answer a send. */
export function echoTimes(f: Flow, maxRtt: number): Float64Array {
  return matchRoundTrips(f, { maxRtt }).echo;
}

/**
 * The pair's score: mean best correlation in [−1, 1] (−1 without a single full incoming
 * context), or the matched share in [0, 1] (0 without one).
 */
export function pcontextScore(pair: FlowPair, p: PcontextParams): number {
  const best = contextCorrelations(echoTimes(pair.incoming, p.maxRtt), echoTimes(pair.outgoing, p.maxRtt), p.context, p.maxDelay);
  if (p.statistic === 'matched-share') {
    if (best.length === 0) return 0;
    let matched = 0;
    for (let k = 0; k < best.length; k++) if (best[k] >= p.minCorrelation) matched++;
    return matched / best.length;
  }
  if (best.length === 0) return -1;
  let sum = 0;
  for (let k = 0; k < best.length; k++) sum += best[k];
  return sum / best.length;
}

export default defineDetector({
  name: 'pcontext',
  description: 'Pearson correlation of the timing contexts of echoes on the incoming and outgoing connection',
  citation:
    'J. Yang, D. Woolbright. Correlating TCP/IP packet contexts to detect stepping-stone intrusion. Computers & Security 30(6–7), 2011.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = pcontextScore(pairs[k], p);
    return out;
  },
});
