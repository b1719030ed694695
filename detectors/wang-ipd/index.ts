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
    default: 10,
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
  let sMin = 0, sMax = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const add = (i: number, sign: number) => {
    const a = x[i];
    const b = y[i + k];
    if (cpf === 'mms') {
      sMin += sign * (a < b ? a : b);
      sMax += sign * (a < b ? b : a);
    } else {
      sx += sign * a;
      sy += sign * b;
      sxx += sign * a * a;
      syy += sign * b * b;
      sxy += sign * a * b;
    }
  };
  const windowValue = (): number => {
    if (cpf === 'mms') return sMax > 0 ? sMin / sMax : 1;
    if (cpf === 'ndp') {
      const m = sxx > syy ? sxx : syy;
      return m > 0 ? sxy / m : 1;
    }
    const vx = sxx - (sx * sx) / s;
    const vy = syy - (sy * sy) / s;
    if (vx <= 1e-18 || vy <= 1e-18) return 0;
    const r = (sxy - (sx * sy) / s) / Math.sqrt(vx * vy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
  };
  for (let i = lo; i < lo + s; i++) add(i, 1);
  let total = windowValue();
  for (let start = lo + 1; start + s <= hi; start++) {
    add(start - 1, -1);
    add(start + s - 1, 1);
    total += windowValue();
  }
  return total / (n - s + 1);
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
