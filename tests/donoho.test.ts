import { describe, expect, it } from 'vitest';
import donoho, { type DonohoParams, NO_CORRELATION, commonWindow, donohoScore, keystrokeScaleCorrelations } from '../detectors/donoho/index.js';
import { binCounts, haarScaleCorrelations, haarStep, haarTransform, scaleCorrelations } from '../src/analysis/wavelet.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import { rngFor } from '../src/rng.js';
import source from '../src/sources/synthetic-ssh.js';
import delay from '../perturbations/delay/index.js';
import { type Packet, acks, handPair as pair } from './helpers.js';

const f64 = (a: number[]) => Float64Array.from(a);
const keys = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_FWD] as const);
const echoes = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_BWD] as const);
const R = Math.SQRT1_2;

describe('binCounts', () => {
  it('counts per half-open bin [from + i·w, from + (i + 1)·w) and ignores times outside', () => {
    // from 0, w 0.5, 4 bins: -0.1 (before), 0 and 0.25 -> bin 0; 0.5 and 0.99 -> bin 1;
    // 1.0 -> bin 2; 2.0 = 0 + 4·0.5 is the end of the grid -> out; 2.5 -> out.
    const out = new Float64Array(6).fill(7);
    binCounts(f64([-0.1, 0, 0.25, 0.5, 0.99, 1.0, 2.0, 2.5]), 0, 0.5, 4, out);
    expect(Array.from(out.subarray(0, 4))).toEqual([2, 2, 1, 0]);
    expect(out[4]).toBe(7); // beyond n: untouched
    expect(() => binCounts(f64([]), 0, 0, 4, out)).toThrow(RangeError);
    expect(() => binCounts(f64([]), 0, 1, 9, out)).toThrow(RangeError);
  });
});

describe('Haar transform', () => {
  it('transforms [1, 0, 2, 2] as derived by hand', () => {
    // Level 1: smooth (1 + 0)/√2 = 1/√2, (2 + 2)/√2 = 2√2; detail (1 − 0)/√2 = 1/√2, 0.
    // Level 2: smooth (1/√2 + 2√2)/√2 = 1/2 + 2 = 2.5; detail (1/√2 − 2√2)/√2 = 1/2 − 2 = −1.5.
    // Layout [smooth, level-2 detail, level-1 details] = [2.5, −1.5, 1/√2, 0].
    // Energy kept: 1 + 0 + 4 + 4 = 9 = 6.25 + 2.25 + 0.5 + 0.
    const x = haarTransform(f64([1, 0, 2, 2]));
    const want = [2.5, -1.5, R, 0];
    for (let i = 0; i < 4; i++) expect(x[i]).toBeCloseTo(want[i], 14);
    expect(x.reduce((s, v) => s + v * v, 0)).toBeCloseTo(9, 12);
  });

  it('takes one step in place and drops an odd last value', () => {
    // [1, 2, 3, 4, 9]: pairs (1, 2), (3, 4); 9 has no partner.
    // smooth 3/√2, 7/√2; detail −1/√2, −1/√2.
    const s = f64([1, 2, 3, 4, 9]);
    const d = new Float64Array(2);
    expect(haarStep(s, 5, d)).toBe(2);
    expect(s[0]).toBeCloseTo(3 * R, 14);
    expect(s[1]).toBeCloseTo(7 * R, 14);
    expect(d[0]).toBeCloseTo(-R, 14);
    expect(d[1]).toBeCloseTo(-R, 14);
    expect(() => haarTransform(f64([1, 2, 3]))).toThrow(RangeError);
  });
});

describe('haarScaleCorrelations', () => {
  it('separates fine-scale jitter from coarse-scale agreement (hand example)', () => {
    // x = [1, 0, 2, 2, 0, 1, 3, 1]; y swaps the two bins of every pair:
    // y = [0, 1, 2, 2, 1, 0, 1, 3] (a packet moved across a fine boundary, never across
    // a coarse one).
    // Level 1 (4 coefficients): details of y are minus those of x -> detail corr −1;
    //   the smooth coefficients (pair sums / √2) are equal, [1, 4, 1, 4]/√2 -> Pearson 1.
    // Level 2 (2): from equal smooth inputs, equal details (1 − 4)/2 = −1.5, −1.5 ->
    //   detail corr 1; smooth [2.5, 2.5] is constant -> Pearson undefined (NaN).
    // Level 3 (1): detail (2.5 − 2.5)/√2 = 0, no energy -> NaN; one smooth value -> NaN.
    const out = haarScaleCorrelations(f64([1, 0, 2, 2, 0, 1, 3, 1]), f64([0, 1, 2, 2, 1, 0, 1, 3]), 8, scaleCorrelations());
    expect(out.levels).toBe(3);
    expect(Array.from(out.count.subarray(0, 3))).toEqual([4, 2, 1]);
    expect(out.detail[0]).toBeCloseTo(-1, 14);
    expect(out.detail[1]).toBeCloseTo(1, 14);
    expect(out.detail[2]).toBeNaN();
    expect(out.smooth[0]).toBeCloseTo(1, 14);
    expect(out.smooth[1]).toBeNaN();
    expect(out.smooth[2]).toBeNaN();
  });

  it('agrees with haarStep level by level on random counts', () => {
    let s = 42;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const x = Float64Array.from({ length: 23 }, () => Math.floor(next() * 5));
    const y = Float64Array.from({ length: 23 }, () => Math.floor(next() * 5));
    const out = haarScaleCorrelations(x.slice(), y.slice(), 23, scaleCorrelations());
    // 23 -> 11 -> 5 -> 2 -> 1 coefficients per level.
    expect(out.levels).toBe(4);
    expect(Array.from(out.count.subarray(0, 4))).toEqual([11, 5, 2, 1]);
    let len = 23;
    for (let j = 0; j < out.levels; j++) {
      const dx = new Float64Array(len >> 1);
      const dy = new Float64Array(len >> 1);
      haarStep(x, len, dx);
      len = haarStep(y, len, dy);
      const dot = dx.reduce((a, v, k) => a + v * dy[k], 0);
      const nx = dx.reduce((a, v) => a + v * v, 0);
      const ny = dy.reduce((a, v) => a + v * v, 0);
      if (nx > 0 && ny > 0) expect(out.detail[j]).toBeCloseTo(dot / Math.sqrt(nx * ny), 12);
      else expect(out.detail[j]).toBeNaN();
    }
  });
});

describe('donoho score()', () => {
  const base: DonohoParams = { maxDelay: 1, scaleFactor: 4, binWidth: 1, minCoefficients: 2, coefficients: 'detail' };
  // Both connections are observed over [0, 8] (ACKs at the ends, not keystrokes): 8 bins
  // of 1 s. Incoming keystroke counts per bin [1, 0, 2, 2, 0, 1, 3, 1]; outgoing ones have
  // the bins of every pair swapped, [0, 1, 2, 2, 1, 0, 1, 3]: the hand example above.
  const frame = (...k: Packet[]) => flowOf([...acks(DIR_BWD, 0, 8), ...k]);
  const inc = frame(...keys(0.5, 2.2, 2.6, 3.1, 3.7, 5.5, 6.1, 6.4, 6.8, 7.3), ...echoes(0.6, 1.5));
  const out = frame(...keys(1.2, 2.3, 2.7, 3.2, 3.8, 4.2, 6.5, 7.1, 7.4, 7.7));

  it('declares its defaults', () => {
    expect(defaultParams(donoho.params)).toEqual({
      maxDelay: 0.5,
      scaleFactor: 4,
      binWidth: 0.0625,
      minCoefficients: 8,
      coefficients: 'detail',
    });
  });

  it('averages the correlations of the scales of at least c·Δ with enough coefficients', () => {
    expect(commonWindow(pair(inc, out))).toEqual({ from: 0, to: 8 });
    // Scales 2, 4, 8 s have detail correlations −1, 1, NaN with 4, 2, 1 coefficients.
    // c·Δ = 4 s: scales 4 and 8; 8 s has 1 < 2 coefficients -> mean of {1} = 1.
    expect(donohoScore(pair(inc, out), base)).toBeCloseTo(1, 14);
    // c·Δ = 2 s: scales 2 and 4 -> (−1 + 1)/2 = 0.
    expect(donohoScore(pair(inc, out), { ...base, maxDelay: 0.5 })).toBeCloseTo(0, 14);
    // Smooth coefficients, c·Δ = 2 s: Pearson 1 (2 s) and undefined -> 0 (4 s): 0.5.
    expect(donohoScore(pair(inc, out), { ...base, maxDelay: 0.5, coefficients: 'smooth' })).toBeCloseTo(0.5, 14);
    // Asking for 4 coefficients leaves only the 2 s scale, which c·Δ = 4 s excludes.
    expect(donohoScore(pair(inc, out), { ...base, minCoefficients: 4 })).toBe(NO_CORRELATION);
  });

  it('is symmetric in the two connections and counts only keystrokes', () => {
    expect(donohoScore(pair(out, inc), { ...base, maxDelay: 0.5 })).toBeCloseTo(0, 14);
    const s = keystrokeScaleCorrelations(pair(inc, out), 1, scaleCorrelations());
    expect(s?.count[0]).toBe(4); // the echoes at 0.6 and 1.5 did not enter the counts
    expect(s?.detail[0]).toBeCloseTo(-1, 14);
  });

  it('is 1 for a relay whose delays never cross a boundary of the scales used', () => {
    // Outgoing = incoming + 0.1 s: no keystroke leaves its 1 s bin, so every level agrees.
    const relay = frame(...keys(0.6, 2.3, 2.7, 3.2, 3.8, 5.6, 6.2, 6.5, 6.9, 7.4));
    expect(donohoScore(pair(inc, relay), { ...base, maxDelay: 0.25 })).toBeCloseTo(1, 14);
  });

  it('gives the floor score when there is nothing to correlate', () => {
    const silent = frame(...echoes(1, 2));
    expect(donohoScore(pair(inc, silent), base)).toBe(NO_CORRELATION);
    expect(donohoScore(pair(flowOf([]), out), base)).toBe(NO_CORRELATION);
    // Overlap of 1.5 s at 1 s bins: one bin, no Haar step.
    const short = flowOf(keys(0, 0.5, 1.5));
    expect(donohoScore(pair(short, short), base)).toBe(NO_CORRELATION);
  });

  it('scores each pair independently of the batch', () => {
    const p = { ...base, maxDelay: 0.5 };
    const relay = frame(...keys(0.6, 2.3, 2.7, 3.2, 3.8, 5.6, 6.2, 6.5, 6.9, 7.4));
    const both = donoho.score([pair(inc, out), pair(inc, relay)], p);
    expect(both[0]).toBe(donoho.score([pair(inc, out)], p)[0]);
    expect(both[1]).toBe(donoho.score([pair(inc, relay)], p)[0]);
    expect(donoho.score([], p).length).toBe(0);
  });
});

describe('donoho on synthetic SSH pairs', () => {
  // Windows that open mid-session: both connections carry the relayed keystrokes only,
  // without the session starts and the typing at S before the hop (which the default
  // windows show, and which lower a relay's correlation to about 0.75 on average).
  const sp = { ...defaultParams(source.params), sessionStart: false };
  const make = (i: number, relayed: boolean) => source.pair({ seed: 7, dataset: 'donoho', index: i, relayed }, sp);

  it('separates 100 relayed from 200 unrelated pairs', () => {
    const pos = Array.from({ length: 100 }, (_, i) => make(i, true));
    const neg = Array.from({ length: 200 }, (_, i) => make(100 + i, false));
    const p = defaultParams(donoho.params);
    const sPos = donoho.score(pos, p);
    const sNeg = donoho.score(neg, p);
    // Measured: AUC 1.000; relays near 1, unrelated pairs spread around 0.
    expect(rocPoint(sPos, sNeg, []).auc).toBeGreaterThan(0.95);
    const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(sPos)).toBeGreaterThan(0.9);
    expect(Math.abs(mean(sNeg))).toBeLessThan(0.1);
  });

  it('loses the correlation of a jittered relay at fine scales and keeps it at coarse ones', () => {
    // Delays uniform on [0, 0.5 s]: measured mean detail correlation over 200 relays
    // about 0.00 at the 0.25 s scale and 0.93 at 8 s.
    const dp = { ...defaultParams(delay.params), max: 0.5 };
    const fine: number[] = [];
    const coarse: number[] = [];
    for (let i = 0; i < 40; i++) {
      const q = delay.apply(make(i, true), dp, rngFor(7, 'delay', i));
      const s = keystrokeScaleCorrelations(q, 0.0625, scaleCorrelations());
      if (!s) continue;
      fine.push(s.detail[1] || 0); // level 2: 0.0625·4 = 0.25 s
      coarse.push(s.detail[6] || 0); // level 7: 8 s
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(fine.length).toBeGreaterThan(30);
    expect(mean(fine)).toBeLessThan(0.3);
    expect(mean(coarse)).toBeGreaterThan(0.8);
  });
});
