import { describe, expect, it } from 'vitest';
import heTong, { heTongScore } from '../detectors/he-tong/index.js';
import { matchBoundedDelay, matchedPairs, unmatchedFraction } from '../src/analysis/matching.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, fwd, bwd, acks, handPair as pair } from './helpers.js';

const f64 = (a: number[]) => Float64Array.from(a);

/** The matched pairs as [i, j] rows. */
function pairsOf(a: number[], b: number[], maxDelay: number, minDelay = 0): [number, number][] {
  const out = matchedPairs(Math.min(a.length, b.length));
  const n = matchBoundedDelay(f64(a), f64(b), maxDelay, minDelay, out);
  return Array.from({ length: n }, (_, k) => [out.aIndex[k], out.bIndex[k]]);
}

/** Reference: maximum order-preserving matching by an O(n·m) LCS-style table. */
function bestNonCrossing(a: number[], b: number[], lo: number, hi: number): number {
  const f = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const ok = b[j - 1] >= a[i - 1] + lo && b[j - 1] <= a[i - 1] + hi ? 1 : 0;
      f[i][j] = Math.max(f[i - 1][j], f[i][j - 1], f[i - 1][j - 1] + ok);
    }
  }
  return f[a.length][b.length];
}

/** Reference: maximum bipartite matching, crossings allowed (augmenting paths). */
function bestAnyOrder(a: number[], b: number[], lo: number, hi: number): number {
  const owner = new Array<number>(b.length).fill(-1);
  const ok = (i: number, j: number) => b[j] >= a[i] + lo && b[j] <= a[i] + hi;
  const augment = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < b.length; j++) {
      if (!ok(i, j) || seen[j]) continue;
      seen[j] = true;
      if (owner[j] < 0 || augment(owner[j], seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  let n = 0;
  for (let i = 0; i < a.length; i++) if (augment(i, new Array<boolean>(b.length).fill(false))) n++;
  return n;
}

describe('matchBoundedDelay', () => {
  it('window [t, t + Δ] is closed at both ends', () => {
    // a = 1, Δ = 0.5: window [1, 1.5]; 1 + 0.5 = 1.5 exactly in binary.
    expect(matchBoundedDelay(f64([1]), f64([1.5]), 0.5)).toBe(1); // exactly t + Δ: inside
    expect(matchBoundedDelay(f64([1]), f64([1]), 0.5)).toBe(1); // exactly t: inside (instant relay)
    expect(matchBoundedDelay(f64([1]), f64([1.5 + 1e-9]), 0.5)).toBe(0); // just beyond t + Δ
    expect(matchBoundedDelay(f64([1]), f64([1 - 1e-9]), 0.5)).toBe(0); // just before t: out
    // Δ = 0: only b at exactly t. a = [1, 1, 1], b = [1, 1] -> 2 pairs, taken in index order.
    expect(pairsOf([1, 1, 1], [1, 1], 0)).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('never crosses: pairs increase in both a and b', () => {
    // a = [0, 0.1], b = [0.2, 0.3], Δ = 0.5: all four (a, b) combinations are inside their
    // windows, so the crossing matching {0-1, 1-0} would also be valid as a bipartite
    // matching; the order-preserving one is {0-0, 1-1}.
    expect(pairsOf([0, 0.1], [0.2, 0.3], 0.5)).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('takes the earliest candidate, which is what lets later packets match', () => {
    // a = [0, 0.2], b = [0.2, 0.4], Δ = 0.45. Windows: a0 [0, 0.45] holds b0 and b1;
    // a1 [0.2, 0.65] holds b0 and b1. Earliest: a0-b0, then a1-b1: 2 pairs.
    // Had a0 taken b1, order preservation would leave a1 only b0 (crossing): 1 pair.
    expect(pairsOf([0, 0.2], [0.2, 0.4], 0.45)).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('skips b packets too early for the current a and leaves a unmatched when its window is empty', () => {
    // a = [1, 2, 3], b = [0.5, 1.1, 2.9, 3.2], Δ = 0.5.
    // a0 = 1: skip b0 = 0.5 (< 1); b1 = 1.1 <= 1.5 -> (0, 1).
    // a1 = 2: b2 = 2.9 > 2.5 -> unmatched, b2 kept.
    // a2 = 3: skip b2 = 2.9 (< 3); b3 = 3.2 <= 3.5 -> (2, 3).
    // b0 fits no window ([1,1.5], [2,2.5], [3,3.5]) nor does b2: 2 is the maximum.
    expect(pairsOf([1, 2, 3], [0.5, 1.1, 2.9, 3.2], 0.5)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('honours a minimum delay: window [t + minDelay, t + maxDelay]', () => {
    // a = [0, 1], b = [0.05, 1.2], window [t + 0.1, t + 0.5]:
    // a0: [0.1, 0.5]: skip b0 = 0.05; b1 = 1.2 > 0.5 -> unmatched. a1: [1.1, 1.5] -> b1.
    expect(pairsOf([0, 1], [0.05, 1.2], 0.5, 0.1)).toEqual([[1, 1]]);
    // Lower edge inside: a = 1, minDelay 0.25 -> b = 1.25 matches.
    expect(matchBoundedDelay(f64([1]), f64([1.25]), 0.5, 0.25)).toBe(1);
  });

  it('handles empty sequences', () => {
    const none = f64([]);
    expect(matchBoundedDelay(none, none, 0.5)).toBe(0);
    expect(matchBoundedDelay(f64([1, 2]), none, 0.5)).toBe(0);
    expect(matchBoundedDelay(none, f64([1, 2]), 0.5)).toBe(0);
  });

  it('refuses a bad window or short buffers', () => {
    expect(() => matchBoundedDelay(f64([1]), f64([1]), 0.1, 0.2)).toThrow(RangeError);
    expect(() => matchBoundedDelay(f64([1]), f64([1]), Number.NaN)).toThrow(RangeError);
    expect(() => matchBoundedDelay(f64([1]), f64([1]), 0.5, -1)).toThrow(RangeError);
    expect(() => matchBoundedDelay(f64([1, 2]), f64([1, 2]), 0.5, 0, matchedPairs(1))).toThrow(RangeError);
    // min(n, m) is always enough.
    expect(matchBoundedDelay(f64([1, 2, 3]), f64([1, 2]), 0.5, 0, matchedPairs(2))).toBe(2);
  });

  it('equals the maximum matching (order-preserving and unconstrained) on random small cases', () => {
    // Deterministic LCG; times on a 0.05 s grid so that boundary ties happen often.
    let s = 12345;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const seq = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 40) * 0.05).sort((x, y) => x - y);
    for (let trial = 0; trial < 300; trial++) {
      const a = seq(Math.floor(next() * 9));
      const b = seq(Math.floor(next() * 9));
      const lo = trial % 3 === 0 ? 0.1 : 0;
      const hi = lo + [0, 0.05, 0.2, 0.5][trial % 4];
      const got = matchBoundedDelay(f64(a), f64(b), hi, lo);
      expect(got).toBe(bestNonCrossing(a, b, lo, hi));
      expect(got).toBe(bestAnyOrder(a, b, lo, hi));
    }
  });
});

describe('unmatchedFraction', () => {
  it('is (n + m - 2 matched) / (n + m), 1 for two empty sequences', () => {
    // a = [1, 2], b = [1.1, 5], Δ = 0.5: one pair; (4 - 2) / 4 = 0.5.
    expect(unmatchedFraction(f64([1, 2]), f64([1.1, 5]), 0.5)).toBe(0.5);
    expect(unmatchedFraction(f64([]), f64([]), 0.5)).toBe(1);
  });
});

describe('he-tong score()', () => {
  const p = { maxDelay: 0.5 };

  it('declares maxDelay = 0.5 s by default', () => {
    expect(defaultParams(heTong.params)).toEqual({ maxDelay: 0.5 });
  });

  it('is 0 for a relay whose delay is below Δ, whatever the echoes and ACKs', () => {
    // Keystrokes in at 1, 2, 3, out 0.1 s later; echoes and ACKs are ignored.
    const a = flowOf([...fwd(1, 2, 3), ...bwd(1.05, 2.05, 3.05), ...acks(DIR_FWD, 1.06, 2.06)]);
    const b = flowOf([...fwd(1.1, 2.1, 3.1), ...bwd(1.15), ...acks(DIR_BWD, 0.5, 1.12)]);
    expect(Array.from(heTong.score([pair(a, b, true)], p))).toEqual([0]);
  });

  it('is minus the chaff share when chaff cannot be matched', () => {
    // Incoming keystrokes 1, 2, 3 and chaff at 5, 6; outgoing 1.1, 2.1, 3.1.
    // n_a = 5, n_b = 3, matched 3 -> -(8 - 6) / 8 = -0.25 (2 chaff of 8 packets).
    const a = flowOf(fwd(1, 2, 3, 5, 6));
    expect(heTongScore(pair(a, flowOf(fwd(1.1, 2.1, 3.1))), 0.5)).toBe(-0.25);
    // Plus chaff on the outgoing side at 0.5 (before any input): n_b = 4, matched 3,
    // -(9 - 6) / 9 = -1/3.
    expect(heTongScore(pair(a, flowOf(fwd(0.5, 1.1, 2.1, 3.1))), 0.5)).toBeCloseTo(-1 / 3, 15);
  });

  it('lets chaff near a real keystroke cost only itself', () => {
    // a = [1, 1.05 (chaff), 2, 3], b = [1.1, 2.1, 3.1]: a0-b0; a1 window [1.05, 1.55] is
    // empty (b1 = 2.1) -> unmatched; a2-b1, a3-b2. matched 3, total 7 -> -1/7.
    const s = heTongScore(pair(flowOf(fwd(1, 1.05, 2, 3)), flowOf(fwd(1.1, 2.1, 3.1))), 0.5);
    expect(s).toBeCloseTo(-1 / 7, 15);
  });

  it('is low for unrelated streams', () => {
    // Disjoint in time: nothing matches -> -1.
    expect(heTongScore(pair(flowOf(fwd(1, 2, 3)), flowOf(fwd(10, 11))), 0.5)).toBe(-1);
    // a = [1, 2, 3, 4], b = [1.2, 3.7, 8]: a0-b0 (1.2 in [1, 1.5]); a1 [2, 2.5] no;
    // a2 [3, 3.5]: 3.7 no; a3 [4, 4.5]: skip 3.7, 8 no. matched 1, total 7 -> -5/7.
    expect(heTongScore(pair(flowOf(fwd(1, 2, 3, 4)), flowOf(fwd(1.2, 3.7, 8))), 0.5)).toBeCloseTo(-5 / 7, 15);
  });

  it('uses maxDelay: a relay slower than Δ looks unrelated', () => {
    // Delay 0.6 s: outside [t, t + 0.5] -> -1; inside [t, t + 1] -> 0.
    const q = pair(flowOf(fwd(1, 2, 3)), flowOf(fwd(1.6, 2.6, 3.6)));
    expect(Array.from(heTong.score([q], { maxDelay: 0.5 }))).toEqual([-1]);
    expect(Array.from(heTong.score([q], { maxDelay: 1 }))).toEqual([0]);
  });

  it('scores -1 when there are no keystrokes to compare', () => {
    const empty = flowOf([]);
    const noKeys = flowOf([...bwd(1, 2), ...acks(DIR_FWD, 1.5)]);
    expect(heTongScore(pair(empty, empty), 0.5)).toBe(-1);
    expect(heTongScore(pair(noKeys, noKeys), 0.5)).toBe(-1);
    // One side empty: -(n + 0 - 0) / n = -1, the same value.
    expect(heTongScore(pair(flowOf(fwd(1, 2)), empty), 0.5)).toBe(-1);
    expect(heTongScore(pair(empty, flowOf(fwd(1, 2))), 0.5)).toBe(-1);
  });

  it('scores each pair independently of the batch', () => {
    const relayed = pair(flowOf(fwd(1, 2, 3)), flowOf(fwd(1.1, 2.1, 3.1)));
    const unrelated = pair(flowOf(fwd(1, 2, 3, 4)), flowOf(fwd(1.2, 3.7, 8)));
    const both = heTong.score([unrelated, relayed], p);
    expect(both[1]).toBe(0);
    expect(both[0]).toBe(heTong.score([unrelated], p)[0]);
    expect(heTong.score([], p).length).toBe(0);
  });
});

describe('he-tong on synthetic SSH pairs', () => {
  it('separates 100 relayed from 200 unrelated pairs (AUC > 0.8)', () => {
    const sp = defaultParams(source.params);
    const make = (i: number, relayed: boolean) => source.pair({ seed: 7, dataset: 'he-tong', index: i, relayed }, sp);
    const pos = Array.from({ length: 100 }, (_, i) => make(i, true));
    const neg = Array.from({ length: 200 }, (_, i) => make(100 + i, false));
    const params = defaultParams(heTong.params);
    const { auc } = rocPoint(heTong.score(pos, params), heTong.score(neg, params), []);
    // Measured: 1.000 (every relayed pair scores 0; the best unrelated one about -0.28).
    expect(auc).toBeGreaterThan(0.8);
  });
});
