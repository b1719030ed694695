import { describe, expect, it } from 'vitest';
import chaff from '../perturbations/chaff/index.js';
import delay from '../perturbations/delay/index.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, copyFlow, isSorted } from '../src/flow.js';
import { checkParams } from '../src/params.js';
import { answerLag } from '../src/retime.js';
import { rngFor } from '../src/rng.js';
import source from '../src/sources/synthetic-ssh.js';

type SourceParams = Parameters<typeof source.pair>[1];
type ChaffParams = Parameters<typeof chaff.apply>[1];
type DelayParams = Parameters<typeof delay.apply>[1];

const checked = checkParams(source.params, {}, false);
if (!checked.ok) throw new Error('default source params rejected');
const sourceParams = checked.value as SourceParams;

/** Pairs from the synthetic source, positives and negatives alternating. */
function makePairs(n: number, seed = 11): FlowPair[] {
  const out: FlowPair[] = [];
  for (let i = 0; i < n; i++) {
    out.push(source.pair({ seed, dataset: 'perturb', index: i, relayed: i % 2 === 0 }, sourceParams));
  }
  return out;
}

const PAIRS = makePairs(200);
const FEW = PAIRS.slice(0, 30);

const chaffParams = (over: Partial<ChaffParams> = {}): ChaffParams => ({
  ratio: 1,
  rate: 0,
  arrival: 'poisson',
  burstOn: 1,
  burstOff: 4,
  sizes: 'flow',
  size: 36,
  sizeMin: 36,
  sizeMax: 1448,
  hop: 'incoming',
  direction: 'forward',
  ...over,
});
const delayParams = (over: Partial<DelayParams> = {}): DelayParams => ({
  distribution: 'uniform',
  max: 0.3,
  scale: 0.1,
  alpha: 1.5,
  probability: 1,
  fifo: true,
  latency: 0,
  direction: 'both',
  ...over,
});

function expectSameFlow(a: Flow, b: Flow): void {
  expect(Array.from(a.t)).toEqual(Array.from(b.t));
  expect(Array.from(a.size)).toEqual(Array.from(b.size));
  expect(Array.from(a.dir)).toEqual(Array.from(b.dir));
}

interface Packet {
  t: number;
  size: number;
  dir: number;
}

function packets(f: Flow): Packet[] {
  return Array.from(f.t, (t, i) => ({ t, size: f.size[i], dir: f.dir[i] }));
}

/**
 * Matches `orig` as a subsequence of `pert` (greedy, exact equality of t, size and dir) and
 * returns the packets of `pert` that are not part of the match, or null if `orig` is not a
 * subsequence.
 */
function extraPackets(orig: Flow, pert: Flow): Packet[] | null {
  const extra: Packet[] = [];
  let j = 0;
  for (let i = 0; i < pert.t.length; i++) {
    if (j < orig.t.length && pert.t[i] === orig.t[j] && pert.size[i] === orig.size[j] && pert.dir[i] === orig.dir[j]) {
      j++;
    } else {
      extra.push({ t: pert.t[i], size: pert.size[i], dir: pert.dir[i] });
    }
  }
  return j === orig.t.length ? extra : null;
}

function payloadCount(f: Flow, dir: number): number {
  let n = 0;
  for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0 && f.dir[i] === dir) n++;
  return n;
}

function payloadSizes(f: Flow, dir: number): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0 && f.dir[i] === dir) s.add(f.size[i]);
  return s;
}

function payloadIdx(f: Flow, dir: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0 && f.dir[i] === dir) out.push(i);
  return out;
}

describe('chaff', () => {
  it('keeps every real packet, in order, adds chaff only in the chosen direction, keeps times sorted', () => {
    for (const direction of ['forward', 'backward', 'both'] as const) {
      for (const [k, pair] of FEW.entries()) {
        const p = chaffParams({ ratio: 1, hop: 'both', direction });
        const out = chaff.apply(pair, p, rngFor(5, 'chaff', k));
        for (const side of ['incoming', 'outgoing'] as const) {
          const orig = pair[side];
          const pert = out[side];
          expect(isSorted(pert.t)).toBe(true);
          const extra = extraPackets(orig, pert);
          expect(extra).not.toBeNull();
          const fwdSizes = payloadSizes(orig, DIR_FWD);
          const bwdSizes = payloadSizes(orig, DIR_BWD);
          // Chaff is payload, of an allowed direction, sized like real packets, inside the flow's span.
          const bad = extra!.filter(
            (c) =>
              c.size <= 0 ||
              (direction === 'forward' && c.dir !== DIR_FWD) ||
              (direction === 'backward' && c.dir !== DIR_BWD) ||
              !(c.dir === DIR_FWD ? fwdSizes : bwdSizes).has(c.size) ||
              c.t < orig.t[0] ||
              c.t > orig.t[orig.t.length - 1],
          );
          expect(bad).toEqual([]);
          if (direction === 'both') {
            // With ratio 1 and dozens of real packets per direction, both directions get chaff.
            expect(extra!.some((c) => c.dir === DIR_FWD)).toBe(true);
            expect(extra!.some((c) => c.dir === DIR_BWD)).toBe(true);
          }
        }
      }
    }
  });

  it('adds ratio x (real payload packets) chaff on average (Poisson; total within 5%)', () => {
    // Per pair and per (connection, direction) the count is Poisson(ratio * n_real); summed
    // over 200 pairs the totals are Poisson with means of ~10^4-10^5, whose relative sd is
    // below 1%, so a 5% tolerance is > 5 sd wide yet catches a wrong rate or base count.
    for (const ratio of [0.5, 1.5]) {
      const expected = { inFwd: 0, inBwd: 0, outFwd: 0, outBwd: 0 };
      const got = { inFwd: 0, inBwd: 0, outFwd: 0, outBwd: 0 };
      for (const [k, pair] of PAIRS.entries()) {
        const out = chaff.apply(pair, chaffParams({ ratio, hop: 'both', direction: 'both' }), rngFor(9, 'chaff', k));
        expected.inFwd += ratio * payloadCount(pair.incoming, DIR_FWD);
        expected.inBwd += ratio * payloadCount(pair.incoming, DIR_BWD);
        expected.outFwd += ratio * payloadCount(pair.outgoing, DIR_FWD);
        expected.outBwd += ratio * payloadCount(pair.outgoing, DIR_BWD);
        got.inFwd += payloadCount(out.incoming, DIR_FWD) - payloadCount(pair.incoming, DIR_FWD);
        got.inBwd += payloadCount(out.incoming, DIR_BWD) - payloadCount(pair.incoming, DIR_BWD);
        got.outFwd += payloadCount(out.outgoing, DIR_FWD) - payloadCount(pair.outgoing, DIR_FWD);
        got.outBwd += payloadCount(out.outgoing, DIR_BWD) - payloadCount(pair.outgoing, DIR_BWD);
        // No pure ACK is ever added.
        expect(out.incoming.t.length - pair.incoming.t.length).toBe(
          payloadCount(out.incoming, DIR_FWD) + payloadCount(out.incoming, DIR_BWD) -
            payloadCount(pair.incoming, DIR_FWD) - payloadCount(pair.incoming, DIR_BWD),
        );
      }
      for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
        expect(expected[key]).toBeGreaterThan(5000);
        expect(Math.abs(got[key] - expected[key]) / expected[key]).toBeLessThan(0.05);
      }
    }
  });

  it('hop incoming leaves outgoing untouched, hop outgoing leaves incoming untouched', () => {
    for (const [k, pair] of FEW.entries()) {
      const a = chaff.apply(pair, chaffParams({ hop: 'incoming', direction: 'both' }), rngFor(1, 'chaff', k));
      expectSameFlow(a.outgoing, pair.outgoing);
      expect(a.incoming.t.length).toBeGreaterThan(pair.incoming.t.length);
      const b = chaff.apply(pair, chaffParams({ hop: 'outgoing', direction: 'both' }), rngFor(1, 'chaff', k));
      expectSameFlow(b.incoming, pair.incoming);
      expect(b.outgoing.t.length).toBeGreaterThan(pair.outgoing.t.length);
      // The rest of the pair is carried over.
      expect(a.relayed).toBe(pair.relayed);
      expect(a.meta).toEqual(pair.meta);
    }
  });

  it('is deterministic in the rng stream and does not change its input', () => {
    const pair = PAIRS[3];
    const before = { incoming: copyFlow(pair.incoming), outgoing: copyFlow(pair.outgoing) };
    const p = chaffParams({ hop: 'both', direction: 'both' });
    const a = chaff.apply(pair, p, rngFor(42, 'chaff', 3));
    const b = chaff.apply(pair, p, rngFor(42, 'chaff', 3));
    expectSameFlow(a.incoming, b.incoming);
    expectSameFlow(a.outgoing, b.outgoing);
    const c = chaff.apply(pair, p, rngFor(43, 'chaff', 3));
    expect(Array.from(c.incoming.t)).not.toEqual(Array.from(a.incoming.t));
    expectSameFlow(pair.incoming, before.incoming);
    expectSameFlow(pair.outgoing, before.outgoing);
  });

  it('ratio 0 is the identity', () => {
    expect(chaff.isIdentity!(chaffParams({ ratio: 0 }))).toBe(true);
    expect(chaff.isIdentity!(chaffParams({ ratio: 0.1 }))).toBe(false);
    for (const [k, pair] of FEW.entries()) {
      const out = chaff.apply(pair, chaffParams({ ratio: 0, hop: 'both', direction: 'both' }), rngFor(1, 'chaff', k));
      expectSameFlow(out.incoming, pair.incoming);
      expectSameFlow(out.outgoing, pair.outgoing);
    }
  });
});

describe('delay', () => {
  /** Per-packet delays of the payload packets of `dir`, matched in order; asserts same sizes. */
  function delaysOf(orig: Flow, pert: Flow, dir: number): number[] {
    const a = payloadIdx(orig, dir);
    const b = payloadIdx(pert, dir);
    expect(b.length).toBe(a.length);
    expect(b.map((i) => pert.size[i])).toEqual(a.map((i) => orig.size[i]));
    return a.map((i, n) => pert.t[b[n]] - orig.t[i]);
  }

  /** Packet sizes by direction, sorted: the multiset of (dir, size). */
  function sortedMultiset(f: Flow): number[] {
    return Array.from(f.size, (s, i) => f.dir[i] * 1e9 + s).sort((a, b) => a - b);
  }

  it('delays forwarded keystrokes by [0, max], keeps their order, keeps sizes and sorting', () => {
    const max = 0.3;
    let sum = 0;
    let n = 0;
    for (const [k, pair] of FEW.entries()) {
      const out = delay.apply(pair, delayParams({ max }), rngFor(2, 'delay', k));
      for (const side of ['incoming', 'outgoing'] as const) {
        expect(isSorted(out[side].t)).toBe(true);
        expect(out[side].t.length).toBe(pair[side].t.length);
        expect(sortedMultiset(out[side])).toEqual(sortedMultiset(pair[side]));
      }
      // t'_i = max(t_i + d_i, t'_{i-1}) with t'_{i-1} <= t_{i-1} + max <= t_i + max: within [0, max].
      const fwd = delaysOf(pair.outgoing, out.outgoing, DIR_FWD);
      expect(fwd.filter((d) => !(d >= 0 && d <= max + 1e-12))).toEqual([]);
      for (const d of fwd) sum += d;
      n += fwd.length;
      // direction both: what S forwards back to the user (incoming DIR_BWD payload) too.
      // On a relay an echo S forwards is a copy of one that came back on the outgoing
      // connection, which itself moved by at most max (its keystroke's shift, or the
      // answer ahead of it, each <= max): ready at most max late, then at most max more.
      // (This bound was max on relays too before echoes were carried across S.)
      const back = delaysOf(pair.incoming, out.incoming, DIR_BWD);
      const bound = pair.relayed ? 2 * max : max;
      expect(back.filter((d) => !(d >= 0 && d <= bound + 1e-12))).toEqual([]);
      // The user's keystrokes reach S when they reach it.
      expect(delaysOf(pair.incoming, out.incoming, DIR_FWD).every((d) => d === 0)).toBe(true);
    }
    // U(0, max) plus FIFO holding: the mean delay is at least max/2 (up to sampling noise).
    expect(sum / n).toBeGreaterThan(0.45 * max);
    expect(sum / n).toBeLessThan(max);
  });

  it("direction 'forward' leaves incoming unchanged", () => {
    for (const [k, pair] of FEW.entries()) {
      const out = delay.apply(pair, delayParams({ direction: 'forward' }), rngFor(2, 'delay', k));
      expectSameFlow(out.incoming, pair.incoming);
      expect(delaysOf(pair.outgoing, out.outgoing, DIR_FWD).some((d) => d > 0)).toBe(true);
    }
  });

  it('moves each outgoing echo by the shift of the keystroke it answers, in order', () => {
    let estimated = 0;
    for (const [k, pair] of FEW.entries()) {
      const orig = pair.outgoing;
      const out = delay.apply(pair, delayParams(), rngFor(4, 'delay', k)).outgoing;
      const shifts = delaysOf(orig, out, DIR_FWD);
      const newFwd = payloadIdx(out, DIR_FWD).map((i) => out.t[i]);
      const keyTimes = payloadIdx(orig, DIR_FWD).map((i) => orig.t[i]);
      // Expected (time, size) of every echo/output packet, from the original order: it
      // keeps its lag behind the keystroke it answers, the last one sent at least
      // answerLag before it (src/retime.ts; until the echoes were attributed, the last
      // keystroke before it, which moved a crossing echo with the wrong keystroke), and
      // one TCP stream delivers the answers in order, so an answer never precedes the
      // one before it.
      const lag = answerLag(orig);
      if (lag > 0) estimated++;
      const expected: [number, number][] = [];
      let owner = -1;
      let prev = -Infinity;
      let overtakes = 0;
      for (let i = 0; i < orig.t.length; i++) {
        if (orig.size[i] === 0 || orig.dir[i] === DIR_FWD) continue;
        while (owner + 1 < keyTimes.length && keyTimes[owner + 1] <= orig.t[i] - lag) owner++;
        const t = Math.max(orig.t[i] + (owner >= 0 ? shifts[owner] : 0), prev);
        prev = t;
        if (owner >= 0 && t < newFwd[owner]) overtakes++;
        expected.push([t, orig.size[i]]);
      }
      expect(overtakes).toBe(0);
      // Echoes and output come out in their original order (sizes in sequence) at those times.
      const got: [number, number][] = payloadIdx(out, DIR_BWD).map((i) => [out.t[i], out.size[i]]);
      expect(got).toEqual(expected);
    }
    // Every outgoing connection here is an interactive session of a minute: each shows a
    // round trip to estimate (the rule is in force, not the fallback ℓ = 0).
    expect(estimated).toBe(FEW.length);
  });

  it('keeps every pure ACK behind the data it acknowledges', () => {
    for (const [k, pair] of FEW.entries()) {
      const out = delay.apply(pair, delayParams({ max: 0.5 }), rngFor(6, 'delay', k));
      for (const side of ['incoming', 'outgoing'] as const) {
        const orig = pair[side];
        const f = out[side];
        // Each ACK refers to the last payload of the opposite direction before it, by rank
        // (payload keeps its order within a direction).
        const origAckRefs: number[] = [];
        const rank = [0, 0];
        for (let i = 0; i < orig.t.length; i++) {
          if (orig.size[i] > 0) rank[orig.dir[i]]++;
          else origAckRefs.push(orig.dir[i] * 1e9 + rank[1 - orig.dir[i]]);
        }
        const dataTimes = [payloadIdx(f, DIR_FWD).map((i) => f.t[i]), payloadIdx(f, DIR_BWD).map((i) => f.t[i])];
        const acks = Array.from(f.t.keys()).filter((i) => f.size[i] === 0);
        expect(acks.length).toBe(origAckRefs.length);
        let late = 0;
        // Compare in original order: the k-th ACK of direction d referred to data rank r.
        const perDir = [0, 1].map((d) => origAckRefs.filter((r) => Math.floor(r / 1e9) === d).map((r) => r % 1e9));
        const ackTimes = [0, 1].map((d) => acks.filter((i) => f.dir[i] === d).map((i) => f.t[i]).sort((a, b) => a - b));
        for (const d of [0, 1]) {
          perDir[d].forEach((r, j) => {
            if (r > 0 && ackTimes[d][j] < dataTimes[1 - d][r - 1]) late++;
          });
        }
        expect(late).toBe(0);
      }
    }
  });

  it('is deterministic in the rng stream, does not change its input, max 0 is the identity', () => {
    const pair = PAIRS[5];
    const before = { incoming: copyFlow(pair.incoming), outgoing: copyFlow(pair.outgoing) };
    const a = delay.apply(pair, delayParams(), rngFor(8, 'delay', 5));
    const b = delay.apply(pair, delayParams(), rngFor(8, 'delay', 5));
    expectSameFlow(a.incoming, b.incoming);
    expectSameFlow(a.outgoing, b.outgoing);
    const c = delay.apply(pair, delayParams(), rngFor(9, 'delay', 5));
    expect(Array.from(c.outgoing.t)).not.toEqual(Array.from(a.outgoing.t));
    expectSameFlow(pair.incoming, before.incoming);
    expectSameFlow(pair.outgoing, before.outgoing);

    expect(delay.isIdentity!(delayParams({ max: 0 }))).toBe(true);
    expect(delay.isIdentity!(delayParams({ max: 0.01 }))).toBe(false);
    for (const [k, p] of FEW.entries()) {
      const out = delay.apply(p, delayParams({ max: 0 }), rngFor(1, 'delay', k));
      expectSameFlow(out.incoming, p.incoming);
      expectSameFlow(out.outgoing, p.outgoing);
    }
  });
});

describe('first-packets', () => {
  it('keeps the first N packets of the connections it names, in order', async () => {
    const { default: window, firstPackets } = await import('../perturbations/first-packets/index.js');
    const f: Flow = { t: Float64Array.from([1, 2, 3, 4]), size: Int32Array.from([36, 0, 36, 52]), dir: Uint8Array.from([0, 1, 0, 1]) };
    const cut = firstPackets(f, 3);
    expect(Array.from(cut.t)).toEqual([1, 2, 3]);
    expect(Array.from(cut.size)).toEqual([36, 0, 36]);
    expect(Array.from(cut.dir)).toEqual([0, 1, 0]);
    expect(firstPackets(f, 4)).toBe(f); // nothing to cut
    const pair: FlowPair = { incoming: f, outgoing: copyFlow(f), relayed: true, meta: { dataset: 'hand', index: 0, kind: 'hand' } };
    const out = window.apply(pair, { packets: 2, hop: 'outgoing' }, rngFor(1, 'x', 0));
    expect(out.incoming).toBe(f);
    expect(Array.from(out.outgoing.t)).toEqual([1, 2]);
  });
});
