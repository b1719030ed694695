import { describe, expect, it } from 'vitest';
import wang, { cpfFloor, ipdCorrelation, ipds, offsetCorrelation } from '../detectors/wang-ipd/index.js';
import { DIR_BWD, DIR_FWD, type FlowPair, flowOf } from '../src/flow.js';
import { lognormal, rngFor } from '../src/rng.js';

const f64 = (a: number[]) => Float64Array.from(a);

describe('ipds', () => {
  it('takes consecutive differences', () => {
    expect(Array.from(ipds(f64([1, 1.5, 4, 4])))).toEqual([0.5, 2.5, 0]);
    expect(ipds(f64([7])).length).toBe(0);
    expect(ipds(f64([])).length).toBe(0);
  });
});

describe('offsetCorrelation (hand-computed)', () => {
  const x = f64([1, 2, 3]);
  const y = f64([2, 2, 3]);

  it('mms: mean over windows of sum(min)/sum(max)', () => {
    // k=0, s=2: [1,2]/[2,2] -> (1+2)/(2+2) = 0.75; [2,3]/[2,3] -> 5/5 = 1; mean 0.875.
    expect(offsetCorrelation(x, y, 0, 2, 'mms')).toBe(0.875);
    // k=0, s=3: one window: min 1+2+3 = 6, max 2+2+3 = 7 -> 6/7.
    expect(offsetCorrelation(x, y, 0, 3, 'mms')).toBeCloseTo(6 / 7, 15);
    // k=1: x[i] ~ y[i+1], i in 0..1: [1,2]/[2,3] -> 3/5 = 0.6.
    expect(offsetCorrelation(x, y, 1, 2, 'mms')).toBeCloseTo(0.6, 15);
    // k=-1: x[i] ~ y[i-1], i in 1..2: [2,3]/[2,2] -> min 2+2 = 4, max 2+3 = 5 -> 0.8.
    expect(offsetCorrelation(x, y, -1, 2, 'mms')).toBeCloseTo(0.8, 15);
    // y = 2x: every window sum(x)/sum(2x) = 0.5.
    expect(offsetCorrelation(f64([1, 4, 2, 8]), f64([2, 8, 4, 16]), 0, 2, 'mms')).toBeCloseTo(0.5, 15);
    // All-zero window: sum(max) = 0 counts as a perfect match.
    expect(offsetCorrelation(f64([0, 0]), f64([0, 0]), 0, 2, 'mms')).toBe(1);
  });

  it('is NaN when no window of s aligned delays fits', () => {
    expect(offsetCorrelation(x, y, 0, 4, 'mms')).toBeNaN();
    // k=2 leaves one aligned pair (x[0] ~ y[2]) < s = 2.
    expect(offsetCorrelation(x, y, 2, 2, 'mms')).toBeNaN();
    expect(offsetCorrelation(x, y, 5, 2, 'pearson')).toBeNaN();
    expect(offsetCorrelation(x, y, -5, 2, 'ndp')).toBeNaN();
  });

  it('ndp: sum(xy) / max(sum(x^2), sum(y^2))', () => {
    // [1,2]/[2,2]: xy = 2+4 = 6, xx = 5, yy = 8 -> 0.75.
    expect(offsetCorrelation(f64([1, 2]), f64([2, 2]), 0, 2, 'ndp')).toBe(0.75);
    // y = 2x: sum(xy) = 2 sum(x^2), max = 4 sum(x^2) -> 0.5 in every window.
    expect(offsetCorrelation(f64([1, 3, 2, 5]), f64([2, 6, 4, 10]), 0, 3, 'ndp')).toBeCloseTo(0.5, 15);
  });

  it('pearson: 1 for y = 2x + 1, -1 for y = -x, 0 for a constant window', () => {
    const xs = f64([0.3, 0.1, 0.7, 0.2, 0.9, 0.4]);
    const lin = xs.map((v) => 2 * v + 1);
    const neg = xs.map((v) => -v);
    expect(offsetCorrelation(xs, lin, 0, 3, 'pearson')).toBeCloseTo(1, 9);
    expect(offsetCorrelation(xs, neg, 0, 3, 'pearson')).toBeCloseTo(-1, 9);
    // Window of 2 constant x: variance 0 -> 0.
    expect(offsetCorrelation(f64([1, 1]), f64([1, 2]), 0, 2, 'pearson')).toBe(0);
    // Hand case: x = [1,2,3], y = [1,3,2]: mean 2, dev x = [-1,0,1], dev y = [-1,1,0];
    // cov = 1, var = 2 each -> r = 1/2.
    expect(offsetCorrelation(f64([1, 2, 3]), f64([1, 3, 2]), 0, 3, 'pearson')).toBeCloseTo(0.5, 12);
  });

  it('identical sequences give 1 for every CPF', () => {
    const r = rngFor(1, 'wang-test', 0);
    const seq = Float64Array.from({ length: 50 }, () => lognormal(r, 0.18, 0.6));
    expect(offsetCorrelation(seq, seq, 0, 10, 'mms')).toBe(1);
    expect(offsetCorrelation(seq, seq, 0, 10, 'ndp')).toBe(1);
    expect(offsetCorrelation(seq, seq, 0, 10, 'pearson')).toBeCloseTo(1, 9);
  });
});

describe('ipdCorrelation', () => {
  it('takes the best offset', () => {
    // offsets -1, 0, 1 give 0.8, 0.875, 0.6 (see above).
    expect(ipdCorrelation(f64([1, 2, 3]), f64([2, 2, 3]), 2, 1, 'mms')).toBe(0.875);
  });

  it('finds a copy shifted by one packet at offset k = 1', () => {
    const x = f64([0.2, 0.5, 0.1, 0.9, 0.3, 0.4, 0.7, 0.15]);
    const y = f64([0.6, ...x]); // y[i + 1] = x[i]
    expect(offsetCorrelation(x, y, 1, 4, 'mms')).toBe(1);
    expect(offsetCorrelation(x, y, 0, 4, 'mms')).toBeLessThan(0.8);
    expect(offsetCorrelation(x, y, -1, 4, 'mms')).toBeLessThan(0.8);
    expect(ipdCorrelation(x, y, 4, 2, 'mms')).toBe(1);
    expect(ipdCorrelation(x, y, 4, 2, 'ndp')).toBe(1);
    expect(ipdCorrelation(x, y, 4, 2, 'pearson')).toBeCloseTo(1, 9);
    // Without the offset search the copy is not found.
    expect(ipdCorrelation(x, y, 4, 0, 'mms')).toBe(offsetCorrelation(x, y, 0, 4, 'mms'));
    expect(ipdCorrelation(x, y, 4, 0, 'mms')).toBeLessThan(0.8);
  });

  it('gives the floor when the sequences are too short', () => {
    expect(cpfFloor('mms')).toBe(0);
    expect(cpfFloor('ndp')).toBe(0);
    expect(cpfFloor('pearson')).toBe(-1);
    const a = f64([0.1, 0.2]);
    expect(ipdCorrelation(a, a, 3, 5, 'mms')).toBe(0);
    expect(ipdCorrelation(a, a, 3, 5, 'ndp')).toBe(0);
    expect(ipdCorrelation(a, a, 3, 5, 'pearson')).toBe(-1);
    expect(ipdCorrelation(f64([]), f64([]), 2, 0, 'mms')).toBe(0);
  });
});

describe('wang-ipd score()', () => {
  // 40 keystrokes with log-normal gaps, echoes 60 ms later, and pure ACKs.
  const r = rngFor(3, 'wang-score', 0);
  const keys: number[] = [];
  let now = 1;
  for (let i = 0; i < 40; i++) {
    keys.push(now);
    now += 0.02 + lognormal(r, 0.18, 0.6);
  }
  // Echoes come back after a base lag plus up to 30 ms of jitter, so their IPDs differ from
  // the keystrokes' (a detector that read echoes or ACKs would not score the relay 1).
  const jr = rngFor(3, 'wang-score-echo', 0);
  const withEchoes = (ks: number[], echoLag: number) =>
    flowOf(
      ks.flatMap((t) => {
        const echo = t + echoLag + 0.03 * jr.next();
        return [[t, 36, DIR_FWD], [echo, 36, DIR_BWD], [echo + 0.04 * jr.next(), 0, DIR_FWD]] as const;
      }),
    );
  const incoming = withEchoes(keys, 0.06);
  // Relay: each keystroke forwarded 5 ms later; different echo lag downstream.
  const relayed: FlowPair = {
    incoming,
    outgoing: withEchoes(
      keys.map((t) => t + 0.005),
      0.033,
    ),
    relayed: true,
    meta: { dataset: 'hand', index: 0, kind: 'relay' },
  };
  const r2 = rngFor(3, 'wang-score', 1);
  const other: number[] = [];
  now = 1;
  for (let i = 0; i < 40; i++) {
    other.push(now);
    now += 0.02 + lognormal(r2, 0.18, 0.6);
  }
  const unrelated: FlowPair = { ...relayed, outgoing: withEchoes(other, 0.033), relayed: false };
  const params = { window: 10, maxOffset: 3, cpf: 'mms' as const };

  it('scores a constant-delay relay 1 and an independent pair clearly lower', () => {
    const s = wang.score([relayed, unrelated], params);
    // IPDs of t + 0.005 equal those of t up to rounding.
    expect(s[0]).toBeCloseTo(1, 9);
    expect(s[1]).toBeLessThan(0.8);
    expect(s[1]).toBeGreaterThan(0);
    // Pearson and NDP agree on the relayed pair.
    expect(wang.score([relayed], { ...params, cpf: 'pearson' })[0]).toBeCloseTo(1, 9);
    expect(wang.score([relayed], { ...params, cpf: 'ndp' })[0]).toBeCloseTo(1, 9);
  });

  it('scores the floor for pairs with fewer keystrokes than a window', () => {
    const short: FlowPair = { ...relayed, incoming: withEchoes(keys.slice(0, 5), 0.06) };
    // 5 keystrokes -> 4 IPDs < window 10.
    expect(Array.from(wang.score([short], params))).toEqual([0]);
    expect(Array.from(wang.score([short], { ...params, cpf: 'pearson' }))).toEqual([-1]);
  });
});
