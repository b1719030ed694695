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
 * source knows but a FlowPair does not carry. A copy is given the hold of the last
 * keystroke that reached S before it, within RELAY_WINDOW, and S keeps its order
 * (src/retime.ts copyReadyTimes, shared with the delay perturbation, which carries
 * echoes the other way). For a FIFO relay that forwards each keystroke before the next
 * one arrives this is the true correspondence; where S merges keystrokes into one packet
 * it is the last of them, the one S waited for; copies with no keystroke in the window
 * before them are not moved except to keep the order.
 */
import { DIR_FWD, type Flow, type FlowPair, payloadTimes } from './flow.js';
import { RELAY_WINDOW, copyReadyTimes, moveAndPropagate } from './retime.js';

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
  return moveAndPropagate(f, DIR_FWD, (_i, ready) => {
    // Called in packet order for the moved direction's payload packets only (pure ACKs are
    // not moved: moveAcks is off), so the k-th call is the k-th keystroke.
    return Math.max(times[k++], ready);
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
  const ready = copyReadyTimes(original, times, copies, RELAY_WINDOW);
  return { ...pair, incoming, outgoing: moveKeystrokes(pair.outgoing, ready) };
}
