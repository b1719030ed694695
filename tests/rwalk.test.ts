import { describe, expect, it } from 'vitest';
import rwalk, { countedRoundTrips, maxWalkExcursion, rwalkScore, stepsObserved } from '../detectors/rwalk/index.js';
import { matchBoundedDelay } from '../src/analysis/matching.js';
import { densestInterval, matchRoundTrips, medianRtt, sortedRtts } from '../src/analysis/rtt.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf, payloadTimes } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, acks, handPair as pair } from './helpers.js';

const f64 = (a: number[]) => Float64Array.from(a);
const sends = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_FWD] as const);
const echoes = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_BWD] as const);

/** The round trips as [send, echo] rows. */
function rows(f: Flow, o: Parameters<typeof matchRoundTrips>[1] = {}): [number, number][] {
  const rt = matchRoundTrips(f, o);
  return Array.from(rt.send, (s, k) => [s, rt.echo[k]]);
}

describe('matchRoundTrips (src/analysis/rtt.ts)', () => {
  it('matches a send at 0 with its echo at 0.05: RTT 0.05', () => {
    const rt = matchRoundTrips(flowOf([...sends(0), ...echoes(0.05)]));
    expect(Array.from(rt.send)).toEqual([0]);
    expect(Array.from(rt.echo)).toEqual([0.05]);
    expect(Array.from(rt.rtt)).toEqual([0.05]); // 0.05 - 0 is exactly 0.05
    expect([rt.sends, rt.echoes]).toEqual([1, 1]);
  });

  it('ignores pure ACKs and skips output that answers no send', () => {
    // Send 0, ACK from the server at 0.01, echo 0.05, two output packets 0.06 and 0.07,
    // client ACK 0.1. Only 0 -> 0.05 is a round trip: when the output comes, nothing is
    // outstanding. Three backward payload packets are counted as echoes seen.
    const f = flowOf([...sends(0), ...acks(DIR_BWD, 0.01), ...echoes(0.05, 0.06, 0.07), ...acks(DIR_FWD, 0.1)]);
    for (const algorithm of ['greedy', 'conservative'] as const) expect(rows(f, { algorithm })).toEqual([[0, 0.05]]);
    expect(matchRoundTrips(f).echoes).toBe(3);
  });

  it('greedy pairs crossing round trips first in, first out; conservative drops them', () => {
    // Sends 0 and 0.02 both leave before the first echo (0.05): FIFO gives 0 -> 0.05 and
    // 0.02 -> 0.07. Neither left alone and came back alone, so conservative reports none.
    const f = flowOf([...sends(0, 0.02), ...echoes(0.05, 0.07)]);
    expect(rows(f)).toEqual([
      [0, 0.05],
      [0.02, 0.07],
    ]);
    expect(rows(f, { algorithm: 'conservative' })).toEqual([]);
  });

  it('conservative keeps the unambiguous round trips around a crossover', () => {
    // 0 -> 0.05 alone; 1 and 1.02 cross (dropped); 2 -> 2.05 alone again (1.02 was answered
    // at 1.07, so nothing is outstanding when 2 leaves).
    const f = flowOf([...sends(0, 1, 1.02, 2), ...echoes(0.05, 1.05, 1.07, 2.05)]);
    expect(rows(f, { algorithm: 'conservative' })).toEqual([
      [0, 0.05],
      [2, 2.05],
    ]);
    expect(rows(f).length).toBe(4);
  });

  it('gives up a send that is not echoed within maxRtt', () => {
    // Chaff at 0 (never echoed), a keystroke at 2 echoed at 2.05. With maxRtt 1 the chaff
    // is given up when the keystroke leaves (2 - 0 > 1): 2 -> 2.05. Without a bound the
    // stale chaff takes the echo and the keystroke stays unanswered.
    const f = flowOf([...sends(0, 2), ...echoes(2.05)]);
    expect(rows(f, { maxRtt: 1 })).toEqual([[2, 2.05]]);
    expect(rows(f, { maxRtt: 1, algorithm: 'conservative' })).toEqual([[2, 2.05]]);
    expect(rows(f)).toEqual([[0, 2.05]]);
  });

  it('lets recent chaff take the echo in greedy matching (what RWalk guards against)', () => {
    // Chaff at 0.9, keystroke at 1, echo 1.05, maxRtt 1: the oldest outstanding send is the
    // chaff, so greedy reports 0.9 -> 1.05 (RTT 0.15). Conservative reports nothing for it:
    // the keystroke left while the chaff was outstanding.
    const f = flowOf([...sends(0, 0.9, 1), ...echoes(0.05, 1.05)]);
    const g = matchRoundTrips(f, { maxRtt: 1 });
    expect(Array.from(g.send)).toEqual([0, 0.9]);
    expect(g.rtt[1]).toBeCloseTo(0.15, 12);
    expect(rows(f, { maxRtt: 1, algorithm: 'conservative' })).toEqual([[0, 0.05]]);
  });

  it('closes the window [minRtt, maxRtt] at both ends', () => {
    // Echo exactly maxRtt after the send: answered (0 + 1 < 1 is false).
    expect(rows(flowOf([...sends(0), ...echoes(1)]), { maxRtt: 1 })).toEqual([[0, 1]]);
    expect(rows(flowOf([...sends(0), ...echoes(1 + 1e-9)]), { maxRtt: 1 })).toEqual([]);
    // minRtt 0.25: an echo at 0.125 is too early (skipped, not output of the send); 0.25 is in.
    expect(rows(flowOf([...sends(0), ...echoes(0.125, 0.25)]), { minRtt: 0.25 })).toEqual([[0, 0.25]]);
    // A send and an echo at the same instant, in that order: RTT 0 is allowed by default.
    expect(rows(flowOf([...sends(3), ...echoes(3)]))).toEqual([[3, 3]]);
  });

  it('refuses a bad window', () => {
    const f = flowOf(sends(0));
    expect(() => matchRoundTrips(f, { minRtt: 0.2, maxRtt: 0.1 })).toThrow(RangeError);
    expect(() => matchRoundTrips(f, { minRtt: -1 })).toThrow(RangeError);
    expect(() => matchRoundTrips(f, { maxRtt: Number.NaN })).toThrow(RangeError);
  });

  it('greedy finds a maximum matching and conservative a subset of it, on random flows', () => {
    // Deterministic LCG; times on a 0.01 s grid so that window edges and ties within a
    // direction happen. Sends sit on even and echoes on odd hundredths: at equal times the
    // flow's order decides (an echo listed before a send cannot answer it), which the
    // reference, seeing two bare time arrays, cannot know.
    let s = 424242;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let trial = 0; trial < 300; trial++) {
      const packets: Packet[] = [];
      const n = Math.floor(next() * 14);
      for (let i = 0; i < n; i++) {
        const dir = next() < 0.5 ? DIR_FWD : DIR_BWD;
        packets.push([(2 * Math.floor(next() * 30) + dir) * 0.01, next() < 0.2 ? 0 : 36, dir]);
      }
      const f = flowOf(packets);
      const minRtt = trial % 3 === 0 ? 0.02 : 0;
      const maxRtt = minRtt + [0, 0.03, 0.1, 1][trial % 4];
      const g = matchRoundTrips(f, { minRtt, maxRtt });
      // The order-preserving bounded-delay matching of src/analysis/matching.ts is a
      // maximum matching of sends to later echoes within the window (tested there).
      expect(g.send.length).toBe(matchBoundedDelay(payloadTimes(f, DIR_FWD), payloadTimes(f, DIR_BWD), maxRtt, minRtt));
      for (let k = 0; k < g.send.length; k++) {
        expect(g.rtt[k]).toBeGreaterThanOrEqual(minRtt - 1e-12);
        expect(g.rtt[k]).toBeLessThanOrEqual(maxRtt + 1e-12);
      }
      const c = matchRoundTrips(f, { minRtt, maxRtt, algorithm: 'conservative' });
      const greedyPairs = new Set(Array.from(g.send, (x, k) => `${x}/${g.echo[k]}`));
      for (let k = 0; k < c.send.length; k++) expect(greedyPairs.has(`${c.send[k]}/${c.echo[k]}`)).toBe(true);
    }
  });
});

describe('densestInterval and medianRtt', () => {
  it('finds the shortest interval holding the share of RTTs', () => {
    // 5 RTTs, share 0.5: ⌈2.5⌉ = 3 values, index distance 2. Candidates: [0.05, 0.052]
    // (width 0.002), [0.051, 0.3], [0.052, 0.9]: the first wins.
    expect(densestInterval(f64([0.05, 0.051, 0.052, 0.3, 0.9]), 0.5)).toEqual({ lo: 0.05, hi: 0.052 });
    expect(densestInterval(f64([0.05, 0.051, 0.052, 0.3, 0.9]), 1)).toEqual({ lo: 0.05, hi: 0.9 });
    // Ties: the lowest interval. [1, 2] and [2, 3] have the same width.
    expect(densestInterval(f64([1, 2, 3]), 0.5)).toEqual({ lo: 1, hi: 2 });
    expect(densestInterval(f64([0.3]), 0.5)).toEqual({ lo: 0.3, hi: 0.3 });
    expect(densestInterval(f64([]), 0.5)).toBeUndefined();
    expect(() => densestInterval(f64([1]), 0)).toThrow(RangeError);
  });

  it('takes the median of the RTTs', () => {
    // RTTs 0.5, 0.25, 1 (sends 0, 1, 2): median 0.5; with a fourth, 0.75: (0.5 + 0.75) / 2.
    const three = matchRoundTrips(flowOf([...sends(0, 1, 2), ...echoes(0.5, 1.25, 3)]));
    expect(Array.from(sortedRtts(three))).toEqual([0.25, 0.5, 1]);
    expect(medianRtt(three)).toBe(0.5);
    expect(medianRtt(matchRoundTrips(flowOf([...sends(0, 1, 2, 4), ...echoes(0.5, 1.25, 3, 4.75)])))).toBe(0.625);
    expect(medianRtt(matchRoundTrips(flowOf([])))).toBeNaN();
  });
});

describe('rwalk', () => {
  const p = defaultParams(rwalk.params);

  it('declares its defaults; T = ⌈2 (Γ + 1)² ln(1/δ)⌉ = 332 steps', () => {
    expect(p).toEqual({
      gamma: 5,
      delta: 0.01,
      maxRtt: 1,
      clusterFrom: 'conservative',
      clusterShare: 0.5,
      clusterWidth: 3,
      minHalfWidth: 0.01,
    });
    // 2 · 36 · ln 100 = 331.57…
    expect(stepsObserved(5, 0.01)).toBe(332);
    expect(stepsObserved(0, 0.5)).toBe(2); // 2 · 1 · ln 2 = 1.39
  });

  it('walks D = #a − #b in time order and reports the largest |D|', () => {
    // a = 1, 2, 3 and b = 1.1, 2.1, 3.1: D = 1, 0, 1, 0, 1, 0 -> 1.
    expect(maxWalkExcursion(f64([1, 2, 3]), f64([1.1, 2.1, 3.1]), 100)).toBe(1);
    // a = 1, 2, 3, b = 5: D = 1, 2, 3, 2 -> 3; only the first 2 steps: 2.
    expect(maxWalkExcursion(f64([1, 2, 3]), f64([5]), 100)).toBe(3);
    expect(maxWalkExcursion(f64([1, 2, 3]), f64([5]), 2)).toBe(2);
    // Equal times: a counts first, D = 1, 0.
    expect(maxWalkExcursion(f64([1]), f64([1]), 100)).toBe(1);
    expect(maxWalkExcursion(f64([]), f64([]), 100)).toBe(0);
  });

  it('counts only round trips near the connection RTT, so chaff that meets output does not count', () => {
    // Keystrokes at 0, 1, 2, 3 echoed 0.05 s later; chaff at 3.5 and command output at
    // 3.8. Greedy matching pairs the chaff with the output (RTT 0.3): 5 round trips.
    // The densest half of the RTTs (3 of 5) is the four 0.05 s ones, width ~0; the band is
    // 0.05 ± 0.01 (minHalfWidth), where the chaff has no echo: 4 round trips.
    const f = flowOf([...sends(0, 1, 2, 3, 3.5), ...echoes(0.05, 1.05, 2.05, 3.05, 3.8)]);
    expect(matchRoundTrips(f, { maxRtt: 1 }).send.length).toBe(5);
    expect(Array.from(countedRoundTrips(f, p).send)).toEqual([0, 1, 2, 3]);
    // clusterWidth 0 counts every greedy round trip.
    expect(countedRoundTrips(f, { ...p, clusterWidth: 0 }).send.length).toBe(5);
  });

  // Keystrokes arrive at 1, 2, 3, 4, leave 1 ms later, come back after 60 ms and are
  // echoed upstream 1 ms after that. Echo order: out 1.061, in 1.062, … -> D = −1, 0, …
  const relayIn = flowOf([...sends(1, 2, 3, 4), ...echoes(1.062, 2.062, 3.062, 4.062)]);
  const relayOut = flowOf([...sends(1.001, 2.001, 3.001, 4.001), ...echoes(1.061, 2.061, 3.061, 4.061)]);

  it('scores a relay -1, chaff on the incoming connection included', () => {
    expect(rwalkScore(pair(relayIn, relayOut, true), p)).toBe(-1);
    // Chaff 0.5 s before keystrokes 2, 3 and 4 (never echoed). Greedy pairs each chaff
    // with the next echo: RTTs 0.062, 0.562, 0.562, 0.562. The only conservative round
    // trip is 1 -> 1.062 (every later keystroke left while a chaff send was outstanding),
    // so the band is 0.062 ± 0.01 (minHalfWidth), where the chaff has no echo and every
    // keystroke has its own: 4 round trips, the walk stays within 1.
    const chaffed = flowOf([...sends(1, 1.5, 2, 2.5, 3, 3.5, 4), ...echoes(1.062, 2.062, 3.062, 4.062)]);
    expect(Array.from(matchRoundTrips(chaffed, { maxRtt: 1, algorithm: 'conservative' }).send)).toEqual([1]);
    expect(Array.from(countedRoundTrips(chaffed, p).send)).toEqual([1, 2, 3, 4]);
    expect(rwalkScore(pair(chaffed, relayOut, true), p)).toBe(-1);
  });

  it('lets chaff move the cluster when it is located among all greedy round trips', () => {
    // Same pair, clusterFrom greedy: the densest half of 0.062, 0.562, 0.562, 0.562 is at
    // 0.562, where only the three chaff sends have an echo (1.5 -> 2.062, 2.5 -> 3.062,
    // 3.5 -> 4.062): 3 round trips against 4 outgoing. Echo order: out 1.061, out 2.061,
    // in 2.062, … -> D reaches −2.
    const chaffed = flowOf([...sends(1, 1.5, 2, 2.5, 3, 3.5, 4), ...echoes(1.062, 2.062, 3.062, 4.062)]);
    const q = { ...p, clusterFrom: 'greedy' as const };
    expect(Array.from(countedRoundTrips(chaffed, q).send)).toEqual([1.5, 2.5, 3.5]);
    expect(rwalkScore(pair(chaffed, relayOut, true), q)).toBe(-2);
  });

  it('scores unrelated sessions typing at different rates low', () => {
    // Incoming: 8 keystrokes at 0.5, 1, …, 4, echoed after 1 ms (a local shell).
    // Outgoing: 2 keystrokes at 1.2 and 3.2, echoed after 60 ms.
    // Echo times: in 0.501, 1.001, 1.501, 2.001, 2.501, 3.001, 3.501, 4.001; out 1.26, 3.26.
    // D: 1, 2, (1.26 out) 1, 2, 3, 4, 5, (3.26 out) 4, 5, 6 -> max 6.
    const inTimes = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4];
    const incoming = flowOf([...sends(...inTimes), ...echoes(...inTimes.map((t) => t + 0.001))]);
    const outgoing = flowOf([...sends(1.2, 3.2), ...echoes(1.26, 3.26)]);
    expect(rwalkScore(pair(incoming, outgoing), p)).toBe(-6);
  });

  it('scores a pair without round trips -T, and each pair independently of the batch', () => {
    const empty = flowOf([]);
    const noEchoes = flowOf(sends(1, 2));
    expect(rwalkScore(pair(empty, empty), p)).toBe(-332);
    expect(rwalkScore(pair(noEchoes, noEchoes), p)).toBe(-332);
    // One side empty: the walk is the other's count. 2 round trips -> -2.
    const two = flowOf([...sends(1, 2), ...echoes(1.05, 2.05)]);
    expect(rwalkScore(pair(two, empty), p)).toBe(-2);
    const both = rwalk.score([pair(two, empty), pair(two, two, true)], p);
    expect(Array.from(both)).toEqual([-2, -1]);
    expect(rwalk.score([pair(two, two, true)], p)[0]).toBe(both[1]);
    expect(rwalk.score([], p).length).toBe(0);
  });
});

describe('rwalk on synthetic SSH pairs', () => {
  it('separates 100 relayed from 200 unrelated pairs (AUC > 0.8)', () => {
    const sp = defaultParams(source.params);
    const make = (i: number, relayed: boolean) => source.pair({ seed: 7, dataset: 'rwalk', index: i, relayed }, sp);
    const pos = Array.from({ length: 100 }, (_, i) => make(i, true));
    const neg = Array.from({ length: 200 }, (_, i) => make(100 + i, false));
    const params = defaultParams(rwalk.params);
    const { auc } = rocPoint(rwalk.score(pos, params), rwalk.score(neg, params), []);
    expect(auc).toBeGreaterThan(0.8);
  });
});
