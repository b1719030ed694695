/**
 * Orthonormal Haar wavelet analysis of event counts on a time grid.
 *
 * Conventions. One Haar step maps a pair of neighbouring values (x, y) to the smooth
 * coefficient (x + y)/√2 and the detail coefficient (x − y)/√2. The transform is
 * orthonormal, so it keeps the sum of squares (energy). Level j (j = 1, 2, …) holds the
 * coefficients made by the j-th step; on counts in bins of width w, a level-j
 * coefficient covers 2^j bins, a time span of 2^j·w, which is what "scale" means below.
 * The smooth coefficient of level j is the count in its span over 2^(j/2); the detail
 * coefficient is (count in the first half − count in the second half) over 2^(j/2).
 *
 * Lengths that are not a power of two are handled by truncation: at each level an odd
 * trailing value has no partner and is dropped from the coarser levels. That keeps every
 * coefficient a function of whole bins only; zero padding would instead invent an
 * artificial edge (activity, then silence) at the end of the data.
 */

/**
 * Counts of `times` (sorted ascending) per bin [from + i·width, from + (i+1)·width),
 * i = 0 … n − 1, written into out[0 … n); times outside [from, from + n·width) are
 * ignored. The bin index is ⌊(t − from)/width⌋ in double precision. O(times + n).
 */
export function binCounts(times: Float64Array, from: number, width: number, n: number, out: Float64Array): void {
  if (!(width > 0)) throw new RangeError(`bin width must be > 0, got ${width}`);
  if (out.length < n) throw new RangeError(`output holds ${out.length} bins, ${n} needed`);
  out.fill(0, 0, n);
  for (let i = 0; i < times.length; i++) {
    const b = Math.floor((times[i] - from) / width);
    if (b >= 0 && b < n) out[b]++;
  }
}

/**
 * One Haar step in place on s[0 … len): s[0 … half) becomes the smooth coefficients and,
 * when `detail` is given, detail[0 … half) the detail coefficients, half = ⌊len/2⌋ (an
 * odd last value is dropped). Returns half. Writing s[k] is safe while reading s[2k] and
 * s[2k + 1]: every earlier write went to an index below k.
 */
export function haarStep(s: Float64Array, len: number, detail?: Float64Array): number {
  const half = len >> 1;
  for (let k = 0; k < half; k++) {
    const x = s[2 * k];
    const y = s[2 * k + 1];
    if (detail) detail[k] = (x - y) * Math.SQRT1_2;
    s[k] = (x + y) * Math.SQRT1_2;
  }
  return half;
}

/**
 * The full orthonormal Haar transform of x, in place, for a length that is a power of
 * two: afterwards x = [smooth of the last level, its detail, details of the level below
 * (2 values), …, finest details (n/2 values)], the usual pyramid layout. `scratch` (at
 * least n/2 values) holds each level's details until they are moved into place; one is
 * allocated when not given. O(n).
 */
export function haarTransform(x: Float64Array, scratch?: Float64Array): Float64Array {
  const n = x.length;
  if (n === 0 || (n & (n - 1)) !== 0) throw new RangeError(`length must be a power of two, got ${n}`);
  const tmp = scratch ?? new Float64Array(n >> 1);
  if (tmp.length < n >> 1) throw new RangeError(`scratch holds ${tmp.length} values, ${n >> 1} needed`);
  for (let len = n; len > 1; ) {
    const half = haarStep(x, len, tmp);
    x.set(tmp.subarray(0, half), half);
    len = half;
  }
  return x;
}

/** Per-level statistics of two transforms made in lockstep; index j − 1 for level j. */
export interface ScaleCorrelations {
  /** Number of levels filled in. */
  levels: number;
  /** Detail coefficients per level. */
  count: Int32Array;
  /**
   * Correlation of the two streams' detail coefficients at the level: Σ d₁d₂ / √(Σ d₁² Σ d₂²),
   * not centred, since a detail coefficient is a difference of counts and has mean zero
   * whatever the rate. NaN when either stream has no detail energy at that level.
   */
  detail: Float64Array;
  /**
   * Pearson correlation of the smooth coefficients (the counts per span of the level,
   * centred). NaN when either is constant or the level has fewer than 2 coefficients.
   */
  smooth: Float64Array;
}

/** Room for the statistics of up to `maxLevels` levels. */
export function scaleCorrelations(maxLevels = 40): ScaleCorrelations {
  return {
    levels: 0,
    count: new Int32Array(maxLevels),
    detail: new Float64Array(maxLevels),
    smooth: new Float64Array(maxLevels),
  };
}

/**
 * Haar-transforms x[0 … len) and y[0 … len) together, in place (both are overwritten by
 * smooth coefficients), level after level while at least one coefficient is made and
 * `out` has room, and records per level the correlations of the two streams' detail and
 * smooth coefficients. No allocation; O(len) in all, since level j touches len/2^j pairs.
 */
export function haarScaleCorrelations(x: Float64Array, y: Float64Array, len: number, out: ScaleCorrelations): ScaleCorrelations {
  let level = 0;
  for (let n = len; n >= 2 && level < out.count.length; level++) {
    const half = n >> 1;
    let dxy = 0;
    let dxx = 0;
    let dyy = 0;
    let sx = 0;
    let sy = 0;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let k = 0; k < half; k++) {
      const x0 = x[2 * k];
      const x1 = x[2 * k + 1];
      const y0 = y[2 * k];
      const y1 = y[2 * k + 1];
      const dx = (x0 - x1) * Math.SQRT1_2;
      const dy = (y0 - y1) * Math.SQRT1_2;
      const ax = (x0 + x1) * Math.SQRT1_2;
      const ay = (y0 + y1) * Math.SQRT1_2;
      x[k] = ax;
      y[k] = ay;
      dxy += dx * dy;
      dxx += dx * dx;
      dyy += dy * dy;
      sx += ax;
      sy += ay;
      sxy += ax * ay;
      sxx += ax * ax;
      syy += ay * ay;
    }
    out.count[level] = half;
    out.detail[level] = dxx > 0 && dyy > 0 ? clamp1(dxy / Math.sqrt(dxx * dyy)) : NaN;
    const vx = sxx - (sx * sx) / half;
    const vy = syy - (sy * sy) / half;
    const cxy = sxy - (sx * sy) / half;
    // Relative floor: a constant sequence leaves only rounding in vx.
    const ok = half >= 2 && vx > 1e-12 * (sxx + 1e-300) && vy > 1e-12 * (syy + 1e-300);
    out.smooth[level] = ok ? clamp1(cxy / Math.sqrt(vx * vy)) : NaN;
    n = half;
  }
  out.levels = level;
  return out;
}

function clamp1(r: number): number {
  return r > 1 ? 1 : r < -1 ? -1 : r;
}
