/**
 * RWalk: Yang & Zhang (AINA 2015), after Yang, Lee & Huang (2008). Round trips (a send
 * and its echo) are counted on the incoming and on the outgoing connection; their
 * difference is a random walk that a relay keeps bounded. Chaff is dropped by the next
 * hop and is never echoed, so it adds no round trip. See README.md for what is taken from
 * the papers and what is reconstructed.
 */
import { densestInterval, matchRoundTrips, type RoundTrips, sortedRtts, maxRttParam } from '../../src/analysis/rtt.js';
import type { Flow, FlowPair } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  gamma: {
    type: 'integer',
    default: 5,
    min: 0,
    description: 'Γ: band of the walk; a relay keeps |#RTT_in − #RTT_out| within it (sets the steps observed)',
  },
  delta: {
    type: 'number',
    default: 0.01,
    min: 1e-12,
    max: 0.5,
    description: 'δ: bound on the false-accusation probability; sets the steps observed, T = ⌈2 (Γ + 1)² ln(1/δ)⌉',
  },
  maxRtt: maxRttParam(' (chaff, or an echo merged away)'),
  clusterFrom: {
    type: 'enum',
    values: ['conservative', 'greedy'],
    default: 'conservative',
    description: 'round trips that locate the RTT cluster: only the conservative (unambiguous) ones, or all greedy ones',
  },
  clusterShare: {
    type: 'number',
    default: 0.5,
    min: 0.01,
    max: 1,
    description: 'share of a connection’s matched RTTs that the densest cluster must hold',
  },
  clusterWidth: {
    type: 'number',
    default: 3,
    min: 0,
    description: 'round trips count when their RTT lies within this many cluster half-widths of the cluster centre; 0 counts every matched round trip',
  },
  minHalfWidth: {
    type: 'number',
    default: 0.01,
    min: 0,
    unit: 's',
    description: 'narrowest half-width of the counting band around the RTT cluster',
  },
} as const;

export type RwalkParams = ParamsOf<typeof params>;

/** Steps of the walk observed: T = ⌈2 (Γ + 1)² ln(1/δ)⌉ round trips of the two connections together. */
export function stepsObserved(gamma: number, delta: number): number {
  const band = gamma + 1;
  return Math.ceil(2 * band * band * Math.log(1 / delta));
}

/**
 * The round trips of one connection that RWalk counts. Without clustering (clusterWidth
 * 0): every greedy round trip within maxRtt. With it: the densest cluster of RTTs is
 * found among the conservative round trips (or all greedy ones, per clusterFrom; the
 * greedy ones when there is no conservative one), and sends are matched again, greedily,
 * inside the band centre ± max(minHalfWidth, clusterWidth · half-width). The second
 * matching pairs each send with an echo at about the connection's usual RTT, so chaff
 * that took a keystroke's echo, or met command output, in the first pass no longer
 * counts. The cluster is located among the conservative round trips because a greedy
 * mismatch always pairs an echo with a send older than its own: with chaff, the greedy
 * RTTs pile up at the age of the chaff, not at the connection's RTT.
 */
export function countedRoundTrips(f: Flow, p: RwalkParams): RoundTrips {
  const all = matchRoundTrips(f, { maxRtt: p.maxRtt });
  if (p.clusterWidth === 0) return all;
  const sure = p.clusterFrom === 'conservative' ? matchRoundTrips(f, { maxRtt: p.maxRtt, algorithm: 'conservative' }) : all;
  const cluster = densestInterval(sortedRtts(sure.rtt.length > 0 ? sure : all), p.clusterShare);
  if (!cluster) return all;
  const centre = (cluster.lo + cluster.hi) / 2;
  const half = Math.max(p.minHalfWidth, (p.clusterWidth * (cluster.hi - cluster.lo)) / 2);
  return matchRoundTrips(f, { minRtt: Math.max(0, centre - half), maxRtt: centre + half });
}

/**
 * The largest |D| over the first `steps` events, D = (round trips completed on a) −
 * (round trips completed on b), events in time order of the echoes. At equal times a's
 * round trip counts first.
 */
export function maxWalkExcursion(a: Float64Array, b: Float64Array, steps: number): number {
  let i = 0;
  let j = 0;
  let d = 0;
  let maxAbs = 0;
  for (let s = 0; s < steps && (i < a.length || j < b.length); s++) {
    if (j >= b.length || (i < a.length && a[i] <= b[j])) {
      d++;
      i++;
    } else {
      d--;
      j++;
    }
    const abs = d < 0 ? -d : d;
    if (abs > maxAbs) maxAbs = abs;
  }
  return maxAbs;
}

/**
 * −max |D| over the first T steps, in [−T, 0]. A pair without a single round trip on
 * either connection gives no evidence of a relay and scores −T, the lowest possible
 * value, rather than the 0 an empty walk would give.
 */
export function rwalkScore(pair: FlowPair, p: RwalkParams, steps = stepsObserved(p.gamma, p.delta)): number {
  const a = countedRoundTrips(pair.incoming, p).echo;
  const b = countedRoundTrips(pair.outgoing, p).echo;
  if (a.length === 0 && b.length === 0) return -steps;
  return 0 - maxWalkExcursion(a, b, steps); // 0 - x: a perfect walk scores +0, not -0
}

export default defineDetector({
  name: 'rwalk',
  description: 'RTT-based random walk: round trips counted on both connections; score = −max |#RTT_in − #RTT_out|',
  citation:
    'J. Yang, Y. Zhang. RTT-based random walk approach to detect stepping-stone intrusion. IEEE AINA 2015; after J. Yang, B. Lee, S.-H. S. Huang. Monitoring network traffic to detect stepping-stone intrusion. AINA Workshops 2008.',
  params,
  score(pairs, p) {
    const steps = stepsObserved(p.gamma, p.delta);
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = rwalkScore(pairs[k], p, steps);
    return out;
  },
});
