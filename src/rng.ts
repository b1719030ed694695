/**
 * Seeded random streams. Every draw in ssbench comes from a stream derived from the run
 * seed, a purpose string and a pair index, so a pair's randomness does not depend on
 * which worker made it, in which chunk, or in what order.
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform on [0, 1). */
  next(): number;
}

/**
 * Alea (J. Baagøe), seeded by seedrandom and stepped here with the same recurrence, so
 * the numbers are seedrandom's to the bit (tests/rng.test.ts checks this). seedrandom
 * hands out a fresh closure per stream, and V8 will not inline a call site that has seen
 * many closures: the call then costs more than the step. A method of one class is
 * inlined wherever a stream is drawn from, which makes the source 6 % faster.
 */
class AleaStream implements Rng {
  // Initialised as numbers, not left undefined until the constructor runs: a field that
  // starts out undefined holds every later value as a fresh heap number.
  private c = 0;
  private s0 = 0.5;
  private s1 = 0.5;
  private s2 = 0.5;

  constructor(state: { c: number; s0: number; s1: number; s2: number }) {
    this.c = state.c;
    this.s0 = state.s0;
    this.s1 = state.s1;
    this.s2 = state.s2;
  }

  next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10; // 2^-32
    this.s0 = this.s1;
    this.s1 = this.s2;
    this.c = t | 0;
    return (this.s2 = t - this.c);
  }
}

/** The stream for (seed, purpose, index). Alea: fast to seed, good enough statistically. */
export function rngFor(seed: number | string, purpose: string, index: number): Rng {
  return new AleaStream(seedrandom.alea(`${seed}\u0000${purpose}\u0000${index}`, { state: true }).state());
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/*
 * Normal and exponential draws by the ziggurat method (Marsaglia & Tsang, "The ziggurat
 * method for generating random variables", J. Stat. Softw. 5(8), 2000): the source draws
 * several per packet, and a logarithm, a square root and a cosine per draw (Box-Muller)
 * cost more than everything else it does. Each draw takes one 32-bit uniform in the
 * common case; its low bits pick the layer (and the sign) and the remaining 24 bits the
 * point in it, so the two never share bits (the correlation Doornik 2005 found in the
 * original, which used the same bits for both).
 */
const U32 = 4294967296;
const MAG = 16777216; // 2^24: the bits left for the point within a layer

const NORMAL_R = 3.442619855899;
const NORMAL_V = 9.91256303526217e-3;
const kn = new Uint32Array(128);
const wn = new Float64Array(128);
const fn = new Float64Array(128);
const EXP_R = 7.697117470131487;
const EXP_V = 3.949659822581572e-3;
const ke = new Uint32Array(256);
const we = new Float64Array(256);
const fe = new Float64Array(256);
{
  // Layers of equal area NORMAL_V under the half-normal density exp(-x²/2) (unnormalised).
  let dn = NORMAL_R;
  let tn = dn;
  const q = NORMAL_V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * MAG);
  kn[1] = 0;
  wn[0] = q / MAG;
  wn[127] = dn / MAG;
  fn[0] = 1;
  fn[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(NORMAL_V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * MAG);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / MAG;
  }
  // The same for the exponential density exp(-x).
  let de = EXP_R;
  let te = de;
  const qe = EXP_V / Math.exp(-de);
  ke[0] = Math.floor((de / qe) * MAG);
  ke[1] = 0;
  we[0] = qe / MAG;
  we[255] = de / MAG;
  fe[0] = 1;
  fe[255] = Math.exp(-de);
  for (let i = 254; i >= 1; i--) {
    de = -Math.log(EXP_V / de + Math.exp(-de));
    ke[i + 1] = Math.floor((de / te) * MAG);
    te = de;
    fe[i] = Math.exp(-de);
    we[i] = de / MAG;
  }
}

/** Standard exponential (mean 1). */
function standardExponential(rng: Rng): number {
  for (;;) {
    const j = (rng.next() * U32) >>> 0;
    const i = j & 255;
    const m = j >>> 8;
    const x = m * we[i];
    if (m < ke[i]) return x;
    if (i === 0) return EXP_R - Math.log(1 - rng.next());
    if (fe[i] + rng.next() * (fe[i - 1] - fe[i]) < Math.exp(-x)) return x;
  }
}

/** Standard normal. */
function standardNormal(rng: Rng): number {
  for (;;) {
    const j = (rng.next() * U32) >>> 0;
    const i = j & 127;
    // Bit 7 gives the sign; arithmetic, not a branch, since a random sign is a branch
    // mispredicted half the time, which cost as much as the rest of the draw.
    const sign = 1 - ((j >>> 6) & 2);
    const m = j >>> 8;
    const x = m * wn[i];
    if (m < kn[i]) return sign * x;
    if (i === 0) {
      // The tail beyond R, by Marsaglia's method (1964).
      let tx: number;
      let ty: number;
      do {
        tx = -Math.log(1 - rng.next()) / NORMAL_R;
        ty = -Math.log(1 - rng.next());
      } while (ty + ty < tx * tx);
      return sign * (NORMAL_R + tx);
    }
    if (fn[i] + rng.next() * (fn[i - 1] - fn[i]) < Math.exp(-0.5 * x * x)) return sign * x;
  }
}

export function exponential(rng: Rng, mean: number): number {
  return mean * standardExponential(rng);
}

export function normal(rng: Rng, mean = 0, sd = 1): number {
  return mean + sd * standardNormal(rng);
}

/** Log-normal with the given median and log-space standard deviation. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** Pareto(alpha, xmin) truncated to [xmin, xmax] by inverse transform of the truncated CDF. */
export function truncatedPareto(rng: Rng, alpha: number, xmin: number, xmax: number): number {
  const u = rng.next();
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
    p *= rng.next();
    if (p <= l) return k;
    k++;
  }
}

/** Geometric number of trials until success, >= 1, with the given mean (>= 1). */
export function geometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  const p = 1 / mean;
  return 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - p));
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
