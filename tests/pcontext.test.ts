import { describe, expect, it } from 'vitest';
import pcontext, { contextCorrelations, echoTimes, gapsOf, pcontextScore, pearson } from '../detectors/pcontext/index.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, handPair as pair } from './helpers.js';

const f64 = (a: number[]) => Float64Array.from(a);
const sends = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_FWD] as const);
const echoes = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_BWD] as const);

describe('gapsOf and pearson', () => {
  it('takes the gaps between consecutive echoes', () => {
    expect(Array.from(gapsOf(f64([1, 1.5, 3])))).toEqual([0.5, 1.5]);
    expect(gapsOf(f64([2])).length).toBe(0);
    expect(gapsOf(f64([])).length).toBe(0);
  });

  it('computes the Pearson correlation of two windows', () => {
    expect(pearson(f64([1, 2, 3]), 0, f64([2, 4, 6]), 0, 3)).toBe(1);
    expect(pearson(f64([1, 2, 3]), 0, f64([3, 2, 1]), 0, 3)).toBe(-1);
    // x = 1 2 3 4, y = 1 3 2 4: deviations (−1.5 −0.5 0.5 1.5) and (−1.5 0.5 −0.5 1.5);
    // covariance sum 2.25 − 0.25 − 0.25 + 2.25 = 4; variance sums 5 and 5 -> 0.8.
    expect(pearson(f64([1, 2, 3, 4]), 0, f64([1, 3, 2, 4]), 0, 4)).toBeCloseTo(0.8, 15);
    // Windows at offsets: x[1..3] = 1 2 3, y[0..2] = 2 4 6 -> 1.
    expect(pearson(f64([9, 1, 2, 3]), 1, f64([2, 4, 6, 9]), 0, 3)).toBe(1);
    // A constant window has no pattern to correlate: 0.
    expect(pearson(f64([2, 2, 2]), 0, f64([1, 2, 3]), 0, 3)).toBe(0);
  });
});

describe('contextCorrelations', () => {
  // Echoes whose neighbours are all more than Δ = 0.5 s apart, so that each incoming echo
  // has at most one candidate. Gaps: 1, 2, 0.6, 2, 1.4, 0.8. With h = 2 the echoes 2, 3, 4
  // have full contexts: (1 2 0.6 2), (2 0.6 2 1.4), (0.6 2 1.4 0.8).
  const a = f64([0, 1, 3, 3.6, 5.6, 7, 7.8]);

  it('finds correlation 1 for a relay that forwards every echo within Δ', () => {
    const b = a.map((t) => t - 0.001);
    const best = contextCorrelations(a, b, 2, 0.5);
    expect(best.length).toBe(3);
    for (const r of best) expect(r).toBeCloseTo(1, 9);
  });

  it('aligns contexts by time, not by index', () => {
    // An extra outgoing echo long before: b[j + 1] is a[j]'s original; still 1, 1, 1.
    const b = f64([-10, ...Array.from(a, (t) => t - 0.001)]);
    for (const r of contextCorrelations(a, b, 2, 0.5)) expect(r).toBeCloseTo(1, 9);
  });

  it('takes candidates in [t − Δ, t] only, closed at both ends', () => {
    // 0.5 s earlier: exactly t − Δ, still a candidate (the same expression t − 0.5 on both
    // sides, so no rounding between them) -> 1. 0.55 s earlier: a[k]'s original is out,
    // and no other echo falls in (that would need two echoes 0.05 … 0.55 s apart; the
    // closest are 0.6 apart) -> −1.
    for (const r of contextCorrelations(a, a.map((t) => t - 0.5), 2, 0.5)) expect(r).toBeCloseTo(1, 9);
    expect(Array.from(contextCorrelations(a, a.map((t) => t - 0.55), 2, 0.5))).toEqual([-1, -1, -1]);
    // Later than t: the relay cannot forward an echo before it has it -> −1.
    expect(Array.from(contextCorrelations(a, a.map((t) => t + 0.001), 2, 0.5))).toEqual([-1, -1, -1]);
  });

  it('correlates different contexts below 1', () => {
    // a = 0 1 3 4 7: one full context (k = 2), gaps (1 2 1 3). b = −1.2 −0.2 2.8 4.8 8.8:
    // gaps (1 3 2 4); b[2] = 2.8 is in [2.5, 3]. Deviations (−0.75 0.25 −0.75 1.25) and
    // (−1.5 0.5 −0.5 1.5): covariance 3.5, variances 2.75 and 5 -> 3.5 / √13.75.
    const best = contextCorrelations(f64([0, 1, 3, 4, 7]), f64([-1.2, -0.2, 2.8, 4.8, 8.8]), 2, 0.5);
    expect(best.length).toBe(1);
    expect(best[0]).toBeCloseTo(3.5 / Math.sqrt(13.75), 12);
  });

  it('has no context when there are fewer than 2h + 1 echoes', () => {
    expect(contextCorrelations(f64([0, 1, 2, 3]), f64([0, 1, 2, 3]), 2, 0.5).length).toBe(0);
  });
});

describe('pcontext score()', () => {
  const p = defaultParams(pcontext.params);
  // Eleven keystrokes at irregular times (gaps 0.3 … 2.5 s), enough for one full context
  // of h = 5 on each side plus one: 2h + 1 = 11 echoes -> exactly one context.
  const keys = [1, 1.3, 2.1, 2.6, 4.6, 5.0, 7.5, 7.9, 8.6, 9.9, 10.4];
  const incoming = flowOf([...sends(...keys), ...echoes(...keys.map((t) => t + 0.062))]);
  const outgoing = flowOf([...sends(...keys.map((t) => t + 0.001)), ...echoes(...keys.map((t) => t + 0.061))]);

  it('declares its defaults', () => {
    expect(p).toEqual({ context: 5, maxDelay: 0.5, maxRtt: 1, statistic: 'mean-correlation', minCorrelation: 0.9 });
  });

  it('takes the echoes that answer a send, not output or unanswered sends', () => {
    // Send 0, echo 0.05, output 0.06 (nothing outstanding): only 0.05.
    expect(Array.from(echoTimes(flowOf([...sends(0), ...echoes(0.05, 0.06)]), 1))).toEqual([0.05]);
  });

  it('scores a relay 1 on both statistics', () => {
    expect(pcontextScore(pair(incoming, outgoing, true), p)).toBeCloseTo(1, 9);
    expect(pcontextScore(pair(incoming, outgoing, true), { ...p, statistic: 'matched-share' })).toBe(1);
  });

  it('is not moved by chaff sends, which get no echo', () => {
    // Chaff 0.2 s after every keystroke. Greedy matching may pair a chaff send with the
    // next keystroke's echo, but every echo still answers some send, so the echo times,
    // and the contexts, are the same.
    const chaffed = flowOf([...sends(...keys, ...keys.map((t) => t + 0.2)), ...echoes(...keys.map((t) => t + 0.062))]);
    expect(Array.from(echoTimes(chaffed, 1))).toEqual(Array.from(echoTimes(incoming, 1)));
    expect(pcontextScore(pair(chaffed, outgoing, true), p)).toBe(pcontextScore(pair(incoming, outgoing, true), p));
  });

  it('scores unrelated timing lower, and below the matched-share threshold', () => {
    // The outgoing session types the same number of keys at other gaps, with its middle
    // echo (6th of 11) just before the incoming middle echo, so there is a candidate.
    const other = [1.5, 2.0, 2.6, 4.5, 4.8, 5.0, 6.0, 6.3, 8.8, 9.0, 9.1];
    const outOther = flowOf([...sends(...other), ...echoes(...other.map((t) => t + 0.06))]);
    const r = pcontextScore(pair(incoming, outOther), p);
    // Incoming context gaps: 0.3 0.8 0.5 2 0.4 | 2.5 0.4 0.7 1.3 0.5; outgoing: 0.5 0.6 1.9
    // 0.3 0.2 | 1 0.3 2.5 0.2 0.1. Their correlation is that of two unrelated patterns.
    const inGaps = f64([0.3, 0.8, 0.5, 2, 0.4, 2.5, 0.4, 0.7, 1.3, 0.5]);
    const outGaps = f64([0.5, 0.6, 1.9, 0.3, 0.2, 1, 0.3, 2.5, 0.2, 0.1]);
    expect(r).toBeCloseTo(pearson(inGaps, 0, outGaps, 0, 10), 9);
    expect(r).toBeLessThan(0.5);
    expect(pcontextScore(pair(incoming, outOther), { ...p, statistic: 'matched-share' })).toBe(0);
  });

  it('scores pairs without a full context at the bottom of each scale', () => {
    const short = flowOf([...sends(1, 2, 3), ...echoes(1.05, 2.05, 3.05)]);
    expect(pcontextScore(pair(short, short, true), p)).toBe(-1);
    expect(pcontextScore(pair(short, short, true), { ...p, statistic: 'matched-share' })).toBe(0);
    expect(pcontextScore(pair(flowOf([]), flowOf([])), p)).toBe(-1);
  });

  it('scores each pair independently of the batch', () => {
    const short = flowOf([...sends(1, 2, 3), ...echoes(1.05, 2.05, 3.05)]);
    const both = pcontext.score([pair(short, short), pair(incoming, outgoing, true)], p);
    expect(both[0]).toBe(-1);
    expect(both[1]).toBe(pcontext.score([pair(incoming, outgoing, true)], p)[0]);
    expect(pcontext.score([], p).length).toBe(0);
  });
});

describe('pcontext on synthetic SSH pairs', () => {
  it('separates 100 relayed from 200 unrelated pairs (AUC > 0.8)', () => {
    const sp = defaultParams(source.params);
    const make = (i: number, relayed: boolean) => source.pair({ seed: 7, dataset: 'pcontext', index: i, relayed }, sp);
    const pos = Array.from({ length: 100 }, (_, i) => make(i, true));
    const neg = Array.from({ length: 200 }, (_, i) => make(100 + i, false));
    const params = defaultParams(pcontext.params);
    const { auc } = rocPoint(pcontext.score(pos, params), pcontext.score(neg, params), []);
    expect(auc).toBeGreaterThan(0.8);
  });
});
