import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { normalCdf } from '../detectors/ano2/index.js';
import { exponential, normal, rngFor } from '../src/rng.js';

const N = 200_000;
/** Kolmogorov–Smirnov critical value at the 0.1 % level for one sample of N. */
const KS_CRIT = 1.95 / Math.sqrt(N);

function ks(sample: Float64Array, cdf: (x: number) => number): number {
  const s = Float64Array.from(sample).sort();
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  }
  return d;
}

// The ziggurat's base strip (beyond R = 3.4426 for the normal, 7.6971 for the
// exponential) goes through a separate tail method; the share of draws there must match
// the distribution's own tail, or that path is wrong.
describe('ziggurat draws', () => {
  it('normal(): standard normal by KS, moments and the tail beyond R', () => {
    const rng = rngFor(7, 'normal-test', 0);
    const x = new Float64Array(N);
    let tail = 0;
    for (let i = 0; i < N; i++) {
      x[i] = normal(rng);
      if (Math.abs(x[i]) > 3.442619855899) tail++;
    }
    expect(ks(x, normalCdf)).toBeLessThan(KS_CRIT);
    const mean = x.reduce((a, b) => a + b, 0) / N;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / N;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(N));
    expect(variance).toBeGreaterThan(0.985);
    expect(variance).toBeLessThan(1.015);
    // P(|Z| > R) = 5.77e-4: about 115 of 200,000 (Poisson sd 11).
    expect(tail).toBeGreaterThan(70);
    expect(tail).toBeLessThan(160);
    // Both signs, in equal measure.
    const positive = x.filter((v) => v > 0).length;
    expect(Math.abs(positive - N / 2)).toBeLessThan(4 * Math.sqrt(N / 4));
  });

  it('normal(mean, sd) scales and shifts', () => {
    const a = rngFor(7, 'scale', 1);
    const b = rngFor(7, 'scale', 1);
    for (let i = 0; i < 100; i++) expect(normal(a, 3, 0.5)).toBeCloseTo(3 + 0.5 * normal(b), 12);
  });

  it('exponential(): by KS, mean and the tail beyond R', () => {
    const rng = rngFor(7, 'exp-test', 0);
    const x = new Float64Array(N);
    let tail = 0;
    for (let i = 0; i < N; i++) {
      x[i] = exponential(rng, 1);
      if (x[i] > 7.697117470131487) tail++;
    }
    expect(ks(x, (v) => 1 - Math.exp(-v))).toBeLessThan(KS_CRIT);
    const mean = x.reduce((a, b) => a + b, 0) / N;
    expect(Math.abs(mean - 1)).toBeLessThan(4 / Math.sqrt(N));
    // P(X > R) = e^−R = 4.54e-4: about 91 of 200,000 (Poisson sd 9.5).
    expect(tail).toBeGreaterThan(55);
    expect(tail).toBeLessThan(130);
    expect(x.every((v) => v >= 0)).toBe(true);
  });

  it('exponential(mean) scales', () => {
    const a = rngFor(7, 'scale', 2);
    const b = rngFor(7, 'scale', 2);
    for (let i = 0; i < 100; i++) expect(exponential(a, 0.25)).toBeCloseTo(0.25 * exponential(b, 1), 12);
  });
});

describe('streams', () => {
  it("are seedrandom's alea streams, number for number", () => {
    // rngFor steps alea itself (see src/rng.ts); every number must still be seedrandom's.
    for (const [seed, purpose, index] of [
      [1, 'source/perf', 0],
      [42, 'perturb/default/0/chaff', 123_456],
      ['paper', 'bootstrap/x', 7],
    ] as const) {
      const ours = rngFor(seed, purpose, index);
      const theirs = seedrandom.alea(`${seed}\u0000${purpose}\u0000${index}`);
      for (let i = 0; i < 100_000; i++) {
        const a = ours.next();
        const b = theirs();
        if (a !== b) expect({ draw: i, value: a }).toEqual({ draw: i, value: b });
      }
    }
  });

  it('differ by seed, purpose and index', () => {
    const first = (seed: number, purpose: string, index: number) => rngFor(seed, purpose, index).next();
    const base = first(1, 'a', 0);
    expect(first(2, 'a', 0)).not.toBe(base);
    expect(first(1, 'b', 0)).not.toBe(base);
    expect(first(1, 'a', 1)).not.toBe(base);
    expect(first(1, 'a', 0)).toBe(base);
  });
});
