import { describe, expect, it } from 'vitest';
import zp, { correlatePair, countCoincidences, hitRatio, scaleFactor, zhangPaxsonScore } from '../detectors/zhang-paxson/index.js';
import { countOnPeriods, onOffPeriods, resumeTimes } from '../src/analysis/onoff.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, fwd, acks, handPair as pair } from './helpers.js';

// Times below are multiples of 1/64 s (exact in binary), so that boundary cases such as a
// gap of exactly T_idle or a lag of exactly δ are exact, not rounded either way.

const bwd = (...times: number[]): Packet[] => times.map((t) => [t, 100, DIR_BWD] as const);
const f64 = (...x: number[]) => Float64Array.from(x);
const arr = (x: Float64Array | Uint32Array) => Array.from(x);

type Params = ReturnType<typeof defaultParams<typeof zp.params>>;
const params = (over: Partial<Params> = {}): Params => ({ ...defaultParams(zp.params), ...over });

/** Bursts of 3 packets 1/8 s apart starting at each time: one ON period each at idle 0.5. */
const bursts = (mk: (...t: number[]) => Packet[], starts: number[]): Packet[] =>
  starts.flatMap((s) => mk(s, s + 0.125, s + 0.25));

describe('onoff: resumeTimes / onOffPeriods', () => {
  it('a gap of exactly T_idle keeps the flow ON; a longer gap makes a resume', () => {
    // Data at 1, 1.25, 1.75, 2.25, 2.7509765625, 2.875.
    // Gaps: 0.25, 0.5 (= idle: stays ON), 0.5 (= idle: stays ON), 0.5009765625 (> idle:
    // resume), 0.1240234375. The first packet is a resume too -> [1, 2.7509765625].
    const f = flowOf(fwd(1, 1.25, 1.75, 2.25, 2.7509765625, 2.875));
    expect(arr(resumeTimes(f, DIR_FWD, 0.5))).toEqual([1, 2.7509765625]);
    expect(countOnPeriods(f, DIR_FWD, 0.5)).toBe(2);
    // Without the first packet: only the OFF -> ON transition.
    expect(arr(resumeTimes(f, DIR_FWD, 0.5, { includeFirst: false }))).toEqual([2.7509765625]);
    // idle 0.25: the gaps 0.5, 0.5, 0.5009..., are > 0.25; 0.25 (1 -> 1.25) is not.
    expect(arr(resumeTimes(f, DIR_FWD, 0.25))).toEqual([1, 1.75, 2.25, 2.7509765625]);
    // ON periods at idle 0.5: [1 .. 2.25] (4 packets), [2.7509765625 .. 2.875] (2 packets).
    const p = onOffPeriods(f, DIR_FWD, 0.5);
    expect(arr(p.starts)).toEqual([1, 2.7509765625]);
    expect(arr(p.ends)).toEqual([2.25, 2.875]);
    expect(arr(p.packets)).toEqual([4, 2]);
  });

  it('ignores pure ACKs: they neither keep a flow ON nor resume it', () => {
    // Data at 1 and 3; forward ACKs every 0.25 s in between and at 5.
    // Counting ACKs the flow would stay ON from 1 to 3 (gaps 0.25) and resume at 5.
    // Data only: resumes at 1 and 3 (gap 2 > 0.5); the ACK at 5 is no resume.
    const f = flowOf([...fwd(1, 3), ...acks(DIR_FWD, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 5)]);
    expect(arr(resumeTimes(f, DIR_FWD, 0.5))).toEqual([1, 3]);
    // A flow of ACKs only has no ON period.
    const onlyAcks = flowOf(acks(DIR_FWD, 1, 2, 3));
    expect(resumeTimes(onlyAcks, DIR_FWD, 0.5).length).toBe(0);
    expect(resumeTimes(onlyAcks, 'both', 0.5).length).toBe(0);
  });

  it('follows the chosen direction; "both" merges the directions', () => {
    // Keystrokes at 1, 3 (forward); echoes at 1.5, 2, 2.5, 4.5 (backward).
    // forward:  gaps 2 -> resumes [1, 3].
    // backward: 1.5, 2 (0.5: ON), 2.5 (0.5: ON), 4.5 (2: resume) -> [1.5, 4.5].
    // both: 1, 1.5, 2, 2.5, 3, 4.5: gaps 0.5 (ON) x4, then 1.5 (resume) -> [1, 4.5].
    const f = flowOf([...fwd(1, 3), ...bwd(1.5, 2, 2.5, 4.5)]);
    expect(arr(resumeTimes(f, DIR_FWD, 0.5))).toEqual([1, 3]);
    expect(arr(resumeTimes(f, DIR_BWD, 0.5))).toEqual([1.5, 4.5]);
    expect(arr(resumeTimes(f, 'both', 0.5))).toEqual([1, 4.5]);
    const p = onOffPeriods(f, 'both', 0.5);
    expect(arr(p.ends)).toEqual([3, 4.5]);
    expect(arr(p.packets)).toEqual([5, 1]);
  });

  it('handles empty flows and single packets', () => {
    const empty = flowOf([]);
    expect(resumeTimes(empty, DIR_FWD, 0.5).length).toBe(0);
    expect(resumeTimes(empty, DIR_FWD, 0.5, { includeFirst: false }).length).toBe(0);
    expect(onOffPeriods(empty, 'both', 0.5).starts.length).toBe(0);
    // One packet: one ON period; no OFF -> ON transition.
    const one = flowOf(fwd(7));
    expect(arr(resumeTimes(one, DIR_FWD, 0.5))).toEqual([7]);
    expect(resumeTimes(one, DIR_FWD, 0.5, { includeFirst: false }).length).toBe(0);
  });
});

describe('countCoincidences (lead a, follow b)', () => {
  it('counts a follow resume whose latest lead resume is within δ before it (inclusive), not after', () => {
    // δ = 0.125. a = [1, 3, 5, 7, 9], b = [1.0625, 3.125, 5.25, 6.9375, 9, 9.75].
    // b0 1.0625: latest a <= it is 1, lag 0.0625       -> hit (no previous: not consecutive)
    // b1 3.125:  latest a 3, lag 0.125 = δ             -> hit; previous lag b0 - a0 = 0.0625 -> consecutive
    // b2 5.25:   latest a 5, lag 0.25 > δ               -> miss
    // b3 6.9375: latest a 5 (a 7 comes 0.0625 after)    -> miss (lead after follow never counts)
    // b4 9:      latest a 9 (same time), lag 0          -> hit; previous b3 - a3 = -0.0625 < 0 -> not consecutive
    // b5 9.75:   latest a 9, lag 0.75                   -> miss
    const c = countCoincidences(f64(1, 3, 5, 7, 9), f64(1.0625, 3.125, 5.25, 6.9375, 9, 9.75), 0.125);
    expect(c).toEqual({ lead: 5, follow: 6, hits: 3, consecutive: 1 });
    // ratio = 3 / min(5, 6) = 0.6
    expect(hitRatio(c)).toBeCloseTo(0.6, 15);
    expect(scaleFactor(c)).toBe(1);
    // Reversed roles: b leads. a0 1: latest b <= 1 none -> miss. a1 3: latest b 1.0625 -> miss.
    // a2 5: latest b 3.125 -> miss. a3 7: latest b 6.9375, lag 0.0625 -> hit (prev a2 - b2 = -0.25: no).
    // a4 9: latest b 9 (tie), lag 0 -> hit; prev a3 - b3 = 0.0625 -> consecutive.
    expect(countCoincidences(f64(1.0625, 3.125, 5.25, 6.9375, 9, 9.75), f64(1, 3, 5, 7, 9), 0.125)).toEqual({
      lead: 6,
      follow: 5,
      hits: 2,
      consecutive: 1,
    });
  });

  it('counts runs of consecutive coincidences', () => {
    // Every b lags its a by 0.0625: 5 hits; all but the first have a coinciding previous pair.
    const a = f64(0, 2, 4, 6, 8);
    const b = f64(0.0625, 2.0625, 4.0625, 6.0625, 8.0625);
    expect(countCoincidences(a, b, 0.125)).toEqual({ lead: 5, follow: 5, hits: 5, consecutive: 4 });
    // Break the chain at b2 (lag 0.5): hits b0, b1, b3, b4 = 4; consecutive b1 (prev b0 ok), b4 (prev b3 ok);
    // b3's previous pair (b2, a2) lags 0.5 -> not consecutive. So 2.
    const broken = f64(0.0625, 2.0625, 4.5, 6.0625, 8.0625);
    expect(countCoincidences(a, broken, 0.125)).toEqual({ lead: 5, follow: 5, hits: 4, consecutive: 2 });
    // δ = 0: only exact ties coincide.
    expect(countCoincidences(a, b, 0)).toEqual({ lead: 5, follow: 5, hits: 0, consecutive: 0 });
    expect(countCoincidences(a, a, 0)).toEqual({ lead: 5, follow: 5, hits: 5, consecutive: 4 });
  });

  it('handles empty sequences', () => {
    const none = f64();
    expect(countCoincidences(none, none, 0.08)).toEqual({ lead: 0, follow: 0, hits: 0, consecutive: 0 });
    expect(countCoincidences(none, f64(1, 2), 0.08)).toEqual({ lead: 0, follow: 2, hits: 0, consecutive: 0 });
    expect(countCoincidences(f64(1, 2), none, 0.08)).toEqual({ lead: 2, follow: 0, hits: 0, consecutive: 0 });
    expect(hitRatio(countCoincidences(none, f64(1, 2), 0.08))).toBe(0);
  });

  it('scales the consecutive threshold with long flows', () => {
    // factor = max(1, min(lead, follow) / 100)
    expect(scaleFactor({ lead: 50, follow: 500, hits: 0, consecutive: 0 })).toBe(1);
    expect(scaleFactor({ lead: 250, follow: 300, hits: 0, consecutive: 0 })).toBe(2.5);
  });
});

describe('zhangPaxsonScore', () => {
  it('is the ratio when the consecutive condition holds, else the ratio - 1', () => {
    // 2 >= 2 * 1: passes.
    expect(zhangPaxsonScore({ ratio: 0.6, consecutive: 2, factor: 1 }, 2)).toBe(0.6);
    // 1 < 2: fails -> 0.6 - 1 = -0.4.
    expect(zhangPaxsonScore({ ratio: 0.6, consecutive: 1, factor: 1 }, 2)).toBeCloseTo(-0.4, 15);
    // factor 2.5: needs 5; 4 fails, 5 passes.
    expect(zhangPaxsonScore({ ratio: 0.5, consecutive: 4, factor: 2.5 }, 2)).toBe(-0.5);
    expect(zhangPaxsonScore({ ratio: 0.5, consecutive: 5, factor: 2.5 }, 2)).toBe(0.5);
    // A ratio above 1 (possible only with δ > T_idle) is capped.
    expect(zhangPaxsonScore({ ratio: 1.5, consecutive: 9, factor: 1 }, 2)).toBe(1);
    // Every failing pair ranks below every passing one.
    expect(zhangPaxsonScore({ ratio: 1, consecutive: 0, factor: 1 }, 2)).toBeLessThan(
      zhangPaxsonScore({ ratio: 0.01, consecutive: 2, factor: 1 }, 2),
    );
  });
});

describe('zhang-paxson detector', () => {
  // Keystroke bursts on the incoming connection at 0, 2, 4, 6, 8, relayed 1/16 s later
  // (< δ = 0.08). Each burst is one ON period (packets 1/8 s apart, bursts 1.75 s apart).
  const starts = [0, 2, 4, 6, 8];
  const inFwd = bursts(fwd, starts);
  const outFwd = bursts(fwd, starts.map((s) => s + 0.0625));

  it('scores a relayed pair 1 and an unrelated one -1', () => {
    // forward: 5 hits of 5 resumes, consecutive 4 >= 2 -> ratio 1 -> score 1.
    const relayed = pair(flowOf(inFwd), flowOf(outFwd));
    // Outgoing bursts at 1, 3, 5, 7, 9: latest incoming resume 1 s before each -> no hit -> ratio 0,
    // consecutive 0 -> score 0 - 1 = -1.
    const unrelated = pair(flowOf(inFwd), flowOf(bursts(fwd, [1, 3, 5, 7, 9])));
    const p = params({ direction: 'forward' });
    expect(Array.from(zp.score([relayed, unrelated], p))).toEqual([1, -1]);
    // Batch independence.
    expect(Array.from(zp.score([unrelated], p))).toEqual([-1]);
    expect(zp.score([], p).length).toBe(0);
    // minConsecutive 5 > 4 consecutive: the relayed pair fails -> 1 - 1 = 0.
    expect(Array.from(zp.score([relayed], params({ direction: 'forward', minConsecutive: 5 })))).toEqual([0]);
  });

  it('uses keystrokes with the incoming flow leading (forward), echoes with the outgoing flow leading (backward)', () => {
    // Echoes come back from the far end: outgoing backward bursts at s + 0.5, incoming
    // backward bursts 1/32 s later (s + 0.53125).
    const outBwd = bursts(bwd, starts.map((s) => s + 0.5));
    const inBwd = bursts(bwd, starts.map((s) => s + 0.53125));
    const incoming = flowOf([...inFwd, ...inBwd]);
    const outgoing = flowOf([...outFwd, ...outBwd]);
    // backward: outgoing leads: 5 hits, 4 consecutive -> 1.
    expect(Array.from(zp.score([pair(incoming, outgoing)], params({ direction: 'backward' })))).toEqual([1]);
    expect(correlatePair(incoming, outgoing, 0.5, 0.08, 'backward')).toEqual({ ratio: 1, consecutive: 4, factor: 1 });
    // Echoes with the wrong causal order (incoming echo first): no backward hit at all -> -1.
    const early = flowOf([...inFwd, ...bursts(bwd, starts.map((s) => s + 0.5))]);
    const late = flowOf([...outFwd, ...bursts(bwd, starts.map((s) => s + 0.53125))]);
    expect(Array.from(zp.score([pair(early, late)], params({ direction: 'backward' })))).toEqual([-1]);
    // ...while forward keystrokes still coincide.
    expect(Array.from(zp.score([pair(early, late)], params({ direction: 'forward' })))).toEqual([1]);
  });

  it('"both" adds the consecutive counts and takes the ratio of the direction with more hits', () => {
    // Forward: all 5 bursts coincide (hits 5, consecutive 4).
    // Backward: only the echoes of bursts 0 and 1 coincide; the others reach the incoming
    // connection 0.25 s late (> δ): hits 2, consecutive 1 (burst 1, its previous pair coincides).
    const outBwd = bursts(bwd, starts.map((s) => s + 0.5));
    const inBwd = bursts(bwd, starts.map((s, k) => s + (k < 2 ? 0.53125 : 0.75)));
    const incoming = flowOf([...inFwd, ...inBwd]);
    const outgoing = flowOf([...outFwd, ...outBwd]);
    expect(correlatePair(incoming, outgoing, 0.5, 0.08, 'forward')).toEqual({ ratio: 1, consecutive: 4, factor: 1 });
    expect(correlatePair(incoming, outgoing, 0.5, 0.08, 'backward')).toEqual({ ratio: 0.4, consecutive: 1, factor: 1 });
    // both: consecutive 4 + 1 = 5; ratio from forward (5 hits > 2) = 1.
    expect(correlatePair(incoming, outgoing, 0.5, 0.08, 'both')).toEqual({ ratio: 1, consecutive: 5, factor: 1 });
    // minConsecutive 5: both passes (5 >= 5) -> 1; forward alone fails (4 < 5) -> 0.
    const p = pair(incoming, outgoing);
    expect(Array.from(zp.score([p], params({ minConsecutive: 5 })))).toEqual([1]);
    expect(Array.from(zp.score([p], params({ minConsecutive: 5, direction: 'forward' })))).toEqual([0]);
    // Swap the roles: keystrokes coincide on bursts 0 and 1 only, echoes on all five.
    // Forward hits 2 (ratio 0.4, consecutive 1), backward hits 5 (ratio 1, consecutive 4):
    // both takes ratio 1 from backward, consecutive 5.
    const outFwd2 = bursts(fwd, starts.map((s, k) => s + (k < 2 ? 0.0625 : 0.25)));
    const swapped = pair(flowOf([...inFwd, ...bursts(bwd, starts.map((s) => s + 0.53125))]), flowOf([...outFwd2, ...outBwd]));
    expect(correlatePair(swapped.incoming, swapped.outgoing, 0.5, 0.08, 'forward')).toEqual({ ratio: 0.4, consecutive: 1, factor: 1 });
    const c = correlatePair(swapped.incoming, swapped.outgoing, 0.5, 0.08, 'both');
    expect(c).toEqual({ ratio: 1, consecutive: 5, factor: 1 });
  });

  it('applies the default parameters: T_idle 0.5 s, δ 0.08 s', () => {
    // Lag 0.078125 (5/64) <= 0.08: coincides; lag 0.09375 (6/64) > 0.08: does not.
    const near = pair(flowOf(inFwd), flowOf(bursts(fwd, starts.map((s) => s + 0.078125))));
    const far = pair(flowOf(inFwd), flowOf(bursts(fwd, starts.map((s) => s + 0.09375))));
    expect(Array.from(zp.score([near, far], params()))).toEqual([1, -1]);
    // Bursts whose inner gaps are 0.5 s stay one ON period each at T_idle 0.5 but split at 0.25.
    const wide = (mk: (...t: number[]) => Packet[], s0: number[]) => s0.flatMap((s) => mk(s, s + 0.5, s + 1));
    const w = pair(flowOf(wide(fwd, [0, 3, 6])), flowOf(wide(fwd, [0.0625, 3.0625, 6.0625])));
    // idle 0.5: resumes [0, 3, 6] and [0.0625, 3.0625, 6.0625] -> 3 hits, 2 consecutive -> 1.
    expect(correlatePair(w.incoming, w.outgoing, 0.5, 0.08, 'forward')).toEqual({ ratio: 1, consecutive: 2, factor: 1 });
    // idle 0.25: every packet is a resume (9 each) and every one coincides: 9 hits, 8 consecutive.
    expect(correlatePair(w.incoming, w.outgoing, 0.25, 0.08, 'forward')).toEqual({ ratio: 1, consecutive: 8, factor: 1 });
  });

  it('scales the consecutive threshold by min(resumes) / 100', () => {
    // 250 one-packet ON periods a second apart on each side, all coinciding:
    // hits 250, consecutive 249, factor 2.5.
    const times = Array.from({ length: 250 }, (_, i) => i);
    const p = pair(flowOf(fwd(...times)), flowOf(fwd(...times.map((t) => t + 0.0625))));
    // minConsecutive 100: needs 250 > 249 -> fails -> 1 - 1 = 0.
    expect(Array.from(zp.score([p], params({ direction: 'forward', minConsecutive: 100 })))).toEqual([0]);
    // minConsecutive 99: needs 247.5 <= 249 -> passes -> 1.
    expect(Array.from(zp.score([p], params({ direction: 'forward', minConsecutive: 99 })))).toEqual([1]);
  });

  it('scores empty flows -1 (no resumes: ratio 0, no consecutive coincidences)', () => {
    const empty = flowOf([]);
    expect(Array.from(zp.score([pair(empty, empty), pair(flowOf(inFwd), empty)], params()))).toEqual([-1, -1]);
    // minConsecutive 0 accepts everything: ratio 0 -> 0.
    expect(Array.from(zp.score([pair(empty, empty)], params({ minConsecutive: 0 })))).toEqual([0]);
  });
});

describe('zhang-paxson on synthetic pairs', () => {
  it('separates relayed from unrelated pairs (AUC > 0.8)', () => {
    const sp = defaultParams(source.params);
    const pos = Array.from({ length: 100 }, (_, i) => source.pair({ seed: 2000, dataset: 'zp', index: i, relayed: true }, sp));
    const neg = Array.from({ length: 200 }, (_, i) => source.pair({ seed: 2000, dataset: 'zp', index: 100 + i, relayed: false }, sp));
    for (const direction of ['both', 'forward', 'backward'] as const) {
      const p = params({ direction });
      const { auc } = rocPoint(zp.score(pos, p), zp.score(neg, p), []);
      // Measured when written: 1.000 for all three directions (seed 2000).
      expect(auc, direction).toBeGreaterThan(0.8);
    }
  });
});
