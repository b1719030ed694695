/**
 * Ano1: Di Crescenzo, Ghosh, Kampasi, Talpade & Zhang (JoWUA 2(1), 2011): anomaly checks
 * of an interactive connection that reveal evasion (jitter, chaff): response times, edit
 * distance between the two directions' ON periods, and causality of ON periods. See
 * README.md for what was read in the sources and what is reconstructed.
 */
import { boundedEditDistance } from '../../src/analysis/edit-distance.js';
import { onOffPeriods } from '../../src/analysis/onoff.js';
import { DIR_BWD, DIR_FWD, type Flow, payloadTimes } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  idle: {
    type: 'number',
    default: 0.5,
    min: 1e-6,
    unit: 's',
    description: 'a direction is OFF after more than this long without data (ON/OFF periods of Zhang & Paxson)',
  },
  responseSlack: {
    type: 'number',
    default: 0.05,
    min: 0,
    unit: 's',
    description: 'd_t: a response later than RTT + d_t is delayed',
  },
  rttQuantile: {
    type: 'number',
    default: 0.3,
    min: 0,
    max: 1,
    description: "quantile of the connection's own response times taken as its RTT",
  },
  responseRatio: {
    type: 'number',
    default: 0.1,
    min: 1e-9,
    description: 'response-time test fires when more than this share of responses is delayed',
  },
  ipdTolerance: {
    type: 'number',
    default: 0.02,
    min: 0,
    unit: 's',
    description: 'two inter-packet delays are equal in the edit distance when they differ by at most this',
  },
  maxEdits: {
    type: 'integer',
    default: 16,
    min: 0,
    description: 'edit budget per ON period: distances are exact up to it and saturate beyond (band of the edit distance)',
  },
  editRatio: {
    type: 'number',
    default: 0.2,
    min: 1e-9,
    description: 'edit-distance test fires when edits per request delay exceed this',
  },
  causalityRatio: {
    type: 'number',
    default: 0.15,
    min: 1e-9,
    description: 'causality test fires when more than this share of ON periods is not answered by exactly one',
  },
  tests: {
    type: 'enum',
    values: ['all', 'response', 'edit', 'causality'],
    default: 'all',
    description: 'which tests make the score: all three (the anomaly engine), or one alone',
  },
  connections: {
    type: 'enum',
    values: ['both', 'incoming', 'outgoing'],
    default: 'both',
    description: 'connection(s) of the pair that are checked; with both, the more anomalous one counts',
  },
} as const;

/** The three test statistics of one connection. */
export interface Ano1Stats {
  /** Share of matched request/response packets whose response time exceeds RTT + d_t. */
  response: number;
  /** Edits per request inter-packet delay between request ON periods and their response ON periods. */
  edit: number;
  /** Share of request ON periods (plus uncaused response ON periods) not answered by exactly one. */
  causality: number;
  /** Request ON periods, response ON periods, and matched request/response packets. */
  requestPeriods: number;
  responsePeriods: number;
  samples: number;
}

export interface Ano1Options {
  idle: number;
  responseSlack: number;
  rttQuantile: number;
  ipdTolerance: number;
  maxEdits: number;
}

/** Inter-packet delays of consecutive times. */
function ipdsOf(t: Float64Array): Float64Array {
  const out = new Float64Array(Math.max(0, t.length - 1));
  for (let i = 1; i < t.length; i++) out[i - 1] = t[i] - t[i - 1];
  return out;
}

/** Index of each ON period's first packet in the direction's payload times. */
function firstIndices(packets: Uint32Array): Uint32Array {
  const first = new Uint32Array(packets.length);
  let acc = 0;
  for (let k = 0; k < packets.length; k++) {
    first[k] = acc;
    acc += packets[k];
  }
  return first;
}

/** The q-quantile (nearest rank, q in [0, 1]) of the first n values; sorts them in place. */
function quantileInPlace(x: Float64Array, n: number, q: number): number {
  const s = x.subarray(0, n).sort();
  const r = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return s[r];
}

/**
 * The three statistics of one connection. Requests are its forward payload packets (the
 * client's keystrokes), responses its backward payload packets (echoes and output).
 *
 * - ON periods per direction (src/analysis/onoff.ts, `idle`). The window of request ON
 *   period k runs from its start to the start of request ON period k + 1 (the last one to
 *   the end of the capture); the response ON periods that start in it are its answers,
 *   and the first of them is its *matched* response period.
 * - causality: a request ON period should cause exactly one response ON period; one with
 *   none or several is a violation, and so is every response ON period that starts before
 *   the first request. Statistic: violations / (request periods + uncaused periods).
 * - edit distance: the request period's inter-packet delays against those of its matched
 *   response period, with the response period's tail free (output after the echoes is no
 *   difference), bounded by `maxEdits`. An unanswered period costs all its delays.
 *   Statistic: Σ edits / Σ min(delays, maxEdits + 1) over request periods with ≥ 2 packets.
 * - response time: inside each matched pair of periods the j-th request is answered by the
 *   j-th response (an echo per keystroke, FIFO); its response time is the gap. The RTT is
 *   the `rttQuantile` quantile of the connection's response times; a response later than
 *   RTT + d_t is delayed. Statistic: delayed / matched.
 *
 * O(n log n) in the connection's packets (the quantile sorts the response times; the rest
 * is linear, the edit distance costing O(maxEdits) per request packet).
 */
export function connectionStats(f: Flow, o: Ano1Options): Ano1Stats {
  const tc = payloadTimes(f, DIR_FWD);
  const te = payloadTimes(f, DIR_BWD);
  const pc = onOffPeriods(f, DIR_FWD, o.idle);
  const pe = onOffPeriods(f, DIR_BWD, o.idle);
  const fc = firstIndices(pc.packets);
  const fe = firstIndices(pe.packets);
  const ic = ipdsOf(tc);
  const ie = ipdsOf(te);
  const K = pc.starts.length;
  const E = pe.starts.length;
  const cap = Math.floor(o.maxEdits) + 1;

  let e = 0;
  while (e < E && (K === 0 || pe.starts[e] < pc.starts[0])) e++;
  const uncaused = e;
  let violations = uncaused;
  let edits = 0;
  let editBase = 0;
  const rt = new Float64Array(tc.length);
  let samples = 0;
  for (let k = 0; k < K; k++) {
    const end = k + 1 < K ? pc.starts[k + 1] : Infinity;
    const matched = e < E && pe.starts[e] < end ? e : -1;
    let answers = 0;
    while (e < E && pe.starts[e] < end) {
      answers++;
      e++;
    }
    if (answers !== 1) violations++;

    const nc = pc.packets[k];
    const delays = nc - 1;
    if (delays > 0) {
      const a = ic.subarray(fc[k], fc[k] + delays);
      let d: number;
      if (matched < 0) d = Math.min(delays, cap);
      else {
        const b = ie.subarray(fe[matched], fe[matched] + pe.packets[matched] - 1);
        d = boundedEditDistance(a, b, o.ipdTolerance, o.maxEdits, 'prefix');
      }
      edits += d;
      editBase += Math.min(delays, cap);
    }
    if (matched >= 0) {
      const m = Math.min(nc, pe.packets[matched]);
      const c0 = fc[k];
      const e0 = fe[matched];
      for (let j = 0; j < m; j++) rt[samples++] = te[e0 + j] - tc[c0 + j];
    }
  }

  let response = 0;
  if (samples > 0) {
    // Counting does not care about order, so the sorted samples serve as they are.
    const rtt = quantileInPlace(rt, samples, o.rttQuantile);
    const limit = rtt + o.responseSlack;
    let delayed = 0;
    for (let i = 0; i < samples; i++) if (rt[i] > limit) delayed++;
    response = delayed / samples;
  }
  const periods = K + uncaused;
  return {
    response,
    edit: editBase > 0 ? edits / editBase : 0,
    causality: periods > 0 ? violations / periods : 0,
    requestPeriods: K,
    responsePeriods: E,
    samples,
  };
}

export type Ano1Test = 'all' | 'response' | 'edit' | 'causality';

export interface Ano1Thresholds {
  responseRatio: number;
  editRatio: number;
  causalityRatio: number;
}

/**
 * The anomaly level of one connection: each selected statistic divided by its threshold,
 * and the largest of them. The anomaly engine flags a connection when any test fires,
 * i.e. exactly when this level is ≥ 1.
 */
export function anomalyLevel(s: Ano1Stats, th: Ano1Thresholds, tests: Ano1Test): number {
  const r = s.response / th.responseRatio;
  const e = s.edit / th.editRatio;
  const c = s.causality / th.causalityRatio;
  switch (tests) {
    case 'response':
      return r;
    case 'edit':
      return e;
    case 'causality':
      return c;
    default:
      return Math.max(r, e, c);
  }
}

export default defineDetector({
  name: 'ano1',
  description: 'Ano1 anomaly engine: delayed responses, request/response edit distance, ON-period causality; score = max statistic / threshold',
  citation:
    'G. Di Crescenzo, A. Ghosh, A. Kampasi, R. Talpade, Y. Zhang. Detecting anomalies in active insider stepping stone attacks. JoWUA 2(1):103-120, 2011.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      const { incoming, outgoing } = pairs[i];
      let level = -Infinity;
      if (p.connections !== 'outgoing') level = Math.max(level, anomalyLevel(connectionStats(incoming, p), p, p.tests));
      if (p.connections !== 'incoming') level = Math.max(level, anomalyLevel(connectionStats(outgoing, p), p, p.tests));
      out[i] = level;
    }
    return out;
  },
});
