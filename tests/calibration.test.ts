import { describe, expect, it } from 'vitest';
import { CORE_FEATURES, calibrate, capturePairs, extractFeatures, ksDistance } from '../src/calibration/index.js';
import { histogram } from '../src/calibration/plot.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair } from '../src/flow.js';

function flow(rows: [number, number, number][]): Flow {
  return {
    t: Float64Array.from(rows.map((r) => r[0])),
    size: Int32Array.from(rows.map((r) => r[1])),
    dir: Uint8Array.from(rows.map((r) => r[2])),
  };
}

function pair(incoming: Flow, outgoing: Flow): FlowPair {
  return { incoming, outgoing, relayed: true, meta: { dataset: 'hand', index: 0, kind: 'relay' } };
}

describe('Kolmogorov–Smirnov distance', () => {
  it('is the largest gap between the two empirical distribution functions', () => {
    // {1,2,3} vs {2,3,4}: at 1 the first is at 1/3, the second at 0; at 2: 2/3 vs 1/3;
    // at 3: 1 vs 2/3; at 4: 1 vs 1. Largest gap 1/3.
    expect(ksDistance([1, 2, 3], [2, 3, 4])).toBeCloseTo(1 / 3, 12);
    // Order does not matter, nor which sample comes first.
    expect(ksDistance([3, 1, 2], [4, 2, 3])).toBeCloseTo(1 / 3, 12);
    expect(ksDistance([2, 3, 4], [1, 2, 3])).toBeCloseTo(1 / 3, 12);
    // Disjoint samples: every value of one below every value of the other.
    expect(ksDistance([1, 2], [5, 6, 7])).toBe(1);
  });

  it('steps both functions at a shared value before measuring the gap', () => {
    // Identical samples with repeats: 0, not 1/n from stepping one function first.
    expect(ksDistance([36, 36, 36, 64], [36, 64, 36, 36])).toBe(0);
    // {1,1,2} vs {1,2,2}: at 1, 2/3 vs 1/3; at 2, 1 vs 1. D = 1/3.
    expect(ksDistance([1, 1, 2], [1, 2, 2])).toBeCloseTo(1 / 3, 12);
    // Different sizes: {1} vs {1,2,3,4}: at 1, 1 vs 1/4. D = 3/4.
    expect(ksDistance([1], [1, 2, 3, 4])).toBeCloseTo(3 / 4, 12);
  });

  it('is undefined for an empty sample, and ignores NaN', () => {
    expect(ksDistance([], [1, 2])).toBeNaN();
    expect(ksDistance([1, NaN, 2, 3], [2, 3, 4])).toBeCloseTo(1 / 3, 12);
  });
});

describe('feature extraction', () => {
  // An incoming connection at S:
  //   0.00 keystroke (36 B)      0.02 echo (36 B)        0.06 client's pure ACK
  //   0.30 keystroke             0.33 echo               0.34 output (100 B)
  //   2.00 keystroke             2.05 echo
  const incoming = flow([
    [0.0, 36, DIR_FWD],
    [0.02, 36, DIR_BWD],
    [0.06, 0, DIR_FWD],
    [0.3, 36, DIR_FWD],
    [0.33, 36, DIR_BWD],
    [0.34, 100, DIR_BWD],
    [2.0, 36, DIR_FWD],
    [2.05, 36, DIR_BWD],
  ]);
  // An outgoing connection: two keystrokes of 28 B; the second is never answered within 1 s.
  const outgoing = flow([
    [0.01, 28, DIR_FWD],
    [0.05, 28, DIR_BWD],
    [0.5, 28, DIR_FWD],
    [2.0, 60, DIR_BWD],
  ]);

  it('takes sizes, gaps, rates, ON/OFF periods and echo delays as worked out by hand', () => {
    const f = extractFeatures([pair(incoming, outgoing)], { idle: 0.5, maxEcho: 1 });
    const list = (id: string) => Array.from(f[id]);
    // Sizes of payload packets only (the pure ACK is no size).
    expect(list('size.in.fwd')).toEqual([36, 36, 36]);
    expect(list('size.in.bwd')).toEqual([36, 36, 100, 36]);
    expect(list('size.out.fwd')).toEqual([28, 28]);
    expect(list('size.out.bwd')).toEqual([28, 60]);
    // Forward payload gaps: 0.30 − 0 and 2.00 − 0.30 (the ACK at 0.06 is skipped).
    expect(list('ipd.in.fwd').map((x) => +x.toFixed(9))).toEqual([0.3, 1.7]);
    // Backward: 0.33 − 0.02, 0.34 − 0.33, 2.05 − 0.34.
    expect(list('ipd.in.bwd').map((x) => +x.toFixed(9))).toEqual([0.31, 0.01, 1.71]);
    expect(list('ipd.out.fwd').map((x) => +x.toFixed(9))).toEqual([0.49]);
    expect(list('ipd.out.bwd').map((x) => +x.toFixed(9))).toEqual([1.95]);
    // Echo delays, first in first out: 0→0.02, 0.30→0.33 (the output at 0.34 finds no
    // keystroke waiting and is not an echo), 2.00→2.05.
    expect(list('echo.in').map((x) => +x.toFixed(9))).toEqual([0.02, 0.03, 0.05]);
    // Outgoing: 0.01→0.05; the key at 0.5 is given up at 1.5, so the output at 2.0 is no echo.
    expect(list('echo.out').map((x) => +x.toFixed(9))).toEqual([0.04]);
    // Packets per second, first to last packet: 8 in 2.05 s; 4 in 1.99 s.
    expect(list('pps')).toHaveLength(2);
    expect(f.pps[0]).toBeCloseTo(8 / 2.05, 12);
    expect(f.pps[1]).toBeCloseTo(4 / 1.99, 12);
    // ON/OFF with idle 0.5, both directions. Incoming: 0 … 0.34 (gaps ≤ 0.5), then 2.00 …
    // 2.05: ON 0.34 and 0.05, OFF 1.66. Outgoing: 0.01, 0.05, 0.5 (gap 0.45), then 2.0
    // (gap 1.5): ON 0.49 and 0, OFF 1.5.
    expect(list('on').map((x) => +x.toFixed(9))).toEqual([0.34, 0.05, 0.49, 0]);
    expect(list('off').map((x) => +x.toFixed(9))).toEqual([1.66, 1.5]);
  });

  it('counts a connection once however many pairs share it', () => {
    const other = flow([
      [0.0, 36, DIR_FWD],
      [0.1, 36, DIR_BWD],
    ]);
    // `incoming` is in both pairs (as in a capture's host-mode pairing): its three
    // keystrokes count once, the two outgoing connections' keystrokes each once.
    const f = extractFeatures([pair(incoming, outgoing), pair(incoming, other)]);
    expect(f['size.in.fwd']).toHaveLength(3);
    expect(Array.from(f['size.out.fwd'])).toEqual([28, 28, 36]);
  });
});

describe('histogram bins', () => {
  it('shares every value out, the ends taking what lies outside', () => {
    // [1, 4] in 3 bins: [1,2) {1}, [2,3) {2}, [3,4] {3, 4} → 1/4, 1/4, 1/2.
    expect(histogram(Float64Array.of(1, 2, 3, 4), 1, 4, 3, false).map((b) => b.share)).toEqual([0.25, 0.25, 0.5]);
    // Log bins on [1, 100], 2 bins: [1,10) {0.5 (below, first bin), 1, 5}, [10,100] {10, 1000 (above)}.
    const log = histogram(Float64Array.of(0.5, 1, 5, 10, 1000), 1, 100, 2, true);
    expect(log.map((b) => b.share)).toEqual([0.6, 0.4]);
    expect(log[0].hi).toBeCloseTo(10, 9);
  });
});

describe('the committed defaults against the committed fixture', () => {
  it('keep payload sizes and inter-packet delays of both directions within KS 0.2', async () => {
    const real = await capturePairs('fixtures/real-capture/capture.pcap.gz', 'fixtures/real-capture/labels.csv');
    const r = calibrate(real, { pairs: 200 });
    const core = r.features.filter((f) => CORE_FEATURES.includes(f.id));
    expect(core.map((f) => f.id).sort()).toEqual(
      ['ipd.in.bwd', 'ipd.in.fwd', 'ipd.out.bwd', 'ipd.out.fwd', 'size.in.bwd', 'size.in.fwd', 'size.out.bwd', 'size.out.fwd'].sort(),
    );
    for (const f of core) {
      // The fixture's 24 relayed pairs give thousands of packets per feature.
      expect(f.nReal, f.id).toBeGreaterThan(3000);
      expect(f.ks, `${f.id}: KS ${f.ks}`).toBeLessThanOrEqual(0.2);
    }
  });
});
