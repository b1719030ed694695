/**
 * Yoda & Etoh (ESORICS 2000): the "deviation" between two packet streams of one
 * direction. Each stream is a step function from byte offset (its sequence number, i.e.
 * cumulative payload bytes) to the time the packet carrying that byte was seen. For every
 * vertical alignment of the two graphs (which byte of B lines up with the first byte of
 * A), the deviation is the mean horizontal gap between them once B is slid as close to A
 * as it goes without crossing it; Dev is the smallest over alignments. See README.md for
 * what is read in the paper and what is reconstructed.
 */
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  direction: {
    type: 'enum',
    values: ['send', 'echo'],
    default: 'send',
    description: "packets compared: the client's keystrokes (send) or the server's echoes and output (echo)",
  },
  maxLag: {
    type: 'number',
    default: 3,
    min: 0,
    unit: 's',
    description:
      'alignments tried: only those whose mean time difference between the streams is within ±maxLag (a chain\'s average propagation delay is "at most a few seconds"); a value beyond the capture length tries all of them, as Definition 4 does',
  },
  minBytes: {
    type: 'integer',
    default: 60,
    min: 1,
    unit: 'B',
    description: 'the smaller stream must carry at least this many payload bytes (the paper discards shorter streams); less scores the floor',
  },
} as const;

/** Score of a pair whose deviation is undefined: below every defined score (−Dev ≥ −∞). */
export const NO_DEVIATION = -Number.MAX_VALUE;

/**
 * One direction of a connection as a byte-offset step function: packet i carries the
 * bytes (end[i−1], end[i]] (end[−1] = 0) and was seen at t[i]. Payload packets only.
 */
export interface ByteStream {
  t: Float64Array;
  /** Cumulative payload bytes through packet i; strictly increasing. */
  end: Float64Array;
}

/** The payload packets of `f` in direction `dir` as a byte stream. */
export function byteStream(f: Flow, dir: number): ByteStream {
  let n = 0;
  for (let i = 0; i < f.t.length; i++) if (f.dir[i] === dir && f.size[i] > 0) n++;
  const t = new Float64Array(n);
  const end = new Float64Array(n);
  let k = 0;
  let bytes = 0;
  for (let i = 0; i < f.t.length; i++) {
    if (f.dir[i] !== dir || f.size[i] <= 0) continue;
    bytes += f.size[i];
    t[k] = f.t[i];
    end[k++] = bytes;
  }
  return { t, end };
}

export function totalBytes(s: ByteStream): number {
  return s.end.length ? s.end[s.end.length - 1] : 0;
}

/**
 * The deviation of one alignment: B's bytes bk+1 … bk+d against A's bytes 1 … d, with
 * T(h) = u(bk + h) − t(h). Both step functions are walked together, one constant piece
 * of T at a time, so the cost is the number of packets of A and of B in the range, not
 * the number of bytes. Returns min(mean T − min T, max T − mean T): B slid left onto A
 * (the paper's first term) or right onto it (the second).
 */
function alignedDeviation(a: ByteStream, b: ByteStream, k: number, bk: number, d: number): number {
  let i = 0;
  let j = k;
  let at = 0; // bytes of A consumed
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  while (at < d) {
    const ea = a.end[i];
    const eb = b.end[j] - bk;
    const next = ea < eb ? ea : eb;
    const diff = b.t[j] - a.t[i];
    sum += (next - at) * diff;
    if (diff < lo) lo = diff;
    if (diff > hi) hi = diff;
    at = next;
    if (ea === next) i++;
    if (eb === next) j++;
  }
  const mean = sum / d;
  const dev = Math.min(mean - lo, hi - mean);
  return dev > 0 ? dev : 0; // rounding can leave −1e-17 when T is constant
}

/**
 * Dev(B from A), in seconds: the smallest aligned deviation over the alignments k whose
 * B range (b_k, b_k + d] fits in B (k = 0 … m' of Definition 4) and whose mean time
 * difference lies in [−maxLag, maxLag]. NaN when it is undefined: A carries no byte, B
 * carries fewer bytes than A, or no alignment is within the lag bound.
 *
 * The mean difference of alignment k is Σ_h u(b_k + h)/d − Σ_h t(h)/d and never
 * decreases with k (every u(b_k + h) moves later), so the admissible alignments are one
 * contiguous run. Their means come from running byte-weighted time sums in O(n + m)
 * overall; each admissible alignment then costs one O(n + m_k) walk. Total
 * O(n + m + K·(n + m_K)), K the number of alignments inside the lag bound (all m' + 1
 * of them when maxLag is unbounded: O(n·m), the cost the paper states).
 */
export function deviation(a: ByteStream, b: ByteStream, maxLag = Infinity): number {
  const n = a.t.length;
  const m = b.t.length;
  if (n === 0) return NaN;
  const d = a.end[n - 1];
  const total = totalBytes(b);
  if (total < d) return NaN;
  let sumA = 0;
  for (let i = 0; i < n; i++) sumA += (a.end[i] - (i ? a.end[i - 1] : 0)) * a.t[i];

  let best = Infinity;
  let wK = 0; // Σ u over B's bytes 1 … b_k
  let j = 0; // packet of B that holds byte b_k + d
  let wJ = 0; // Σ u over B's bytes 1 … end[j − 1]
  for (let k = 0; k < m; k++) {
    const bk = k ? b.end[k - 1] : 0;
    if (k) wK += (b.end[k - 1] - (k > 1 ? b.end[k - 2] : 0)) * b.t[k - 1];
    const top = bk + d;
    if (top > total) break;
    while (b.end[j] < top) {
      wJ += (b.end[j] - (j ? b.end[j - 1] : 0)) * b.t[j];
      j++;
    }
    const wTop = wJ + (top - (j ? b.end[j - 1] : 0)) * b.t[j];
    const mean = (wTop - wK - sumA) / d;
    if (mean < -maxLag) continue;
    if (mean > maxLag) break;
    const dev = alignedDeviation(a, b, k, bk, d);
    if (dev < best) best = dev;
  }
  return best === Infinity ? NaN : best;
}

export type Direction = 'send' | 'echo';

/**
 * −Dev for a pair. A is whichever connection carries fewer bytes in the chosen direction
 * (the deviation is defined only from the shorter stream to the longer one), the
 * outgoing one on a tie; NO_DEVIATION when Dev is undefined or A is below minBytes.
 */
export function yodaEtohScore(pair: FlowPair, direction: Direction, maxLag: number, minBytes: number): number {
  const dir = direction === 'echo' ? DIR_BWD : DIR_FWD;
  const out = byteStream(pair.outgoing, dir);
  const inc = byteStream(pair.incoming, dir);
  const [a, b] = totalBytes(out) <= totalBytes(inc) ? [out, inc] : [inc, out];
  if (totalBytes(a) < minBytes) return NO_DEVIATION;
  const dev = deviation(a, b, maxLag);
  return Number.isNaN(dev) ? NO_DEVIATION : 0 - dev; // 0 − 0 is +0
}

export default defineDetector({
  name: 'yoda-etoh',
  description: 'deviation between the byte-offset timing graphs of the two connections; score = −Dev (s)',
  citation:
    'K. Yoda, H. Etoh. Finding a connection chain for tracing intruders. ESORICS 2000, LNCS 1895, pp. 191–205.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = yodaEtohScore(pairs[k], p.direction, p.maxLag, p.minBytes);
    return out;
  },
});
