/**
 * Active detection: a detector that changes traffic before it reaches the stepping stone
 * (a flow watermark) and then looks for the change after it.
 *
 * Where the marker sits: on the incoming connection, upstream of S, before S forwards the
 * traffic and before any evasion acts on it. It may only hold packets back (a box in the
 * path cannot send a packet before it has it), and it is a FIFO: a packet it holds keeps
 * the ones behind it waiting. Only keystrokes (forward payload packets) are marked: S
 * terminates TCP, so ACKs and segment boundaries do not cross it, but every keystroke is
 * forwarded.
 *
 * What a change does downstream:
 * - on the incoming connection, the echoes and ACKs that answer a held keystroke move with
 *   it (src/retime.ts);
 * - on a relayed pair, S forwards each keystroke when it has it: its copy on the outgoing
 *   connection leaves as much later as the keystroke arrived later, again in order.
 *
 * Which outgoing packet is the copy of which incoming keystroke is ground truth the
 * source knows but a FlowPair does not carry; it is recovered by order-preserving
 * bounded-delay matching (src/analysis/matching.ts) with a generous bound. For a FIFO
 * relay whose forwarding time is shorter than the gap between keystrokes, the greedy
 * earliest match is exactly the true correspondence; keystrokes whose copy fell outside
 * the capture window stay unmatched, and their copies are not moved.
 */
import { matchBoundedDelay, matchedPairs } from './analysis/matching.js';
import { DIR_FWD, type Flow, type FlowPair, payloadTimes } from './flow.js';
import { moveAndPropagate } from './retime.js';

/** Longest time S is assumed to take to forward a keystroke when copies are matched (s). */
export const RELAY_MATCH_WINDOW = 1;

/** The marked times made causal: never earlier than the original, never out of order. */
export function causalMarks(original: Float64Array, marked: Float64Array): Float64Array {
  const out = new Float64Array(original.length);
  let last = -Infinity;
  for (let k = 0; k < original.length; k++) {
    const m = marked[k];
    // NaN would poison every later time; a marker that returns it has a bug, and the
    // caller reports the detector as failed.
    if (Number.isNaN(m)) throw new Error(`mark returned NaN for keystroke ${k}`);
    last = Math.max(m, original[k], last);
    out[k] = last;
  }
  return out;
}

/** The flow with its k-th forward payload packet leaving at `times[k]`, answers following. */
function moveKeystrokes(f: Flow, times: Float64Array): Flow {
  let k = 0;
  return moveAndPropagate(f, DIR_FWD, (i, ready) => {
    // Called in packet order for the moved direction; pure ACKs of that direction are
    // not moved (moveAcks is off), so only payload packets reach here.
    return f.size[i] > 0 ? Math.max(times[k++], ready) : ready;
  });
}

/**
 * The pair as it looks when the incoming connection's keystrokes were held by a marker
 * until `marked` (one time per forward payload packet of `pair.incoming`, in order).
 */
export function applyMark(pair: FlowPair, marked: Float64Array): FlowPair {
  const original = payloadTimes(pair.incoming, DIR_FWD);
  if (marked.length !== original.length) {
    throw new Error(`mark returned ${marked.length} times for ${original.length} keystrokes`);
  }
  const times = causalMarks(original, marked);
  const incoming = moveKeystrokes(pair.incoming, times);
  if (!pair.relayed) return { ...pair, incoming };

  const copies = payloadTimes(pair.outgoing, DIR_FWD);
  const matched = matchedPairs(Math.min(original.length, copies.length));
  const count = matchBoundedDelay(original, copies, RELAY_MATCH_WINDOW, 0, matched);
  const moved = copies.slice();
  for (let k = 0; k < count; k++) {
    const i = matched.aIndex[k];
    const j = matched.bIndex[k];
    moved[j] = copies[j] + (times[i] - original[i]);
  }
  // S sends in order: a copy never overtakes the one before it.
  for (let j = 1; j < moved.length; j++) if (moved[j] < moved[j - 1]) moved[j] = moved[j - 1];
  return { ...pair, incoming, outgoing: moveKeystrokes(pair.outgoing, moved) };
}
