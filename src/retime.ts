/**
 * Shared machinery of the perturbations that act at the relay or on a link: which
 * connections and directions they touch, and how moving the packets S sends carries
 * through to the packets that answer them.
 */
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, countPayload, withTimes } from './flow.js';

export type Hop = 'incoming' | 'outgoing' | 'both';
export type Side = 'incoming' | 'outgoing';
export type DirectionChoice = 'forward' | 'backward' | 'both';

export const hopParam = (dflt: Hop, description: string) =>
  ({ type: 'enum', values: ['incoming', 'outgoing', 'both'], default: dflt, description }) as const;

export const directionParam = (dflt: DirectionChoice, description: string) =>
  ({ type: 'enum', values: ['forward', 'backward', 'both'], default: dflt, description }) as const;

/** Applies `fn` to the connection(s) a hop choice names; the other stays shared. */
export function onHops(pair: FlowPair, hop: Hop, fn: (f: Flow, side: Side) => Flow): FlowPair {
  return {
    ...pair,
    incoming: hop === 'outgoing' ? pair.incoming : fn(pair.incoming, 'incoming'),
    outgoing: hop === 'incoming' ? pair.outgoing : fn(pair.outgoing, 'outgoing'),
  };
}

/** The directions a choice names. */
export function directions(choice: DirectionChoice): number[] {
  return choice === 'forward' ? [DIR_FWD] : choice === 'backward' ? [DIR_BWD] : [DIR_FWD, DIR_BWD];
}

/**
 * The direction in which S sends what it forwards: keystrokes downstream on the outgoing
 * connection, echoes and output back on the incoming one.
 */
export function forwardedDirection(side: Side): number {
  return side === 'outgoing' ? DIR_FWD : DIR_BWD;
}

export interface MoveOptions {
  /** False: the moved packets stay where the capture saw them; only what follows them moves. Default true. */
  moveSelf?: boolean;
  /** Pure ACKs of the moved direction share its queue and are moved too. Default false. */
  moveAcks?: boolean;
  /**
   * When keystrokes move: an answer at time a answers the last keystroke sent at or
   * before a − answerLag. Default: estimated from the flow (answerLag below); 0 gives
   * every answer to the keystroke just before it.
   */
  answerLag?: number;
}

/**
 * Where a moved packet goes: an array indexed like the flow, or a function of its index
 * and the earliest time it can leave (its own time for data; for a pure ACK, the time of
 * the data it acknowledges as moved), called in packet order.
 */
export type Departure = Float64Array | ((i: number, ready: number) => number);

// Which keystroke an answer answers.
//
// A FlowPair does not record which keystroke an echo or a block of output answers, and
// it is not always the keystroke just before it: when the round trip is longer than the
// gap to the next keystroke (a crossover: the user types on before the echo is back,
// common behind long chains), the echo of keystroke k arrives after keystroke k + 1 left.
// Moving it with k + 1 would change its round-trip time, the very quantity the
// round-trip detectors measure.
//
// The rule: answers come in order, and none comes back sooner than a minimum round trip
// r after its keystroke, so the answer at time a answers the last keystroke sent at or
// before a − ℓ, ℓ a little below r. An output burst after Enter comes later than the
// echo, so it follows the Enter as long as it ends less than ℓ after the next keystroke.
// ℓ is estimated per flow, in O(n) (answerLag):
//
// - Lags. For every answer that directly follows a keystroke (in packet order, ACKs
//   aside), the lags a − t to the LAG_BACK keystrokes before it that are less than
//   LAG_MAX earlier go into a histogram of LAG_BIN bins. One of them is the answer's own
//   round trip; the others spread over whatever the typing rhythm gives. Only answers
//   that follow a keystroke count, so that a burst of output counts once, not once per
//   packet.
// - Peak. A connection's round trip is nearly constant, so its lags pile up: the
//   LAG_PEAK-bin window with the most lags (of equal ones the shortest, which errs
//   towards the keystroke just before). The background is the mean count per bin on
//   the peak's flanks (LAG_PEAK to 3·LAG_PEAK bins off it): the density of the other
//   lags falls with the lag, and most steeply when chaff keystrokes crowd the flow. The
//   peak must hold LAG_MIN_SHARE of the answers counted and stand LAG_MIN_Z Poisson
//   standard deviations above the background; otherwise, or with fewer than
//   LAG_MIN_ANSWERS answers, ℓ = 0, the keystroke just before, which is right whenever
//   no crossover happens.
// - Lower edge. Over the peak window and one window either side, less the background:
//   the 10% and 50% points q10 and q50; ℓ = q10 − max(2 bins, 2·(q50 − q10)), so that
//   an answer whose round trip comes in under the bulk by up to twice the peak's
//   half-width still goes to its own keystroke.
//
// The simpler estimate, a low quantile of the gaps between a keystroke and the first
// answer before the next one, is contaminated exactly where it matters: with crossovers,
// the first answer after keystroke k is often the echo of k − 1. Against ground truth
// (perturbations/delay/README.md) its 25% point misattributed 18% of the answers at a
// 0.15 s round trip and 48% at 0.3 s; keeping only keystrokes that came well after the
// one before them, still 9% and 42%. This rule: none at either.
//
// Failure modes. An answer goes to the wrong keystroke when (a) its own round trip falls
// below ℓ (it goes to an earlier keystroke) or exceeds ℓ by more than the gap to the
// next keystroke (a later one): a round trip that varies within the connection far more
// than the peak is wide, e.g. queueing that comes and goes; (b) a keystroke with no
// answer of its own (chaff the far end drops, a password typed without echo) lies
// between an answer and its keystroke: the answer goes to it; (c) the round trip
// exceeds LAG_MAX, or the peak cannot be told from the background: ℓ = 0, the keystroke
// just before; (d) output still flowing more than ℓ after the next keystroke: its tail
// goes to that keystroke. Whatever they are attributed to, answers stay in order.

/** Width of a bin of the lag histogram (s): finer than the jitter a round trip shows. */
const LAG_BIN = 0.001;
/** Longest round trip looked for (s). */
const LAG_MAX = 5;
const LAG_BINS = Math.ceil(LAG_MAX / LAG_BIN);
/** Width of the window that finds the peak (bins). */
const LAG_PEAK = 8;
/** Keystrokes looked back from each answer: bounds the work per answer. */
const LAG_BACK = 32;
/** Fewest answers after a keystroke to estimate from. */
const LAG_MIN_ANSWERS = 8;
/** Least share of those answers whose lag falls in the peak window. */
const LAG_MIN_SHARE = 0.15;
/** Least height of the peak over the background, in Poisson standard deviations. */
const LAG_MIN_Z = 5;

// Scratch, reused from call to call (estimation is synchronous): the histogram is zeroed
// again up to the highest bin a call used before it returns.
const lagHist = new Float64Array(LAG_BINS);
const recentKeys = new Float64Array(LAG_BACK);

/**
 * The lag ℓ behind which an answer (backward payload) is taken to answer a keystroke
 * (forward payload): the answer at time a answers the last keystroke at or before a − ℓ.
 * 0 when the flow shows no recognisable round trip. See the comment above for the rule.
 */
export function answerLag(f: Flow): number {
  const n = f.t.length;
  const hist = lagHist;
  let keys = 0;
  let answers = 0;
  let total = 0;
  let top = -1;
  let afterKey = false;
  for (let i = 0; i < n; i++) {
    if (f.size[i] === 0) continue;
    if (f.dir[i] === DIR_FWD) {
      recentKeys[keys % LAG_BACK] = f.t[i];
      keys++;
      afterKey = true;
      continue;
    }
    if (!afterKey) continue;
    afterKey = false;
    answers++;
    const a = f.t[i];
    for (let j = keys - 1; j >= 0 && j >= keys - LAG_BACK; j--) {
      const lag = a - recentKeys[j % LAG_BACK];
      if (!(lag < LAG_MAX)) break; // older keystrokes are further still
      const b = lag > 0 ? Math.floor(lag / LAG_BIN) : 0;
      hist[b]++;
      total++;
      if (b > top) top = b;
    }
  }
  const lag = answers >= LAG_MIN_ANSWERS && top >= 0 ? lagFromHistogram(hist, top, answers, total) : 0;
  if (top >= 0) hist.fill(0, 0, top + 1);
  return lag;
}

function lagFromHistogram(hist: Float64Array, top: number, answers: number, total: number): number {
  let sum = 0;
  let best = 0;
  let bestSum = -1;
  for (let b = 0; b <= top; b++) {
    sum += hist[b];
    if (b >= LAG_PEAK) sum -= hist[b - LAG_PEAK];
    // Strictly greater: of equal windows the shortest lag wins, which errs towards the
    // keystroke just before an answer (the rule without estimate).
    if (sum > bestSum) {
      bestSum = sum;
      best = Math.max(0, b - LAG_PEAK + 1);
    }
  }
  // Background: the mean count per bin on the flanks of the peak (LAG_PEAK to 3·LAG_PEAK
  // bins off it on either side), where the lags to other keystrokes fall; their density
  // varies with the lag (more keystrokes are close than far), so the flanks say more
  // than the mean over all lags, which serves where the flanks are empty.
  const from = Math.max(0, best - 3 * LAG_PEAK);
  const to = Math.min(top + 1, best + 4 * LAG_PEAK);
  let flank = 0;
  let flankBins = 0;
  for (let b = from; b < best - LAG_PEAK; b++, flankBins++) flank += hist[b];
  for (let b = best + 2 * LAG_PEAK; b < to; b++, flankBins++) flank += hist[b];
  const background = flankBins > 0 ? flank / flankBins : total / (top + 1);
  const expected = background * LAG_PEAK;
  if (bestSum < LAG_MIN_SHARE * answers || bestSum - expected < LAG_MIN_Z * Math.sqrt(expected)) return 0;
  // The quantiles are taken over the peak window and one window either side of it.
  const lo = Math.max(0, best - LAG_PEAK);
  const hi = Math.min(top + 1, best + 2 * LAG_PEAK);
  let mass = 0;
  for (let b = lo; b < hi; b++) mass += Math.max(0, hist[b] - background);
  let acc = 0;
  let q10 = -1;
  let q50 = -1;
  for (let b = lo; b < hi && q50 < 0; b++) {
    acc += Math.max(0, hist[b] - background);
    if (q10 < 0 && acc >= 0.1 * mass) q10 = b;
    if (acc >= 0.5 * mass) q50 = b;
  }
  const spread = (q50 - q10) * LAG_BIN;
  return Math.max(0, q10 * LAG_BIN - Math.max(2 * LAG_BIN, 2 * spread));
}

/**
 * New times for every packet after the packets of direction `moved` were moved, with the
 * change carried through the connection:
 *
 * - echoes and output (backward payload) answer keystrokes: when keystrokes move, each
 *   answer keeps its lag behind the keystroke it answers (the last one sent at least
 *   `answerLag` before it, see above), and the answers stay in order, as one TCP stream
 *   delivers them. Keystrokes do not answer echoes: a user types on without waiting for
 *   them, so moving the backward direction moves no keystroke;
 * - a pure ACK keeps its lag behind the last payload of the opposite direction before
 *   it, which is what it acknowledges, so it never precedes that data. (An ACK of a
 *   keystroke is not attributed like an echo: where S itself ACKs a keystroke, after its
 *   delayed-ACK timer, it may do so sooner than the round trip.)
 */
export function propagatedTimes(f: Flow, moved: number, depart: Departure, o: MoveOptions = {}): Float64Array {
  const n = f.t.length;
  const t = new Float64Array(n);
  const moveSelf = o.moveSelf ?? true;
  const at = typeof depart === 'function' ? depart : (i: number, ready: number) => Math.max(depart[i], ready);
  const answersFollow = moved === DIR_FWD;
  const lag = answersFollow ? (o.answerLag ?? answerLag(f)) : 0;
  // Original times and shifts of the keystrokes met so far, for the answers that follow.
  const keyCount = answersFollow ? countPayload(f, DIR_FWD) : 0;
  const keyT = new Float64Array(keyCount);
  const keyShift = new Float64Array(keyCount);
  let keys = 0;
  let owner = -1; // the keystroke the current answer answers
  const shiftOfLast = [0, 0]; // shift of the last payload packet seen, per direction
  let lastAnswer = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = f.dir[i];
    if (f.size[i] === 0) {
      const ready = f.t[i] + shiftOfLast[1 - d];
      t[i] = o.moveAcks && d === moved ? at(i, ready) : ready;
    } else if (d === moved) {
      const to = at(i, f.t[i]);
      shiftOfLast[d] = to - f.t[i];
      t[i] = moveSelf ? to : f.t[i];
      if (answersFollow) {
        keyT[keys] = f.t[i];
        keyShift[keys] = shiftOfLast[d];
        keys++;
      }
    } else if (answersFollow) {
      // Only keystrokes already met can be answered; the flow is sorted, so with lag 0
      // this is the keystroke just before the answer.
      const cut = f.t[i] - lag;
      while (owner + 1 < keys && keyT[owner + 1] <= cut) owner++;
      const answer = Math.max(f.t[i] + (owner >= 0 ? keyShift[owner] : 0), lastAnswer);
      lastAnswer = answer;
      t[i] = answer;
      shiftOfLast[d] = answer - f.t[i];
    } else {
      t[i] = f.t[i];
    }
  }
  return t;
}

/** propagatedTimes as a new, time-sorted flow; the input is not changed. */
export function moveAndPropagate(f: Flow, moved: number, depart: Departure, o: MoveOptions = {}): Flow {
  return withTimes(f, propagatedTimes(f, moved, depart, o));
}

/**
 * Longest time S is taken to need to forward what it relays (s): a copy sent later than
 * this after the last packet that could be its original is taken to be S's own.
 */
export const RELAY_WINDOW = 1;

/**
 * When S can send the copies of packets it relays, now that the packets it copies reach
 * it at new times: on a relayed pair, the keystrokes S forwards on the outgoing
 * connection copy those the user sent on the incoming one, and the echoes and output S
 * sends back to the user copy those that came back on the outgoing one.
 *
 * `originals` are the original arrival times of the relayed packets at S (sorted),
 * `arrived` their new ones, `copies` the original times at which S sent the copies
 * (sorted). Which copy copies which original is not recorded; the copy at c is given the
 * shift of the last original that reached S at or before c (in original times), when
 * that was at most `window` earlier:
 *
 *   ready = max(c + arrived[j] − originals[j], max over i <= j of arrived[i]),
 *
 * then S sends in order: ready never precedes the ready time of the copy before. A copy
 * with no original in the window keeps its own time (S's own data, or an original the
 * capture missed), subject to the same order.
 *
 * Why the last original before the copy rather than a one-to-one matching: a copy never
 * precedes its original, so its original is that one or an earlier one; S reads each
 * stream in order, so it cannot send the copy before every original up to it arrived
 * (the second term); and when `arrived` is in order, as the callers' are, this makes the
 * copy causal whichever of them it copies. A one-to-one matching (greedy earliest, as in
 * src/analysis/matching.ts) is exact only when copies and originals come one for one;
 * where S re-segments (output re-framed into other segment sizes) or merges keystrokes,
 * it pairs a copy with a later original's packet, drifts, and can leave a copy before
 * the original it was made from.
 *
 * O(originals + copies); allocates only the result.
 */
export function copyReadyTimes(
  originals: Float64Array,
  arrived: Float64Array,
  copies: Float64Array,
  window = RELAY_WINDOW,
): Float64Array {
  if (arrived.length !== originals.length) {
    throw new RangeError(`${arrived.length} new times for ${originals.length} originals`);
  }
  const out = new Float64Array(copies.length);
  let j = -1;
  let latest = -Infinity;
  let last = -Infinity;
  for (let l = 0; l < copies.length; l++) {
    const c = copies[l];
    while (j + 1 < originals.length && originals[j + 1] <= c) {
      j++;
      if (arrived[j] > latest) latest = arrived[j];
    }
    let ready = c;
    if (j >= 0 && c - originals[j] <= window) ready = Math.max(c + (arrived[j] - originals[j]), latest);
    if (ready < last) ready = last;
    last = ready;
    out[l] = ready;
  }
  return out;
}
