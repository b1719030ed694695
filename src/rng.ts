/**
 * Seeded random streams. Every draw in ssbench comes from a stream derived from the run
 * seed, a purpose string and a pair index, so a pair's randomness does not depend on
 * which worker made it, in which chunk, or in what order.
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform on [0, 1). */
  (): number;
}

/** The stream for (seed, purpose, index). Alea: fast to seed, good enough statistically. */
export function rngFor(seed: number | string, purpose: string, index: number): Rng {
  return seedrandom.alea(`${seed}\u0000${purpose}\u0000${index}`) as Rng;
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng());
}

/** Standard normal by Box-Muller (one value per call: simpler to keep streams aligned). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  const u1 = 1 - rng();
  const u2 = rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Log-normal with the given median and log-space standard deviation. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** Pareto(alpha, xmin) truncated to [xmin, xmax] by inverse transform of the truncated CDF. */
export function truncatedPareto(rng: Rng, alpha: number, xmin: number, xmax: number): number {
  const u = rng();
  const tail = Math.pow(xmin / xmax, alpha);
  return xmin / Math.pow(1 - u * (1 - tail), 1 / alpha);
}

/** Poisson count; inversion for small means, normal approximation for large ones. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 500) return Math.max(0, Math.round(normal(rng, mean, Math.sqrt(mean))));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  for (;;) {
    p *= rng();
    if (p <= l) return k;
    k++;
  }
}

/** Geometric number of trials until success, >= 1, with the given mean (>= 1). */
export function geometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  const p = 1 / mean;
  return 1 + Math.floor(Math.log(1 - rng()) / Math.log(1 - p));
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** 32-bit FNV-1a of a string: stable keys for per-cell streams. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
