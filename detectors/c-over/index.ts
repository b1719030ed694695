/**
 * C-Over: Huang, Zhang & Phay, "Detecting stepping-stone intruders by identifying
 * crossover packets in SSH connections", AINA 2016. When the round trip behind a host is
 * longer than the time between keystrokes, sends leave before the echo of the previous
 * send is back (a crossover); the crossover ratio, and the steepness of the sorted RTT
 * curve, grow with the length of the chain behind the host. It judges one connection;
 * here both connections of a pair are judged and compared. See README.md.
 */
import { countCrossovers, matchRoundTrips, type RoundTrips, sortedRtts, maxRttParam } from '../../src/analysis/rtt.js';
import type { Flow, FlowPair } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  statistic: {
    type: 'enum',
    values: ['crossover', 'slope'],
    default: 'crossover',
    description: 'per connection: the crossover ratio, or the steepest rise of the sorted RTT curve',
  },
  pairing: {
    type: 'enum',
    values: ['difference', 'outgoing', 'incoming'],
    default: 'difference',
    description: 'score: −|X_in − X_out| (the chain behind both connections must be the same for a relay), or X of one connection alone',
  },
  maxRtt: maxRttParam(),
  slopeWindow: {
    type: 'number',
    default: 0.1,
    min: 1e-6,
    max: 1,
    description: 'with slope: share of the sorted RTTs over which the rise is measured',
  },
} as const;

export type CoverParams = ParamsOf<typeof params>;

/** Crossovers per matched round trip, in [0, 1); 0 without round trips. */
export function crossoverRatio(rt: RoundTrips): number {
  const n = rt.send.length;
  return n === 0 ? 0 : countCrossovers(rt) / n;
}

/**
 * The steepest rise of the sorted RTT curve: RTTs sorted ascending and plotted against
 * their quantile q = i / (n − 1); the largest increase over any run of w = ⌈window ·
 * (n − 1)⌉ steps, divided by w / (n − 1). In seconds per unit quantile; 0 with fewer than
 * two round trips. O(n log n).
 */
export function sortedRttSlope(rt: RoundTrips, window: number): number {
  const s = sortedRtts(rt);
  const n = s.length;
  if (n < 2) return 0;
  const w = Math.min(n - 1, Math.max(1, Math.ceil(window * (n - 1))));
  let rise = 0;
  for (let i = 0; i + w < n; i++) if (s[i + w] - s[i] > rise) rise = s[i + w] - s[i];
  return (rise * (n - 1)) / w;
}

/** The C-Over statistic of one connection. */
export function connectionStatistic(f: Flow, p: CoverParams): number {
  const rt = matchRoundTrips(f, { maxRtt: p.maxRtt });
  return p.statistic === 'slope' ? sortedRttSlope(rt, p.slopeWindow) : crossoverRatio(rt);
}

export function coverScore(pair: FlowPair, p: CoverParams): number {
  if (p.pairing === 'outgoing') return connectionStatistic(pair.outgoing, p);
  if (p.pairing === 'incoming') return connectionStatistic(pair.incoming, p);
  return 0 - Math.abs(connectionStatistic(pair.incoming, p) - connectionStatistic(pair.outgoing, p)); // +0 when equal
}

export default defineDetector({
  name: 'c-over',
  description: 'crossover packets: crossover ratio (or sorted-RTT slope) of both connections; score = −|X_in − X_out|',
  citation:
    'S.-H. S. Huang, H. Zhang, M. Phay. Detecting stepping-stone intruders by identifying crossover packets in SSH connections. IEEE AINA 2016.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = coverScore(pairs[k], p);
    return out;
  },
});
