import { describe, expect, it } from 'vitest';
import wm, {
  binomialTailLog10,
  decode,
  decodeValue,
  embed,
  embedValue,
  layout,
  matchScore,
  quantise,
  shiftedScore,
  usableBits,
  watermarkBits,
} from '../detectors/wm/index.js';
import { applyMark, causalMarks } from '../src/active.js';
import { DIR_BWD, DIR_FWD, type FlowPair, flowOf, payloadTimes } from '../src/flow.js';
import { defaultParams } from '../src/params.js';
import { lognormal, rngFor } from '../src/rng.js';

const f64 = (a: number[]) => Float64Array.from(a);
const u8 = (a: number[]) => Uint8Array.from(a);
const defaults = defaultParams(wm.params);

describe('quantiser', () => {
  it('q rounds x/s half up', () => {
    // 1.0/0.4 = 2.5 -> 3; 0.5/0.4 = 1.25 -> 1; 0.1/0.4 = 0.25 -> 0.
    expect(quantise(1.0, 0.4)).toBe(3);
    expect(quantise(0.5, 0.4)).toBe(1);
    expect(quantise(0.1, 0.4)).toBe(0);
  });

  it('e(x, w, s): smallest multiple of s above x + s/2 with parity w', () => {
    // x = 2.25: q(2.45) = round(6.125) = 6, even. w = 0 -> 6s = 2.4; w = 1 -> 7s = 2.8.
    expect(embedValue(2.25, 0, 0.4)).toBeCloseTo(2.4, 12);
    expect(embedValue(2.25, 1, 0.4)).toBeCloseTo(2.8, 12);
    // x = 0: q(0.2) = round(0.5) = 1, odd. w = 1 -> 0.4; w = 0 -> 0.8.
    expect(embedValue(0, 1, 0.4)).toBeCloseTo(0.4, 12);
    expect(embedValue(0, 0, 0.4)).toBeCloseTo(0.8, 12);
    // x = 1.55: q(1.75) = round(4.375) = 4, even; w = 1 -> 5s = 2.0.
    expect(embedValue(1.55, 1, 0.4)).toBeCloseTo(2.0, 12);
  });

  it('e(x, w, s) lies in (x, x + 2s] and decodes to w, for every x on a grid', () => {
    const s = 0.4;
    for (let x = 0; x < 12; x += 0.0137) {
      for (const w of [0, 1]) {
        const e = embedValue(x, w, s);
        expect(e).toBeGreaterThan(x);
        expect(e).toBeLessThanOrEqual(x + 2 * s + 1e-12);
        expect(decodeValue(e, s)).toBe(w);
      }
    }
  });

  it('d(x, s) = q(x, s) mod 2, right within ±s/2 of an embedded value', () => {
    // 2.4 = 6s -> 0; 2.8 = 7s -> 1.
    expect(decodeValue(2.4, 0.4)).toBe(0);
    expect(decodeValue(2.8, 0.4)).toBe(1);
    // 2.4 + 0.19: 6.475 -> 6 -> 0; 2.4 - 0.19: 5.525 -> 6 -> 0; 2.4 + 0.25: 6.625 -> 7 -> 1.
    expect(decodeValue(2.59, 0.4)).toBe(0);
    expect(decodeValue(2.21, 0.4)).toBe(0);
    expect(decodeValue(2.65, 0.4)).toBe(1);
  });
});

describe('layout and usable bits', () => {
  it('spread 1: bit b owns keystrokes [4b, 4b + 4) for m = 2, earlier half first', () => {
    const lay = layout(7, 2, 1, 2);
    expect(lay.block).toBe(4);
    expect(Array.from(lay.first)).toEqual([0, 1, 4, 5]);
    expect(Array.from(lay.second)).toEqual([2, 3, 6, 7]);
  });

  it("spread 3: 2m distinct packets of the bit's own block, first group before second, set by the key", () => {
    const m = 3;
    const lay = layout(5, m, 3, 4);
    expect(lay.block).toBe(18);
    for (let b = 0; b < 4; b++) {
      const idx = [...lay.first.subarray(b * m, b * m + m), ...lay.second.subarray(b * m, b * m + m)];
      for (let k = 0; k < idx.length; k++) {
        expect(idx[k]).toBeGreaterThanOrEqual(b * 18);
        expect(idx[k]).toBeLessThan((b + 1) * 18);
        if (k > 0) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
      }
    }
    expect(Array.from(layout(5, m, 3, 4).first)).toEqual(Array.from(lay.first));
    const others = [6, 7, 8].map((key) => Array.from(layout(key, m, 3, 4).first).join());
    expect(others.some((o) => o !== Array.from(lay.first).join())).toBe(true);
  });

  it('counts whole blocks within the first maxPackets, at most L', () => {
    const lay = layout(1, 2, 1, 24); // block of 4
    expect(usableBits(7, lay, 24, 1500)).toBe(1);
    expect(usableBits(8, lay, 24, 1500)).toBe(2);
    expect(usableBits(3, lay, 24, 1500)).toBe(0);
    expect(usableBits(100, lay, 24, 6)).toBe(1); // only 6 keystrokes may carry bits
    expect(usableBits(1000, lay, 2, 1500)).toBe(2); // L = 2
    // Paper defaults: 2m = 22 keystrokes per bit; 162 keystrokes -> 7 bits; 528 -> all 24.
    const paper = layout(1, 11, 1, 24);
    expect(usableBits(162, paper, 24, 1500)).toBe(7);
    expect(usableBits(10000, paper, 24, 1500)).toBe(24);
  });

  it('the watermark is a function of the key', () => {
    expect(Array.from(watermarkBits(3, 24))).toEqual(Array.from(watermarkBits(3, 24)));
    expect(Array.from(watermarkBits(3, 24))).not.toEqual(Array.from(watermarkBits(4, 24)));
    expect(watermarkBits(3, 24).every((b) => b === 0 || b === 1)).toBe(true);
  });
});

describe('embed (hand-computed, m = 2, s = 0.4)', () => {
  const lay = layout(1, 2, 1, 4);

  it('spreads the needed increase over the second packets', () => {
    // x group {0, 1}, y group {2, 3.5}: average IPD ((2 + 3.5) - (0 + 1)) / 2 = 2.25;
    // e(2.25, 0) = 2.4, so the y sum must grow by 2·0.15 = 0.3: packet 2 is held by
    // 0.3/2 = 0.15 (2.15, which does not reach 3.5), packet 3 by the remaining 0.15.
    const out = embed(f64([0, 1, 2, 3.5]), u8([0]), 0.4, lay, 1);
    const want = [0, 1, 2.15, 3.65];
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
    expect(Array.from(decode(out, 0.4, lay, 1))).toEqual([0]);
  });

  it('counts the FIFO queueing a hold causes', () => {
    // y group {2, 2.1}: average ((2 + 2.1) - 1) / 2 = 1.55; e(1.55, 1) = 2.0, so the y sum
    // must reach 1 + 2·2.0 = 5 (now 4.1). Packet 2 is held by 0.9/2 = 0.45 to 2.45 and
    // packet 3, arriving at 2.1, queues behind it until 2.45: the sum is already 4.9, so
    // packet 3 is held by the last 0.1, to 2.55. A packet after the bit (2.2) queues too.
    const out = embed(f64([0, 1, 2, 2.1, 2.2]), u8([1]), 0.4, lay, 1);
    const want = [0, 1, 2.45, 2.55, 2.55];
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
    expect(Array.from(decode(out, 0.4, lay, 1))).toEqual([1]);
  });

  it('leaves unusable packets where they are (no bit fits)', () => {
    expect(Array.from(embed(f64([0, 1, 2]), u8([1]), 0.4, lay, 0))).toEqual([0, 1, 2]);
  });

  it('embeds the next bit on the timeline the previous one left', () => {
    // Bit 0 as in the FIFO case -> packets 2, 3 at 2.45, 2.55. Bit 1 on [2.5, 3, 4, 5]:
    // packet 4 arrived at 2.5 and queues to 2.55; x = {2.55, 3}, y = {4, 5}: average
    // (9 - 5.55)/2 = 1.725; e(1.725, 0): q(1.925) = round(4.8125) = 5, odd -> 6s = 2.4;
    // the y sum must reach 5.55 + 4.8 = 10.35 (now 9): holds 1.35/2 = 0.675 (4.675, no
    // queueing of 5) and then 0.675 (5.675).
    const out = embed(f64([0, 1, 2, 2.1, 2.5, 3, 4, 5]), u8([1, 0]), 0.4, lay, 2);
    const want = [0, 1, 2.45, 2.55, 2.55, 3, 4.675, 5.675];
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
    expect(Array.from(decode(out, 0.4, lay, 2))).toEqual([1, 0]);
  });
});

describe('decode and score of an unmarked sequence (hand-computed, m = 2, s = 0.4)', () => {
  const lay = layout(1, 2, 1, 2);
  // Bit 0: ((1.3 + 2.1) - (0 + 0.5)) / 2 = 1.45 -> 3.625 -> 4 -> 0.
  // Bit 1: ((11.1 + 11.2) - (10 + 10.2)) / 2 = 1.05 -> 2.625 -> 3 -> 1.
  const t = f64([0, 0.5, 1.3, 2.1, 10, 10.2, 11.1, 11.2]);

  it('decodes [0, 1]', () => {
    expect(Array.from(decode(t, 0.4, lay, 2))).toEqual([0, 1]);
  });

  it('scores -log10 P(Bin(2, 1/2) >= matches)', () => {
    const got = decode(t, 0.4, lay, 2);
    // Against [1, 1]: one match, P(X >= 1) = 3/4.
    expect(matchScore(got, u8([1, 1]), 2)).toBeCloseTo(-Math.log10(0.75), 12);
    // Against [0, 1]: two matches, P = 1/4.
    expect(matchScore(got, u8([0, 1]), 2)).toBeCloseTo(Math.log10(4), 12);
    // Against [1, 0]: no match, P(X >= 0) = 1 -> 0.
    expect(matchScore(got, u8([1, 0]), 2)).toBe(0);
    // No usable bit -> 0.
    expect(matchScore(got, u8([0, 1]), 0)).toBe(0);
  });
});

describe('binomialTailLog10', () => {
  it('matches hand values', () => {
    expect(binomialTailLog10(4, 4)).toBeCloseTo(Math.log10(1 / 16), 12);
    expect(binomialTailLog10(4, 3)).toBeCloseTo(Math.log10(5 / 16), 12);
    expect(binomialTailLog10(4, 2)).toBeCloseTo(Math.log10(11 / 16), 12);
    expect(binomialTailLog10(4, 0)).toBe(0);
    expect(binomialTailLog10(0, 0)).toBe(0);
    expect(binomialTailLog10(4, 5)).toBe(-Infinity);
    // n odd: P(X >= (n + 1)/2) = 1/2 by symmetry, also for n where 2^-n underflows.
    expect(binomialTailLog10(1001, 501)).toBeCloseTo(Math.log10(0.5), 9);
    // All of n = 24 bits: 2^-24.
    expect(binomialTailLog10(24, 24)).toBeCloseTo(-24 * Math.log10(2), 12);
  });
});

/** A keystroke-like sequence: log-normal gaps, occasionally long pauses. */
function typing(seed: number, n: number): Float64Array {
  const r = rngFor(seed, 'wm-test', n);
  const t = new Float64Array(n);
  let x = r.next();
  for (let i = 0; i < n; i++) {
    x += lognormal(r, 0.18, 1.2);
    t[i] = x;
  }
  return t;
}

describe('marked flows decode to the watermark', () => {
  for (const spread of [1, 3]) {
    it(`every bit, for random flows of every length (spread ${spread})`, () => {
      const p = { ...defaults, spread };
      const lay = layout(p.key, p.m, spread, p.bits);
      const w = watermarkBits(p.key, p.bits);
      for (let k = 0; k < 40; k++) {
        const n = 20 + 37 * k;
        const t = typing(spread, n);
        const out = wm.mark!(t, p, rngFor(0, 'unused', k));
        const usable = usableBits(n, lay, p.bits, p.maxPackets);
        expect(Array.from(decode(out, p.s, lay, usable))).toEqual(Array.from(w.subarray(0, usable)));
        // Causal and in order, so the harness's clamp leaves it as it is.
        expect(Array.from(causalMarks(t, out))).toEqual(Array.from(out));
        // Past the marked blocks, a packet only waits for the one before it.
        const end = usable * lay.block;
        let held = 0;
        for (let i = Math.max(1, end); i < n; i++) if (out[i] !== Math.max(t[i], out[i - 1])) held++;
        expect(held).toBe(0);
      }
    });
  }

  it('survives any per-packet timing change smaller than s/4', () => {
    // Each averaged IPD then moves by less than 2·s/4 = s/2, inside the decoding margin.
    const p = defaults;
    const lay = layout(p.key, p.m, p.spread, p.bits);
    const w = watermarkBits(p.key, p.bits);
    const t = typing(9, 600);
    const out = wm.mark!(t, p, rngFor(0, 'unused', 0));
    const r = rngFor(9, 'wm-noise', 0);
    const noisy = out.map((v) => v + (2 * r.next() - 1) * 0.0999);
    expect(Array.from(decode(noisy, p.s, lay, 24))).toEqual(Array.from(w));
  });

  it('does not use its random stream', () => {
    const t = typing(3, 200);
    expect(Array.from(wm.mark!(t, defaults, rngFor(1, 'a', 0)))).toEqual(Array.from(wm.mark!(t, defaults, rngFor(2, 'b', 7))));
  });
});

describe('detector on pairs', () => {
  /** Keystrokes at `t` with an echo 30 ms after each; the relay forwards each 1 ms later. */
  function relayedPair(t: Float64Array): FlowPair {
    const inc: [number, number, number][] = [];
    const out: [number, number, number][] = [];
    for (const x of t) {
      inc.push([x, 36, DIR_FWD], [x + 0.03, 36, DIR_BWD]);
      out.push([x + 0.001, 36, DIR_FWD], [x + 0.02, 36, DIR_BWD]);
    }
    return { incoming: flowOf(inc), outgoing: flowOf(out), relayed: true, meta: { dataset: 't', index: 0, kind: 'relay' } };
  }

  it('a marked relay scores L′·log10 2; a flow too short for a bit scores 0', () => {
    // 50 keystrokes: floor(50 / 22) = 2 bits, all matching -> -log10(1/4).
    const pair = relayedPair(typing(4, 50));
    const marked = applyMark(pair, wm.mark!(payloadTimes(pair.incoming, DIR_FWD), defaults, rngFor(0, 'm', 0)));
    // 21 keystrokes: no whole bit.
    const short = relayedPair(typing(5, 21));
    const s = wm.score([marked, short], defaults);
    expect(s[0]).toBeCloseTo(Math.log10(4), 12);
    expect(s[1]).toBe(0);
  });

  it('an unmarked relay scores what its own decoded bits give', () => {
    const t = typing(6, 240);
    const pair = relayedPair(t);
    const lay = layout(defaults.key, defaults.m, defaults.spread, defaults.bits);
    const bits = decode(payloadTimes(pair.outgoing, DIR_FWD), defaults.s, lay, 10);
    const w = watermarkBits(defaults.key, defaults.bits);
    let matches = 0;
    for (let b = 0; b < 10; b++) if (bits[b] === w[b]) matches++;
    // Read at the marked indices alone (no shift):
    expect(wm.score([pair], { ...defaults, maxOffset: 0 })[0]).toBeCloseTo(-binomialTailLog10(10, matches), 12);
    // With shifts, the best of them: at least that.
    expect(wm.score([pair], defaults)[0]).toBeGreaterThanOrEqual(-binomialTailLog10(10, matches));
    // And well below a marked copy of the same session (all 10 bits: 10·log10 2 = 3.01).
    const marked = applyMark(pair, wm.mark!(payloadTimes(pair.incoming, DIR_FWD), defaults, rngFor(0, 'm', 0)));
    expect(wm.score([marked], defaults)[0]).toBeCloseTo(10 * Math.log10(2), 12);
    expect(matches).toBeLessThan(10);
  });

  it('one chaff packet at the start of the outgoing keystrokes shifts every index', () => {
    const pair = relayedPair(typing(8, 240));
    const marked = applyMark(pair, wm.mark!(payloadTimes(pair.incoming, DIR_FWD), defaults, rngFor(0, 'm', 0)));
    const first = payloadTimes(marked.outgoing, DIR_FWD)[0];
    const pkts: [number, number, number][] = [[first - 0.05, 36, DIR_FWD]];
    for (let i = 0; i < marked.outgoing.t.length; i++) pkts.push([marked.outgoing.t[i], marked.outgoing.size[i], marked.outgoing.dir[i]]);
    const chaffed = { ...marked, outgoing: flowOf(pkts) };
    const [clean, shifted] = wm.score([marked, chaffed], { ...defaults, maxOffset: 0 });
    expect(clean).toBeCloseTo(10 * Math.log10(2), 12);
    expect(shifted).toBeLessThan(clean);
    // The decoder's shift search finds it again: read at shift −1 the bits are all there.
    expect(wm.score([chaffed], defaults)[0]).toBeCloseTo(clean, 12);
  });

  it('reads a relay whose incoming connection carries keystrokes of its own first', () => {
    // 22 keystrokes typed at S (one block) before the 220 it relays. The marker marks all
    // 242: bits 0..10. The outgoing connection carries the 220 copies, so the copy of
    // marked keystroke i is outgoing keystroke i − 22: at shift 22, bit 0 falls before the
    // outgoing connection and bits 1..10 decode exactly: 10·log10 2.
    const own = typing(9, 22);
    const relayed = typing(10, 220).map((x) => x + own[own.length - 1] + 1);
    const inc: [number, number, number][] = [];
    const out: [number, number, number][] = [];
    for (const x of own) inc.push([x, 36, DIR_FWD], [x + 0.001, 36, DIR_BWD]);
    for (const x of relayed) {
      inc.push([x, 36, DIR_FWD], [x + 0.03, 36, DIR_BWD]);
      out.push([x + 0.001, 36, DIR_FWD], [x + 0.02, 36, DIR_BWD]);
    }
    const pair: FlowPair = { incoming: flowOf(inc), outgoing: flowOf(out), relayed: true, meta: { dataset: 't', index: 0, kind: 'relay' } };
    const marked = applyMark(pair, wm.mark!(payloadTimes(pair.incoming, DIR_FWD), defaults, rngFor(0, 'm', 0)));
    const y = payloadTimes(marked.outgoing, DIR_FWD);
    const lay = layout(defaults.key, defaults.m, defaults.spread, defaults.bits);
    const w = watermarkBits(defaults.key, defaults.bits);
    expect(shiftedScore(y, 22, defaults.s, lay, w, defaults.bits, defaults.maxPackets)).toBeCloseTo(10 * Math.log10(2), 12);
    expect(wm.score([marked], defaults)[0]).toBeGreaterThanOrEqual(10 * Math.log10(2) - 1e-12);
    // Without the search, every bit is read one block off.
    expect(wm.score([marked], { ...defaults, maxOffset: 0 })[0]).toBeLessThan(2);
  });
});
