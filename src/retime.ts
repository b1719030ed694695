/**
 * Shared machinery of the perturbations that act at the relay or on a link: which
 * connections and directions they touch, and how moving the packets S sends carries
 * through to the packets that answer them.
 */
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, withTimes } from './flow.js';

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
}

/**
 * Where a moved packet goes: an array indexed like the flow, or a function of its index
 * and the earliest time it can leave (its own time for data; for a pure ACK, the time of
 * the data it acknowledges as moved), called in packet order.
 */
export type Departure = Float64Array | ((i: number, ready: number) => number);

/**
 * New times for every packet after the packets of direction `moved` were moved, with the
 * change carried through the connection:
 *
 * - echoes and output (backward payload) answer keystrokes: when keystrokes move, each
 *   answer keeps its lag behind the keystroke before it, and the answers stay in order,
 *   as one TCP stream delivers them. Keystrokes do not answer echoes: a user types on
 *   without waiting for them, so moving the backward direction moves no keystroke;
 * - a pure ACK keeps its lag behind the last payload of the opposite direction before
 *   it, which is what it acknowledges, so it never precedes that data.
 */
export function propagatedTimes(f: Flow, moved: number, depart: Departure, o: MoveOptions = {}): Float64Array {
  const n = f.t.length;
  const t = new Float64Array(n);
  const moveSelf = o.moveSelf ?? true;
  const at = typeof depart === 'function' ? depart : (i: number, ready: number) => Math.max(depart[i], ready);
  const answersFollow = moved === DIR_FWD;
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
    } else if (answersFollow) {
      const answer = Math.max(f.t[i] + shiftOfLast[moved], lastAnswer);
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
