/**
 * Zhang & Paxson (USENIX Security 2000): correlation of the ends of idle (OFF) periods.
 * See README.md for what is taken from the paper and its derived implementations, and
 * what is reconstructed.
 */
import { resumeTimes } from '../../src/analysis/onoff.js';
import { DIR_BWD, DIR_FWD, type Flow } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  idle: {
    type: 'number',
    default: 0.5,
    min: 1e-6,
    unit: 's',
    description: 'T_idle: a flow is OFF after more than this long without data; its next data packet is a resume',
  },
  delta: {
    type: 'number',
    default: 0.08,
    min: 0,
    unit: 's',
    description: 'δ: a resume coincides when the upstream flow resumed at most this long before it',
  },
  minConsecutive: {
    type: 'integer',
    default: 2,
    min: 0,
    description:
      'consecutive coincidences required, times factor = max(1, min(resumes)/100); stepping.bro: 2 for connections sharing a host (always so at S), 4 otherwise',
  },
  direction: {
    type: 'enum',
    values: ['both', 'forward', 'backward'],
    default: 'both',
    description:
      'resumes of keystrokes (forward: incoming leads outgoing), echoes and output (backward: outgoing leads incoming), or both combined as stepping.bro does',
  },
} as const;

/** Coincidence counts of a leading and a following resume sequence. */
export interface Coincidences {
  /** Resumes of the leading flow. */
  lead: number;
  /** Resumes of the following flow. */
  follow: number;
  /** Follow resumes whose most recent lead resume (at or before it) is at most δ before it. */
  hits: number;
  /** Hits whose previous resumes (of both flows) also coincided: "two in a row". */
  consecutive: number;
}

/**
 * Counts coincidences between sorted resume times: the follow resume b[j] coincides when
 * the latest lead resume a[i] ≤ b[j] has b[j] − a[i] ≤ δ (a lead resume at the same time
 * counts: the relay forwards what it received). The hit is "two in a row" when, also,
 * both flows have a previous resume and 0 ≤ b[j−1] − a[i−1] ≤ δ. Two pointers, O(n + m).
 */
export function countCoincidences(a: Float64Array, b: Float64Array, delta: number): Coincidences {
  let hits = 0;
  let consecutive = 0;
  let i = -1; // index of the latest a[i] <= b[j]
  for (let j = 0; j < b.length; j++) {
    const t = b[j];
    while (i + 1 < a.length && a[i + 1] <= t) i++;
    if (i < 0 || t - a[i] > delta) continue;
    hits++;
    if (i >= 1 && j >= 1) {
      const dt = b[j - 1] - a[i - 1];
      if (dt >= 0 && dt <= delta) consecutive++;
    }
  }
  return { lead: a.length, follow: b.length, hits, consecutive };
}

/** hits / min(lead, follow); 0 when either flow never resumed. */
export function hitRatio(c: Coincidences): number {
  const m = Math.min(c.lead, c.follow);
  return m > 0 ? c.hits / m : 0;
}

/** max(1, min(lead, follow) / 100): the consecutive threshold grows with long flows. */
export function scaleFactor(c: Coincidences): number {
  return Math.max(1, Math.min(c.lead, c.follow) / 100);
}

export interface Correlation {
  /** The coincidence ratio used for the decision and the score (≥ 0). */
  ratio: number;
  /** Consecutive coincidences counted towards the threshold. */
  consecutive: number;
  /** Scale factor of the threshold (from the direction whose ratio is used). */
  factor: number;
}

export type Direction = 'both' | 'forward' | 'backward';

/**
 * The ON/OFF correlation of one pair. forward: keystroke resumes, the incoming flow
 * leads; backward: echo/output resumes, the outgoing flow leads (the reply comes from the
 * far end through S); both: as stepping.bro combines a pair of endpoints with its reverse
 * pair, consecutive counts add up and the ratio (and factor) come from the direction with
 * more hits (forward on ties).
 */
export function correlatePair(incoming: Flow, outgoing: Flow, idle: number, delta: number, direction: Direction): Correlation {
  const fwd =
    direction === 'backward'
      ? undefined
      : countCoincidences(resumeTimes(incoming, DIR_FWD, idle), resumeTimes(outgoing, DIR_FWD, idle), delta);
  const bwd =
    direction === 'forward'
      ? undefined
      : countCoincidences(resumeTimes(outgoing, DIR_BWD, idle), resumeTimes(incoming, DIR_BWD, idle), delta);
  const used = fwd && bwd ? (bwd.hits > fwd.hits ? bwd : fwd) : (fwd ?? bwd)!;
  return {
    ratio: hitRatio(used),
    consecutive: (fwd?.consecutive ?? 0) + (bwd?.consecutive ?? 0),
    factor: scaleFactor(used),
  };
}

/**
 * The score: the ratio (capped at 1) when consecutive ≥ minConsecutive · factor, else the
 * ratio − 1. Pairs that pass the consecutive test score in (0, 1], the others in [−1, 0],
 * each group ordered by its ratio. The paper's ratio threshold γ = 0.3 is then a cut
 * inside the passing group (see README).
 */
export function zhangPaxsonScore(c: Correlation, minConsecutive: number): number {
  const ratio = Math.min(1, c.ratio);
  return c.consecutive >= minConsecutive * c.factor ? ratio : ratio - 1;
}

export default defineDetector({
  name: 'zhang-paxson',
  description: 'ON/OFF correlation: coincidences of idle-period ends within δ; score = coincidence ratio (−1 without enough consecutive ones)',
  citation: 'Y. Zhang, V. Paxson. Detecting stepping stones. 9th USENIX Security Symposium, 2000.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      const c = correlatePair(pairs[k].incoming, pairs[k].outgoing, p.idle, p.delta, p.direction);
      out[k] = zhangPaxsonScore(c, p.minConsecutive);
    }
    return out;
  },
});
