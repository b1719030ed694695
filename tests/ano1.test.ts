import { describe, expect, it } from 'vitest';
import ano1, { anomalyLevel, connectionStats } from '../detectors/ano1/index.js';
import chaff from '../perturbations/chaff/index.js';
import { boundedEditDistance, editDistance } from '../src/analysis/edit-distance.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import { rngFor } from '../src/rng.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, fwd, bwd, acks, handPair as pair } from './helpers.js';

// Times are multiples of 1/64 s (exact in binary), so gaps compare exactly with idle.

type Params = ReturnType<typeof defaultParams<typeof ano1.params>>;
const params = (over: Partial<Params> = {}): Params => ({ ...defaultParams(ano1.params), ...over });

describe('edit distance (src/analysis/edit-distance.ts)', () => {
  it('counts substitutions, insertions and deletions, with a tolerance for equal values', () => {
    expect(editDistance([1, 2, 3], [1, 2, 3], 0)).toBe(0);
    // 0.25 vs 0.2: differ by 0.05 -> one substitution at tol 0.01, a match at tol 0.05.
    expect(editDistance([0.1, 0.2, 0.3], [0.1, 0.25, 0.3], 0.01)).toBe(1);
    expect(editDistance([0.1, 0.2, 0.3], [0.1, 0.25, 0.3], 0.0625)).toBe(0);
    // Deleting the 2 turns [1, 2, 3, 4] into [1, 3, 4].
    expect(editDistance([1, 2, 3, 4], [1, 3, 4], 0)).toBe(1);
    // kitten -> sitting with k=1 i=2 t=3 e=4 n=5 s=6 g=7: the classic 3 (k->s, e->i, +g).
    const kitten = [1, 2, 3, 3, 4, 5];
    const sitting = [6, 2, 3, 3, 2, 5, 7];
    expect(editDistance(kitten, sitting, 0)).toBe(3);
    expect(boundedEditDistance(kitten, sitting, 0, 16)).toBe(3);
  });

  it('saturates at maxDist + 1 and is exact below', () => {
    const kitten = [1, 2, 3, 3, 4, 5];
    const sitting = [6, 2, 3, 3, 2, 5, 7];
    expect(boundedEditDistance(kitten, sitting, 0, 3)).toBe(3);
    expect(boundedEditDistance(kitten, sitting, 0, 2)).toBe(3); // "more than 2"
    expect(boundedEditDistance(kitten, sitting, 0, 1)).toBe(2); // "more than 1"
    expect(boundedEditDistance(kitten, sitting, 0, 0)).toBe(1);
    // Lengths 2 and 6 differ by 4: more than a budget of 3 whatever the values.
    expect(boundedEditDistance([1, 2], [1, 2, 3, 4, 5, 6], 0, 3)).toBe(4);
  });

  it('prefix mode leaves the tail of b free', () => {
    // a = [1, 2] is exactly b's first two values; the three 9s after them cost nothing.
    expect(editDistance([1, 2], [1, 2, 9, 9, 9], 0)).toBe(3);
    expect(editDistance([1, 2], [1, 2, 9, 9, 9], 0, 'prefix')).toBe(0);
    expect(boundedEditDistance([1, 2], [1, 2, 9, 9, 9], 0, 1, 'prefix')).toBe(0);
    // [1, 5] against prefixes of [1, 2, 3]: [1] costs one deletion, [1, 2] one substitution.
    expect(boundedEditDistance([1, 5], [1, 2, 3], 0, 4, 'prefix')).toBe(1);
    // An empty a matches the empty prefix; globally it has to insert all of b.
    expect(boundedEditDistance([], [1, 2, 3], 0, 8, 'prefix')).toBe(0);
    expect(boundedEditDistance([], [1, 2, 3], 0, 8)).toBe(3);
    // b shorter than a: the surplus of a has to be deleted.
    expect(boundedEditDistance([1, 2, 3], [1], 0, 8, 'prefix')).toBe(2);
  });

  it('equals min(full distance, maxDist + 1) on random sequences, both modes', () => {
    const rng = rngFor(7, 'edit-distance-test', 0);
    for (let trial = 0; trial < 400; trial++) {
      const n = Math.floor(rng.next() * 9);
      const m = Math.floor(rng.next() * 9);
      // Few distinct values make matches common, so the optimum mixes all three edits.
      const a = Array.from({ length: n }, () => Math.floor(rng.next() * 3) / 8);
      const b = Array.from({ length: m }, () => Math.floor(rng.next() * 3) / 8);
      const tol = rng.next() < 0.5 ? 0 : 0.125;
      const k = Math.floor(rng.next() * 6);
      for (const mode of ['global', 'prefix'] as const) {
        expect(boundedEditDistance(a, b, tol, k, mode)).toBe(Math.min(editDistance(a, b, tol, mode), k + 1));
      }
    }
  });
});

describe('ano1: the three statistics of a connection', () => {
  it('causality: unanswered and doubly answered ON periods and uncaused responses are violations', () => {
    // Requests (forward), idle 0.5: ON periods [1, 1.125, 1.25], [3, 3.125, 3.25], [5].
    // Responses (backward): [0.5] | [1.0625, 1.1875, 1.3125] | [3.0625, 3.1875, 3.3125] | [4, 4.125]
    // (gaps 0.5625, 1.75, 0.6875 between them: all > 0.5, so four ON periods).
    // Windows: [1, 3) holds one response period (fine); [3, 5) holds two (violation);
    // [5, end) none (violation); the response period at 0.5 precedes every request
    // (uncaused, violation). 3 violations / (3 request periods + 1 uncaused) = 0.75.
    // Pure ACKs at 2 and 6 change nothing.
    const f = flowOf([
      ...fwd(1, 1.125, 1.25, 3, 3.125, 3.25, 5),
      ...bwd(0.5, 1.0625, 1.1875, 1.3125, 3.0625, 3.1875, 3.3125, 4, 4.125),
      ...acks(DIR_FWD, 2, 6),
      ...acks(DIR_BWD, 2.5),
    ]);
    const s = connectionStats(f, params());
    expect(s.requestPeriods).toBe(3);
    expect(s.responsePeriods).toBe(4);
    expect(s.causality).toBe(0.75);
    // Edit distance: both two-request periods have delays [0.125, 0.125], echoed exactly
    // by their matched response periods -> 0 edits; the single-packet period has no delay.
    expect(s.edit).toBe(0);
    // Response times: every echo 0.0625 after its request (6 matched) -> none delayed.
    expect(s.samples).toBe(6);
    expect(s.response).toBe(0);
    // Anomaly level with the default thresholds: causality 0.75 / 0.15 = 5.
    expect(anomalyLevel(s, params(), 'all')).toBeCloseTo(5, 12);
    expect(anomalyLevel(s, params(), 'edit')).toBe(0);
  });

  it('response time and edit distance: two late echoes in one ON period', () => {
    // Requests at 1, 1.25, 1.5, 1.75, 2 (one ON period, delays 0.25 x 4).
    // Echoes 0.0625 after the first three and 0.25 after the last two:
    // 1.0625, 1.3125, 1.5625, 2, 2.25 (one ON period, delays 0.25, 0.25, 0.4375, 0.25).
    // Response times: 0.0625 x 3, 0.25 x 2. RTT = 0.3-quantile (nearest rank 2 of 5) =
    // 0.0625; limit 0.0625 + 0.05 = 0.1125; two of five above -> 0.4.
    // Edit distance of [0.25 x 4] to the echo delays at tolerance 0.02: one substitution
    // (0.4375) -> 1 edit over 4 delays = 0.25.
    const f = flowOf([...fwd(1, 1.25, 1.5, 1.75, 2), ...bwd(1.0625, 1.3125, 1.5625, 2, 2.25)]);
    const s = connectionStats(f, params());
    expect(s.samples).toBe(5);
    expect(s.response).toBeCloseTo(0.4, 12);
    expect(s.edit).toBeCloseTo(0.25, 12);
    expect(s.causality).toBe(0);
    // Levels: response 0.4 / 0.1 = 4, edit 0.25 / 0.2 = 1.25; the engine takes the larger.
    expect(anomalyLevel(s, params(), 'response')).toBeCloseTo(4, 12);
    expect(anomalyLevel(s, params(), 'edit')).toBeCloseTo(1.25, 12);
    expect(anomalyLevel(s, params(), 'all')).toBeCloseTo(4, 12);
    // A slack of 0.25 s lets 0.25 pass (0.25 <= 0.0625 + 0.25): nothing delayed.
    expect(connectionStats(f, params({ responseSlack: 0.25 })).response).toBe(0);
  });

  it('edit distance: chaff among the requests costs one edit per chaff packet, tail output is free', () => {
    // Requests 1, 1.25, 1.5, 1.75 with chaff at 1.375: delays 0.25, 0.125, 0.125, 0.25.
    // Echoes 1.0625, 1.3125, 1.5625, 1.8125 (delays 0.25 x 3), then output at 1.84375,
    // 1.875 (delays 0.03125 x 2) in the same response ON period.
    // Best alignment of [0.25, 0.125, 0.125, 0.25] to a prefix of
    // [0.25, 0.25, 0.25, 0.03125, 0.03125]: 0.25=0.25, substitute 0.125->0.25, delete
    // 0.125, 0.25=0.25 -> 2 edits (the output's delays are the free tail). 2 / 4 = 0.5.
    // Causality is intact: one response period for one request period.
    const f = flowOf([...fwd(1, 1.25, 1.375, 1.5, 1.75), ...bwd(1.0625, 1.3125, 1.5625, 1.8125, 1.84375, 1.875)]);
    const s = connectionStats(f, params());
    expect(s.edit).toBeCloseTo(0.5, 12);
    expect(s.causality).toBe(0);
    // A budget of 1 edit saturates at 2 = min(4 delays, 1 + 1), so the share becomes 2 / 2.
    expect(connectionStats(f, params({ maxEdits: 1 })).edit).toBe(1);
  });

  it('a connection without requests or responses gives zeros, not NaN', () => {
    const empty = connectionStats(flowOf([]), params());
    expect([empty.response, empty.edit, empty.causality]).toEqual([0, 0, 0]);
    // Responses only: all uncaused -> causality 1.
    const onlyEchoes = connectionStats(flowOf(bwd(1, 3)), params());
    expect(onlyEchoes.causality).toBe(1);
    // Requests only: each unanswered, and its delays all count as deletions.
    const onlyRequests = connectionStats(flowOf(fwd(1, 1.25, 3)), params());
    expect(onlyRequests.causality).toBe(1);
    expect(onlyRequests.edit).toBe(1);
  });
});

describe('ano1: score', () => {
  it('is the larger anomaly level of the checked connections', () => {
    // Incoming: the causality example (level 5); outgoing: a clean echo stream (level 0).
    const bad = flowOf([...fwd(1, 1.125, 1.25, 3, 3.125, 3.25, 5), ...bwd(0.5, 1.0625, 1.1875, 1.3125, 3.0625, 3.1875, 3.3125, 4, 4.125)]);
    const clean = flowOf([...fwd(1, 1.125, 1.25), ...bwd(1.0625, 1.1875, 1.3125)]);
    const p = pair(bad, clean);
    expect(ano1.score([p], params())[0]).toBeCloseTo(5, 12);
    expect(ano1.score([p], params({ connections: 'incoming' }))[0]).toBeCloseTo(5, 12);
    expect(ano1.score([p], params({ connections: 'outgoing' }))[0]).toBe(0);
    // Halving the causality threshold doubles the level.
    expect(ano1.score([p], params({ causalityRatio: 0.075 }))[0]).toBeCloseTo(10, 12);
  });
});

describe('ano1 on synthetic pairs', () => {
  const sp = defaultParams(source.params);
  const P = 40;
  const N = 80;
  const make = (i: number) => source.pair({ seed: 3, dataset: 'ano1-test', index: i, relayed: i < P }, sp);
  const base = Array.from({ length: P + N }, (_, i) => make(i));
  const auc = (pairs: FlowPair[]) => {
    const s = ano1.score(pairs, params());
    return rocPoint(s.slice(0, P), s.slice(P), []).auc;
  };

  it('finds chaffed relays, and (an anomaly detector) not relays without evasion', () => {
    const chaffed = base.map((p, i) => (i < P ? chaff.apply(p, { ...defaultParams(chaff.params), ratio: 1 }, rngFor(3, 'chaff', i)) : p));
    expect(auc(chaffed)).toBeGreaterThan(0.95);
    // Without evasion a relayed connection is a normal interactive connection: no better
    // than chance (the max over two connections of one session even ranks relays lower).
    expect(auc(base)).toBeLessThan(0.65);
  });
});
