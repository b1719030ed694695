/**
 * The two-sample Kolmogorov–Smirnov distance: the largest gap between two empirical
 * distribution functions, D = sup_x |F_a(x) − F_b(x)|, between 0 (the samples have the
 * same distribution function) and 1 (every value of one lies below every value of the
 * other).
 *
 * Ties are handled as the definition asks: both functions step at a shared value before
 * the gap there is measured, so two identical samples are at distance 0 however many
 * repeats they hold (payload sizes repeat a lot: most keystrokes are one size).
 */

/** A sorted copy; NaN values are dropped (a feature that could not be measured). */
export function sortedCopy(x: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) out[k++] = x[i];
  return out.sort();
}

/**
 * D between two samples already sorted ascending. O(n + m). NaN when either is empty:
 * no distribution function to compare.
 */
export function ksDistanceSorted(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = a[i] <= b[j] ? a[i] : b[j];
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }
  // Once one sample is used up its function is 1; the other only climbs towards 1 after
  // that, so the gap can only shrink and the loop's maximum is the supremum.
  return d;
}

/** D between two samples in any order (they are copied and sorted). */
export function ksDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return ksDistanceSorted(sortedCopy(a), sortedCopy(b));
}
