import { describe, expect, it } from 'vitest';
import blum, { maxCountDifference, packetsObserved } from '../detectors/blum-count/index.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { type Packet, fwd, bwd, acks, handPair as pair } from './helpers.js';

const params = (over: Partial<{ pDelta: number; delta: number; chaffBound: number; direction: 'forward' | 'backward' }> = {}) => ({
  pDelta: 5,
  delta: 0.01,
  chaffBound: 0,
  direction: 'forward' as 'forward' | 'backward',
  ...over,
});

describe('packetsObserved: T = ceil(2 (pDelta + x + 1)^2 ln(1/delta))', () => {
  it('matches hand values', () => {
    // band 6: 2*36*ln(100) = 72 * 4.60517... = 331.57 -> 332
    expect(packetsObserved(5, 0, 0.01)).toBe(332);
    // band 5+2+1 = 8: 2*64*4.60517 = 589.46 -> 590
    expect(packetsObserved(5, 2, 0.01)).toBe(590);
    // band 1: 2*ln(2) = 1.386 -> 2
    expect(packetsObserved(0, 0, 0.5)).toBe(2);
    // band 2: 2*4*ln(10) = 8 * 2.302585 = 18.42 -> 19
    expect(packetsObserved(1, 0, 0.1)).toBe(19);
  });
});

describe('maxCountDifference', () => {
  it('is 1 for a relay that forwards each packet before the next arrives', () => {
    // Merged order: in 1, out 1.1, in 2, out 2.1, in 3, out 3.1
    // D: +1, 0, +1, 0, +1, 0  -> max |D| = 1.
    const a = flowOf(fwd(1, 2, 3));
    const b = flowOf(fwd(1.1, 2.1, 3.1));
    expect(maxCountDifference(a, b, DIR_FWD, 1000)).toBe(1);
    // From b's side the walk is 0 -> -1 -> 0 ...: still |D| = 1.
    expect(maxCountDifference(b, a, DIR_FWD, 1000)).toBe(1);
  });

  it('reaches 4 when the incoming flow sends 4 packets before the outgoing one starts', () => {
    // in 1,2,3,4 -> D = 1,2,3,4; then out 5,6,7 -> D = 3,2,1. max = 4.
    const a = flowOf(fwd(1, 2, 3, 4));
    const b = flowOf(fwd(5, 6, 7));
    expect(maxCountDifference(a, b, DIR_FWD, 1000)).toBe(4);
    // Negative excursions count too: with the roles swapped D = -1,-2,-3,-4, then -3,-2,-1.
    expect(maxCountDifference(b, a, DIR_FWD, 1000)).toBe(4);
  });

  it('counts only the payload packets of the chosen direction', () => {
    // incoming: keystrokes at 1,2,3; five pure ACKs before them; three echoes at 4, 4.1, 4.2.
    // outgoing: keystrokes at 1.1,2.1,3.1; one echo at 5; pure ACKs at 0.05 and 4.5.
    const a = flowOf([...acks(DIR_FWD, 0.1, 0.2, 0.3, 0.4, 0.5), ...fwd(1, 2, 3), ...bwd(4, 4.1, 4.2)]);
    const b = flowOf([...acks(DIR_BWD, 0.05, 4.5), ...acks(DIR_FWD, 0.06), ...fwd(1.1, 2.1, 3.1), ...bwd(5)]);
    // forward: only the keystrokes -> alternating walk, max 1.
    // (Counting the 5 ACKs would give 5; counting the echoes would give 3.)
    expect(maxCountDifference(a, b, DIR_FWD, 1000)).toBe(1);
    // backward: in 4, 4.1, 4.2 -> D = 1, 2, 3; out 5 -> D = 2. max 3.
    // (Counting the DIR_BWD ACK at 0.05 would start the walk at -1 and end at max 2.)
    expect(maxCountDifference(a, b, DIR_BWD, 1000)).toBe(3);
  });

  it('stops after `limit` payload packets of the merged stream', () => {
    // 10 incoming before 10 outgoing: D climbs 1..10 then falls; full walk max = 10.
    const a = flowOf(fwd(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    const b = flowOf(fwd(11, 12, 13, 14, 15, 16, 17, 18, 19, 20));
    expect(maxCountDifference(a, b, DIR_FWD, 1000)).toBe(10);
    expect(maxCountDifference(a, b, DIR_FWD, 20)).toBe(10);
    expect(maxCountDifference(a, b, DIR_FWD, 10)).toBe(10);
    expect(maxCountDifference(a, b, DIR_FWD, 3)).toBe(3);
    expect(maxCountDifference(a, b, DIR_FWD, 1)).toBe(1);
    expect(maxCountDifference(a, b, DIR_FWD, 0)).toBe(0);
  });

  it('does not spend the limit on ignored packets', () => {
    // ACKs and backward packets interleaved with the 10 keystrokes; limit 3 still sees 3 keystrokes.
    const a = flowOf([
      ...fwd(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
      ...acks(DIR_FWD, 0.5, 1.5, 2.5),
      ...bwd(0.6, 1.6, 2.6),
    ]);
    const b = flowOf(fwd(11, 12));
    expect(maxCountDifference(a, b, DIR_FWD, 3)).toBe(3);
  });

  it('counts the first flow first at equal times', () => {
    // a = [1, 2], b = [1, 1]. a first on ties: a1 -> 1, b1 -> 0, b1 -> -1, a2 -> 0. max 1.
    // (b first would give b1 -> -1, b1 -> -2, a1 -> -1, a2 -> 0: max 2.)
    expect(maxCountDifference(flowOf(fwd(1, 2)), flowOf(fwd(1, 1)), DIR_FWD, 100)).toBe(1);
    // Swapped roles: a = [1, 1], b = [1, 2]: a1 -> 1, a1 -> 2, b1 -> 1, b2 -> 0. max 2.
    expect(maxCountDifference(flowOf(fwd(1, 1)), flowOf(fwd(1, 2)), DIR_FWD, 100)).toBe(2);
    // Simultaneous streams [1,2,3] and [1,2,3]: a1 (tie) -> 1, b1 -> 0, a2 (tie) -> 1, b2 -> 0,
    // a3 -> 1, b3 -> 0. max 1.
    expect(maxCountDifference(flowOf(fwd(1, 2, 3)), flowOf(fwd(1, 2, 3)), DIR_FWD, 100)).toBe(1);
  });

  it('handles empty flows', () => {
    const empty = flowOf([]);
    expect(maxCountDifference(empty, empty, DIR_FWD, 100)).toBe(0);
    // Only b has packets: D = -1, -2 -> 2.
    expect(maxCountDifference(empty, flowOf(fwd(1, 2)), DIR_FWD, 100)).toBe(2);
  });
});

describe('blum-count score()', () => {
  const relayed = pair(flowOf(fwd(1, 2, 3)), flowOf(fwd(1.1, 2.1, 3.1)));
  const unrelated = pair(flowOf(fwd(1, 2, 3, 4)), flowOf(fwd(5, 6, 7)));

  it('is -max|D| per pair, independently of the batch', () => {
    const s = blum.score([relayed, unrelated], params());
    expect(Array.from(s)).toEqual([-1, -4]);
    expect(Array.from(blum.score([unrelated], params()))).toEqual([-4]);
    expect(blum.score([], params()).length).toBe(0);
  });

  it('uses the direction parameter', () => {
    const a = flowOf([...fwd(1, 2, 3), ...bwd(4, 4.1, 4.2)]);
    const b = flowOf([...fwd(1.1, 2.1, 3.1), ...bwd(5)]);
    expect(Array.from(blum.score([pair(a, b)], params({ direction: 'forward' })))).toEqual([-1]);
    expect(Array.from(blum.score([pair(a, b)], params({ direction: 'backward' })))).toEqual([-3]);
  });

  it('observes packetsObserved(pDelta, chaffBound, delta) packets', () => {
    // 30 incoming keystrokes before 30 outgoing ones: the untruncated walk reaches 30.
    const times = Array.from({ length: 30 }, (_, i) => i + 1);
    const p = pair(flowOf(fwd(...times)), flowOf(fwd(...times.map((t) => t + 100))));
    expect(Array.from(blum.score([p], params()))).toEqual([-30]); // T = 332
    // pDelta 1, delta 0.1: T = 19 -> the walk stops at D = 19.
    expect(Array.from(blum.score([p], params({ pDelta: 1, delta: 0.1 })))).toEqual([-19]);
    // pDelta 0, delta 0.5: T = 2.
    expect(Array.from(blum.score([p], params({ pDelta: 0, delta: 0.5 })))).toEqual([-2]);
    // chaffBound widens the band: pDelta 0, x 1, delta 0.5: 2*4*ln 2 = 5.55 -> T = 6.
    expect(Array.from(blum.score([p], params({ pDelta: 0, chaffBound: 1, delta: 0.5 })))).toEqual([-6]);
  });
});
