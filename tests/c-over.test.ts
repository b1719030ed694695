import { describe, expect, it } from 'vitest';
import cOver, { connectionStatistic, coverScore, crossoverRatio, sortedRttSlope } from '../detectors/c-over/index.js';
import { countCrossovers, matchRoundTrips } from '../src/analysis/rtt.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, handPair as pair } from './helpers.js';

const sends = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_FWD] as const);
const echoes = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_BWD] as const);

const rt = (...packets: Packet[][]) => matchRoundTrips(flowOf(packets.flat()), { maxRtt: 1 });

describe('crossovers (src/analysis/rtt.ts)', () => {
  it('counts one crossover for two sends before the first echo', () => {
    // Sends 0 and 0.02, echoes 0.05 and 0.07: round trips (0, 0.05), (0.02, 0.07); the
    // second send left at 0.02, before the first echo came back at 0.05.
    expect(countCrossovers(rt(sends(0, 0.02), echoes(0.05, 0.07)))).toBe(1);
    // Three sends before the first echo: the second and third each cross -> 2.
    expect(countCrossovers(rt(sends(0, 0.02, 0.04), echoes(0.05, 0.07, 0.09)))).toBe(2);
  });

  it('counts none when every echo is back before the next send, including at the same instant', () => {
    expect(countCrossovers(rt(sends(0, 1, 2), echoes(0.05, 1.05, 2.05)))).toBe(0);
    // Echo of the first send at 0.05, listed before the second send at 0.05: not a
    // crossover (send 0.05 < echo 0.05 is false).
    expect(countCrossovers(rt(sends(0), echoes(0.05), sends(0.05), echoes(0.1)))).toBe(0);
    expect(countCrossovers(rt())).toBe(0);
  });

  it('gives the crossover ratio per matched round trip', () => {
    // A crossing pair, then a lone round trip: 3 round trips, 1 crossover -> 1/3.
    expect(crossoverRatio(rt(sends(0, 0.02, 1), echoes(0.05, 0.07, 1.05)))).toBeCloseTo(1 / 3, 15);
    expect(crossoverRatio(rt())).toBe(0);
  });
});

describe('sortedRttSlope', () => {
  it('is the steepest rise of the sorted RTT curve per unit quantile', () => {
    // RTTs 0.01 … 0.05 (sends 0 … 4, echoes 0.01 … 4.05): n − 1 = 4; window 0.25 -> one
    // step; every step rises 0.01 -> 0.01 · 4 / 1 = 0.04 s per unit quantile (a straight
    // line from 0.01 to 0.05 over the quantiles 0 … 1).
    const even = rt(sends(0, 1, 2, 3, 4), echoes(0.01, 1.02, 2.03, 3.04, 4.05));
    expect(sortedRttSlope(even, 0.25)).toBeCloseTo(0.04, 12);
    // The whole curve at once (window 1): (0.05 − 0.01) · 4 / 4 = 0.04 as well.
    expect(sortedRttSlope(even, 1)).toBeCloseTo(0.04, 12);
    // RTTs 0.05, 0.05, 0.05, 0.5: window 1/3 -> one step of three; the last step rises
    // 0.45 -> 0.45 · 3 / 1 = 1.35. Window 1: 0.45 · 3 / 3 = 0.45.
    const kinked = rt(sends(0, 1, 2, 3), echoes(0.05, 1.05, 2.05, 3.5));
    expect(sortedRttSlope(kinked, 1 / 3)).toBeCloseTo(1.35, 12);
    expect(sortedRttSlope(kinked, 1)).toBeCloseTo(0.45, 12);
  });

  it('is 0 with fewer than two round trips', () => {
    expect(sortedRttSlope(rt(sends(0), echoes(0.3)), 0.1)).toBe(0);
    expect(sortedRttSlope(rt(), 0.1)).toBe(0);
  });
});

describe('c-over score()', () => {
  const p = defaultParams(cOver.params);
  // A relay whose downstream RTT (60 ms) exceeds one keystroke gap (20 ms at 1 → 1.02):
  // on both connections the second keystroke crosses the first echo. Incoming sends 1,
  // 1.02, 2, 3, echoes forwarded 1 ms after they arrive on the outgoing connection.
  const incoming = flowOf([...sends(1, 1.02, 2, 3), ...echoes(1.062, 1.082, 2.062, 3.062)]);
  const outgoing = flowOf([...sends(1.001, 1.021, 2.001, 3.001), ...echoes(1.061, 1.081, 2.061, 3.061)]);
  // A local session: echoes after 1 ms, no crossover.
  const local = flowOf([...sends(1, 1.02, 2, 3), ...echoes(1.001, 1.021, 2.001, 3.001)]);

  it('declares its defaults', () => {
    expect(p).toEqual({ statistic: 'crossover', pairing: 'difference', maxRtt: 1, slopeWindow: 0.1 });
  });

  it('scores a relay 0: the same chain lies behind both connections', () => {
    // Both: 4 round trips, 1 crossover -> ratio 1/4 each; −|1/4 − 1/4| = 0.
    expect(connectionStatistic(incoming, p)).toBe(0.25);
    expect(connectionStatistic(outgoing, p)).toBe(0.25);
    expect(Object.is(coverScore(pair(incoming, outgoing, true), p), 0)).toBe(true);
  });

  it('scores a local login paired with a crossing outgoing connection below it', () => {
    // Local incoming: ratio 0; outgoing 1/4 -> −1/4.
    expect(coverScore(pair(local, outgoing), p)).toBe(-0.25);
  });

  it('can judge one connection alone', () => {
    // outgoing: X_out = 1/4 for both pairs, whatever the incoming side; incoming: X_in.
    const out = { ...p, pairing: 'outgoing' as const };
    expect(coverScore(pair(incoming, outgoing), out)).toBe(0.25);
    expect(coverScore(pair(local, outgoing), out)).toBe(0.25);
    expect(coverScore(pair(local, outgoing), { ...p, pairing: 'incoming' })).toBe(0);
  });

  it('can compare the sorted-RTT slopes instead', () => {
    // Relay RTTs: incoming 0.062 (×4, up to rounding), outgoing 0.060: both curves flat
    // (slope ~0). Against a connection whose RTTs are 0.05, 0.05, 0.05, 0.5 (slope 1.35
    // per unit quantile with a window of 1/3), the difference is ~1.35.
    const q = { ...p, statistic: 'slope' as const, slopeWindow: 1 / 3 };
    expect(coverScore(pair(incoming, outgoing, true), q)).toBeCloseTo(0, 9);
    const kinked = flowOf([...sends(0, 1, 2, 3), ...echoes(0.05, 1.05, 2.05, 3.5)]);
    expect(coverScore(pair(incoming, kinked), q)).toBeCloseTo(-1.35, 9);
  });

  it('scores each pair independently of the batch', () => {
    const both = cOver.score([pair(local, outgoing), pair(incoming, outgoing, true)], p);
    expect(Array.from(both)).toEqual([-0.25, 0]);
    expect(cOver.score([pair(local, outgoing)], p)[0]).toBe(-0.25);
    expect(cOver.score([], p).length).toBe(0);
  });
});

describe('c-over on synthetic SSH pairs', () => {
  it('separates 100 relayed from 200 unrelated pairs (AUC > 0.8) by the crossover difference', () => {
    // The method's premise: a chain behind S long enough for echoes to cross the next
    // keystroke (150 ms round trips). With the calibrated defaults' 20 ms, crossovers come
    // from the SSH handshakes alone and the AUC is about 0.64 (0.52 on the real capture).
    const sp = { ...defaultParams(source.params), rttDownMedian: 0.15 };
    const make = (i: number, relayed: boolean) => source.pair({ seed: 7, dataset: 'c-over', index: i, relayed }, sp);
    const pos = Array.from({ length: 100 }, (_, i) => make(i, true));
    const neg = Array.from({ length: 200 }, (_, i) => make(100 + i, false));
    const params = defaultParams(cOver.params);
    const { auc } = rocPoint(cOver.score(pos, params), cOver.score(neg, params), []);
    expect(auc).toBeGreaterThan(0.8);
    // The outgoing connection alone cannot tell: every outgoing connection of this source,
    // relayed or not, is the outgoing hop of some relay.
    const alone = rocPoint(cOver.score(pos, { ...params, pairing: 'outgoing' }), cOver.score(neg, { ...params, pairing: 'outgoing' }), []);
    expect(alone.auc).toBeLessThan(0.65);
  });
});
