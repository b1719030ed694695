/**
 * Wang, Reeves & Wu (ESORICS 2002): inter-packet delay correlation over sliding windows
 * with an offset search. See README.md for what is reconstructed.
 */
import { DIR_FWD, payloadTimes } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  window: { type: 'integer', default: 20, min: 2, description: 's: inter-packet delays per correlation window' },
  maxOffset: {
    type: 'integer',
    default: 40,
    min: 0,
    description: 'largest packet offset k searched between the two IPD sequences (both signs)',
  },
  cpf: {
    type: 'enum',
    values: ['mms', 'pearson', 'ndp'],
    default: 'mms',
    description: 'correlation point function: min/max sum ratio, Pearson, or normalised dot product',
  },
} as const;

export type Cpf = 'mms' | 'pearson' | 'ndp';

/** Inter-packet delays of consecutive timestamps. */
export function ipds(t: Float64Array): Float64Array {
  const out = new Float64Array(Math.max(0, t.length - 1));
  for (let i = 1; i < t.length; i++) out[i - 1] = t[i] - t[i - 1];
  return out;
}

/** The lowest value a CPF takes: the score of a pair with no window to compare. */
export function cpfFloor(cpf: Cpf): number {
  return cpf === 'pearson' ? -1 : 0;
}

/**
 * Mean CPF over all windows of `s` aligned delays x[i] ~ y[i + k], i.e. the correlation
 * value of offset k. NaN when no window fits. Window sums slide in O(1) per step.
 */
export function offsetCorrelation(x: Float64Array, y: Float64Array, k: number, s: number, cpf: Cpf): number {
  const lo = Math.max(0, -k);
  const hi = Math.min(x.length, y.length - k); // exclusive end of the aligned range of x
  const n = hi - lo;
  if (n < s) return NaN;
  return cpf === 'mms' ? slidingMms(x, y, k, s, lo, hi) / (n - s + 1) : slidingProducts(x, y, k, s, lo, hi, cpf) / (n - s + 1);
}

/** Sum over windows of Σmin / Σmax (a window of zeros counts as identical: 1). */
function slidingMms(x: Float64Array, y: Float64Array, k: number, s: number, lo: number, hi: number): number {
  let sMin = 0;
  let sMax = 0;
  let total = 0;
  for (let i = lo; i < hi; i++) {
    const a = x[i];
    const b = y[i + k];
    sMin += a < b ? a : b;
    sMax += a < b ? b : a;
    const out = i - s;
    if (out >= lo) {
      const c = x[out];
      const d = y[out + k];
      sMin -= c < d ? c : d;
      sMax -= c < d ? d : c;
    }
    if (i - lo + 1 >= s) total += sMax > 0 ? sMin / sMax : 1;
  }
  return total;
}

/** Sum over windows of Pearson's r or the normalised dot product, from sliding sums. */
function slidingProducts(x: Float64Array, y: Float64Array, k: number, s: number, lo: number, hi: number, cpf: Cpf): number {
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let total = 0;
  for (let i = lo; i < hi; i++) {
    const a = x[i];
    const b = y[i + k];
    sx += a;
    sy += b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
    const out = i - s;
    if (out >= lo) {
      const c = x[out];
      const d = y[out + k];
      sx -= c;
      sy -= d;
      sxx -= c * c;
      syy -= d * d;
      sxy -= c * d;
    }
    if (i - lo + 1 < s) continue;
    if (cpf === 'ndp') {
      const m = sxx > syy ? sxx : syy;
      total += m > 0 ? sxy / m : 1;
    } else {
      const vx = sxx - (sx * sx) / s;
      const vy = syy - (sy * sy) / s;
      if (vx > 1e-18 && vy > 1e-18) {
        const r = (sxy - (sx * sy) / s) / Math.sqrt(vx * vy);
        total += r > 1 ? 1 : r < -1 ? -1 : r;
      }
    }
  }
  return total;
}

/** Best correlation value over offsets −maxOffset..maxOffset (the dominant offset). */
export function ipdCorrelation(x: Float64Array, y: Float64Array, s: number, maxOffset: number, cpf: Cpf): number {
  let best = NaN;
  for (let k = -maxOffset; k <= maxOffset; k++) {
    const v = offsetCorrelation(x, y, k, s, cpf);
    if (!Number.isNaN(v) && (Number.isNaN(best) || v > best)) best = v;
  }
  return Number.isNaN(best) ? cpfFloor(cpf) : best;
}

export default defineDetector({
  name: 'wang-ipd',
  description: 'IPD correlation of keystroke packets over sliding windows, best offset',
  citation:
    'X. Wang, D. S. Reeves, S. F. Wu. Inter-packet delay based correlation for tracing encrypted connections through stepping stones. ESORICS 2002, LNCS 2502.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    const cpf = p.cpf;
    for (let k = 0; k < pairs.length; k++) {
      const x = ipds(payloadTimes(pairs[k].incoming, DIR_FWD));
      const y = ipds(payloadTimes(pairs[k].outgoing, DIR_FWD));
      out[k] = ipdCorrelation(x, y, p.window, p.maxOffset, cpf);
    }
    return out;
  },
});
