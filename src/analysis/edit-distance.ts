/**
 * Bounded edit distance between two sequences of real numbers (inter-packet delays), with
 * a tolerance for what counts as equal: two values match when |a − b| ≤ tol, which is the
 * "edit distance on real sequences" of Chen, Özsu & Oria (SIGMOD 2005). Substituting a
 * value that does not match, inserting one and deleting one each cost 1.
 *
 * Why bounded. The full dynamic programme is O(n·m) in time. Over whole flows (thousands of
 * packets) and every pair of a benchmark that is far too slow, and it is never needed: a
 * detector only has to know whether two sequences are close, and how close up to some
 * budget k. Ukkonen's observation (Information and Control 64, 1985) gives exactly that
 * in O(k·(n + m)): an alignment with cost ≤ k never leaves the diagonal band |i − j| ≤ k
 * (every step off the diagonal is an insertion or a deletion, cost 1), so the programme
 * restricted to the band finds every distance ≤ k exactly, and a band value above k can
 * only grow along any path (costs are ≥ 0), so it is safe to clamp it to k + 1. The result
 * is min(distance, k + 1): exact up to the budget, "more than k" beyond it.
 *
 * Two variants:
 * - global: the distance between a and b;
 * - prefix: the distance between a and the best-matching prefix of b, i.e. b's tail after
 *   the alignment is free. This is what comparing a burst of requests with the burst of
 *   responses it caused needs, when responses may go on after the last echo (command
 *   output) without that being a difference.
 *
 * Memory: two rows of 2k + 1 cells, kept in a module scratch buffer that grows once to the
 * largest band used, so repeated calls (one per ON period) allocate nothing.
 */

export type EditMode = 'global' | 'prefix';

let scratch = new Int32Array(64);

function rows(k: number): Int32Array {
  const need = 2 * (2 * k + 1);
  if (scratch.length < need) scratch = new Int32Array(Math.max(need, scratch.length * 2));
  return scratch;
}

/**
 * min(edit distance, maxDist + 1) between a and b (values match when |a_i − b_j| ≤ tol),
 * in O((2·maxDist + 1) · (a.length + 1)) time. With mode 'prefix', b's unmatched tail is
 * free (distance of a to the best prefix of b).
 */
export function boundedEditDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: number,
  maxDist: number,
  mode: EditMode = 'global',
): number {
  const n = a.length;
  const m = b.length;
  const k = Math.max(0, Math.floor(maxDist));
  const cap = k + 1;
  // Whatever the alignment, a (or b, globally) has to lose the length difference.
  if (n - m > k) return cap;
  if (mode === 'global' && m - n > k) return cap;
  const w = 2 * k + 1;
  const buf = rows(k);
  // Cell (i, j) lives at offset d = j − i + k of row i; out-of-band cells read as cap.
  let prev = 0;
  let cur = w;
  // Row 0: D[0][j] = j (insert b's first j values).
  for (let d = 0; d < w; d++) {
    const j = d - k;
    buf[prev + d] = j >= 0 && j <= m ? Math.min(j, cap) : cap;
  }
  for (let i = 1; i <= n; i++) {
    const ai = a[i - 1];
    let rowMin = cap;
    for (let d = 0; d < w; d++) {
      const j = i + d - k;
      if (j < 0 || j > m) {
        buf[cur + d] = cap;
        continue;
      }
      // Deletion of a[i-1]: from (i-1, j), offset d + 1 in the previous row.
      let v = (d + 1 < w ? buf[prev + d + 1] : cap) + 1;
      if (j > 0) {
        // Substitution or match: from (i-1, j-1), same offset in the previous row.
        const diff = ai - b[j - 1];
        const sub = buf[prev + d] + (diff <= tol && diff >= -tol ? 0 : 1);
        if (sub < v) v = sub;
        // Insertion of b[j-1]: from (i, j-1), offset d − 1 in this row.
        if (d > 0) {
          const ins = buf[cur + d - 1] + 1;
          if (ins < v) v = ins;
        }
      } else {
        // j = 0: only deletions reach it, D[i][0] = i.
        v = i;
      }
      if (v > cap) v = cap;
      buf[cur + d] = v;
      if (v < rowMin) rowMin = v;
    }
    // Costs never decrease along a path: once a whole row is over budget, so is the end.
    if (rowMin >= cap) return cap;
    const t = prev;
    prev = cur;
    cur = t;
  }
  if (mode === 'global') return buf[prev + (m - n + k)];
  let best = cap;
  for (let d = 0; d < w; d++) {
    const j = n + d - k;
    if (j >= 0 && j <= m && buf[prev + d] < best) best = buf[prev + d];
  }
  return best;
}

/**
 * The unbounded edit distance by the textbook O(n·m) programme. Reference for tests and
 * for short sequences only; detectors use boundedEditDistance.
 */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, mode: EditMode = 'global'): number {
  const n = a.length;
  const m = b.length;
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const diff = a[i - 1] - b[j - 1];
      const sub = prev[j - 1] + (Math.abs(diff) <= tol ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  if (mode === 'global') return prev[m];
  let best = prev[0];
  for (let j = 1; j <= m; j++) if (prev[j] < best) best = prev[j];
  return best;
}
