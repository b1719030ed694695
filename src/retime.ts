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

export interface PropagateOptions {
  /** Payload of the other direction answers the moved packets (see propagatedTimes). */
  responsesFollow: boolean;
  /** False: the moved packets stay where the capture saw them; only their answers move. */
  moveSelf?: boolean;
  /** Pure ACKs of the moved direction share its queue and take their `newT` too. */
  moveAcks?: boolean;
}

/**
 * New times for every packet after the packets of direction `moved` were moved to `newT`
 * (indexed like the flow; only their entries are read), with the change carried through
 * the connection:
 *
 * - with `responsesFollow`, payload of the other direction answers what was moved (the
 *   far end echoes keystrokes S forwarded late): each keeps its lag behind the moved
 *   packet before it, and the answers stay in order, as one TCP stream delivers them;
 * - a pure ACK keeps its lag behind the last payload of the opposite direction before
 *   it, which is what it acknowledges, so it never precedes that data.
 */
export function propagatedTimes(f: Flow, moved: number, newT: Float64Array, o: PropagateOptions): Float64Array {
  const n = f.t.length;
  const t = new Float64Array(n);
  const moveSelf = o.moveSelf ?? true;
  const shiftOfLast = [0, 0]; // shift of the last payload packet seen, per direction
  let lastAnswer = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = f.dir[i];
    if (f.size[i] === 0) {
      t[i] = o.moveAcks && d === moved ? newT[i] : f.t[i] + shiftOfLast[1 - d];
    } else if (d === moved) {
      shiftOfLast[d] = newT[i] - f.t[i];
      t[i] = moveSelf ? newT[i] : f.t[i];
    } else if (o.responsesFollow) {
      const answer = Math.max(f.t[i] + shiftOfLast[moved], lastAnswer);
      lastAnswer = answer;
      t[i] = answer;
      shiftOfLast[d] = answer - f.t[i];
    } else {
      t[i] = f.t[i];
      shiftOfLast[d] = 0;
    }
  }
  return t;
}

/** propagatedTimes as a new, time-sorted flow; the input is not changed. */
export function moveAndPropagate(f: Flow, moved: number, newT: Float64Array, o: PropagateOptions): Flow {
  return withTimes(f, propagatedTimes(f, moved, newT, o));
}
