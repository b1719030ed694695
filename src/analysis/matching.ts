/**
 * Order-preserving bounded-delay matching of two timestamp sequences.
 *
 * The model (He & Tong, IEEE Trans. Signal Processing 55(5), 2007; Blum, Song &
 * Venkataraman, RAID 2004): a relay forwards each packet it receives, a_i, as a packet
 * b_j it sends no earlier than a_i + minDelay and no later than a_i + maxDelay, and keeps
 * the order of what it forwards. Packets of either side that take part in no such pair
 * are chaff (or were never forwarded). The question a detector asks is: how many pairs
 * (a_i, b_j) can the two sequences explain at most? Equivalently, how few packets must
 * be declared chaff for the rest to be a valid relay?
 *
 * Greedy algorithm (two pointers, O(n + m), no allocation): walk a in order; for a_i,
 * skip the packets of b that are too early for it (b_j < a_i + minDelay), then match a_i
 * to the earliest unmatched b_j if b_j <= a_i + maxDelay; otherwise a_i stays unmatched.
 *
 * Window and ties. The window of a_i is closed at both ends: [a_i + minDelay,
 * a_i + maxDelay]. A b packet at exactly a_i + minDelay (a_i itself when minDelay = 0: a
 * relay that forwards instantly) and one at exactly a_i + maxDelay are both inside.
 * Bounds are computed in double precision as `a_i + minDelay` and `a_i + maxDelay`;
 * equal timestamps in a or in b are allowed and are taken in index order.
 *
 * Why greedy earliest matching is optimal (our own exchange argument; the papers state
 * the bounded-delay model, not this proof). Let M = (i_1, j_1), …, (i_r, j_r) be any
 * order-preserving matching (i and j both increasing) and (p_1, q_1), … the greedy pairs
 * in the order they are made. By induction on k, greedy makes a k-th pair with p_k <= i_k
 * and q_k <= j_k. Given the claim for k − 1: b_{j_k} is after q_{k−1} (j_k > j_{k−1} >=
 * q_{k−1}) and is never skipped before a_{i_k}'s turn, since b_{j_k} >= a_{i_k} +
 * minDelay >= a_p + minDelay for every p <= i_k. So whenever greedy looks for a partner
 * for some a_p, p_{k−1} < p <= i_k, the earliest candidate it considers has index at most
 * j_k. If greedy pairs some such a_p before reaching i_k, its partner is that earliest
 * candidate (index <= j_k) and p < i_k. Otherwise at a_{i_k} the earliest candidate j0 <=
 * j_k has b_{j0} <= b_{j_k} <= a_{i_k} + maxDelay, so greedy pairs (i_k, j0). Either way
 * p_k <= i_k, q_k <= j_k: greedy makes at least r pairs, i.e. a maximum number.
 *
 * Order preservation costs nothing in the count: all windows have the same length, so
 * two crossing pairs (a_i, b_j), (a_k, b_l) with a_i <= a_k and b_j > b_l can be
 * uncrossed into (a_i, b_l), (a_k, b_j), both still inside their windows. The maximum
 * over all one-to-one matchings, order-preserving or not, is therefore the same number.
 *
 * Skipping is safe: a is sorted, so a b packet too early for a_i is too early for every
 * later a packet and can never be matched.
 */

/** Where matched pairs are written: a[aIndex[k]] was matched to b[bIndex[k]], k < count. */
export interface MatchedPairs {
  /** Indices into a, increasing. Length at least min(a.length, b.length). */
  readonly aIndex: Uint32Array;
  /** Indices into b, increasing. Length at least min(a.length, b.length). */
  readonly bIndex: Uint32Array;
}

/** Preallocates buffers for up to `capacity` pairs (min(a.length, b.length) is always enough). */
export function matchedPairs(capacity: number): MatchedPairs {
  return { aIndex: new Uint32Array(capacity), bIndex: new Uint32Array(capacity) };
}

/**
 * Maximum number of order-preserving bounded-delay pairs between `a` (packets into the
 * relay) and `b` (packets out of it): each a_i matched to at most one b_j, and vice versa,
 * with a_i + minDelay <= b_j <= a_i + maxDelay, pairs never crossing.
 *
 * @param a timestamps into the relay, seconds, sorted non-decreasing (not checked)
 * @param b timestamps out of the relay, seconds, sorted non-decreasing (not checked)
 * @param maxDelay Δ, the longest a relay may hold a packet (seconds, >= minDelay)
 * @param minDelay the shortest (seconds, >= 0); 0 by default
 * @param out when given, the pairs are written to it in order (k = 0 … count − 1)
 * @returns the number of pairs
 * @throws RangeError on a bad delay window or on `out` buffers too short to hold every
 *   possible pair
 */
export function matchBoundedDelay(
  a: Float64Array,
  b: Float64Array,
  maxDelay: number,
  minDelay = 0,
  out?: MatchedPairs,
): number {
  if (!(minDelay >= 0) || !(maxDelay >= minDelay)) {
    throw new RangeError(`bad delay window [${minDelay}, ${maxDelay}]: need 0 <= minDelay <= maxDelay`);
  }
  const n = a.length;
  const m = b.length;
  if (out) {
    const need = Math.min(n, m);
    if (out.aIndex.length < need || out.bIndex.length < need) {
      throw new RangeError(`matched-pair buffers hold ${Math.min(out.aIndex.length, out.bIndex.length)}, need ${need}`);
    }
  }
  let j = 0;
  let count = 0;
  for (let i = 0; i < n && j < m; i++) {
    const lo = a[i] + minDelay;
    while (j < m && b[j] < lo) j++;
    if (j < m && b[j] <= a[i] + maxDelay) {
      if (out) {
        out.aIndex[count] = i;
        out.bIndex[count] = j;
      }
      count++;
      j++;
    }
  }
  return count;
}

/**
 * Share of packets left unmatched: (n + m − 2·matched) / (n + m), in [0, 1]; the fewest
 * packets that must be called chaff for the rest to be a valid bounded-delay relay, as a
 * fraction of all packets. 1 when both sequences are empty (nothing is explained).
 */
export function unmatchedFraction(a: Float64Array, b: Float64Array, maxDelay: number, minDelay = 0): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  return (total - 2 * matchBoundedDelay(a, b, maxDelay, minDelay)) / total;
}
