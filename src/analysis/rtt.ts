/**
 * Round trips of an interactive connection: each *send* (a forward payload packet, a
 * keystroke on its way to the server) matched to its *echo* (the first backward payload
 * packet that answers it). The round-trip-time detectors of Yang, Huang and colleagues
 * (RWalk, C-Over, PContext, WuNeur) all start from this matching.
 *
 * Source. J. Yang, S.-H. S. Huang, "Matching TCP packets and its application to the
 * detection of long connection chains on the Internet", AINA 2005, proposes two
 * real-time matchers: a *conservative* one that matches fewer packets but only correct
 * pairs, and a *greedy* (heuristic) one that matches more with some uncertainty (read in
 * the paper's abstract and in summaries of it). Both use TCP sequence and acknowledgement
 * numbers, which the flows of this harness do not carry; what follows rebuilds them from
 * timing and direction alone:
 *
 * - **greedy**: every echo is matched with the oldest send still outstanding (first in,
 *   first out, as TCP delivers and an echo server answers). A backward packet that finds
 *   no outstanding send is not an echo (command output, a server's own message) and is
 *   skipped. A send not answered within `maxRtt` is given up (chaff that the next hop
 *   dropped, or a keystroke whose echo was merged into another packet) and can no longer
 *   be matched, so one unanswered send cannot shift every later match. With `minRtt`, an
 *   echo less than `minRtt` after the oldest outstanding send answers none (the younger
 *   sends are closer still).
 * - **conservative**: only round trips that cannot be mistaken: the send was the only one
 *   outstanding when it left (every earlier send answered or given up) and no other send
 *   left before its echo came back. Crossovers (a send leaving before the previous echo
 *   returned) and sends next to chaff are dropped rather than guessed.
 *
 * The conservative round trips are a subset of the greedy ones: both walks keep the same
 * queue, and the conservative walk only declines to report the ambiguous pairs.
 *
 * The greedy matching is a maximum one. With the window [minRtt, maxRtt] it pairs as many
 * sends with later echoes as any one-to-one matching can (the exchange argument of
 * src/analysis/matching.ts applies: the window has one length for every send; the tests
 * check the count against that module's matcher on random flows). Both walks
 * are O(n) in the connection's packets, allocate only their outputs and a queue, and
 * never go back in the packet arrays.
 *
 * Ties: a send and an echo at the same instant are taken in the flow's order (which
 * FlowBuilder keeps stable). The window is closed at both ends and computed as matching.ts
 * does, in double precision as `send + minRtt <= echo <= send + maxRtt`, so the two
 * modules agree at the edges of the window.
 */
import { DIR_BWD, DIR_FWD, type Flow } from '../flow.js';

/**
 * The `maxRtt` parameter of the detectors built on this matcher: one declaration, so that
 * they share its default and meaning; `note` adds what it means for one detector.
 */
export const maxRttParam = (note = '') =>
  ({
    type: 'number',
    default: 1,
    min: 0,
    unit: 's',
    description: `longest round trip: a send not echoed within it is given up${note}`,
  }) as const;

export type MatchAlgorithm = 'greedy' | 'conservative';

export interface MatchOptions {
  /** Default 'greedy'. */
  algorithm?: MatchAlgorithm;
  /** Shortest possible round trip, seconds (default 0). */
  minRtt?: number;
  /** Longest round trip before a send is given up, seconds (default Infinity). */
  maxRtt?: number;
}

/** Matched round trips of one connection, in send order (which is also echo order). */
export interface RoundTrips {
  /** Send times, seconds, non-decreasing. */
  readonly send: Float64Array;
  /** Echo times, seconds, non-decreasing; echo[k] >= send[k]. */
  readonly echo: Float64Array;
  /** echo[k] − send[k]. */
  readonly rtt: Float64Array;
  /** Forward payload packets of the connection (sends, matched or not). */
  readonly sends: number;
  /** Backward payload packets of the connection (echoes and output). */
  readonly echoes: number;
}

/**
 * Matches the sends of a connection to their echoes.
 *
 * @param f one connection; sends are its DIR_FWD payload packets, echoes its DIR_BWD ones
 *   (pure ACKs are neither)
 * @throws RangeError when the window is not 0 <= minRtt <= maxRtt
 */
export function matchRoundTrips(f: Flow, options: MatchOptions = {}): RoundTrips {
  const conservative = (options.algorithm ?? 'greedy') === 'conservative';
  const minRtt = options.minRtt ?? 0;
  const maxRtt = options.maxRtt ?? Infinity;
  if (!(minRtt >= 0) || !(maxRtt >= minRtt)) {
    throw new RangeError(`bad round-trip window [${minRtt}, ${maxRtt}]: need 0 <= minRtt <= maxRtt`);
  }
  const n = f.t.length;
  const t = f.t;
  const size = f.size;
  const dir = f.dir;
  let sends = 0;
  let echoes = 0;
  for (let i = 0; i < n; i++) {
    if (size[i] <= 0) continue;
    if (dir[i] === DIR_FWD) sends++;
    else if (dir[i] === DIR_BWD) echoes++;
  }
  const cap = Math.min(sends, echoes);
  const send = new Float64Array(cap);
  const echo = new Float64Array(cap);
  const rtt = new Float64Array(cap);
  // The outstanding sends are a window [head, tail) of the sends in time order: pushes
  // come in time order and only the oldest ever leaves, so an array the size of all
  // sends serves as the queue.
  const queue = new Float64Array(sends);
  // alone[k]: the send at queue[k] left when nothing was outstanding.
  const alone = conservative ? new Uint8Array(sends) : undefined;
  let head = 0;
  let tail = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (size[i] <= 0) continue;
    const now = t[i];
    // A send more than maxRtt old can no longer be answered: give it up.
    while (head < tail && queue[head] + maxRtt < now) head++;
    if (dir[i] === DIR_FWD) {
      if (alone) alone[tail] = head === tail ? 1 : 0;
      queue[tail++] = now;
    } else if (dir[i] === DIR_BWD) {
      if (head === tail || now < queue[head] + minRtt) continue;
      // Conservative: the head left alone and nothing left behind it before this echo.
      if (!alone || (alone[head] === 1 && tail - head === 1)) {
        send[count] = queue[head];
        echo[count] = now;
        rtt[count] = now - queue[head];
        count++;
      }
      head++;
    }
  }
  return {
    send: send.subarray(0, count),
    echo: echo.subarray(0, count),
    rtt: rtt.subarray(0, count),
    sends,
    echoes,
  };
}

/**
 * Crossovers: round trips whose send left before the echo of the previous matched send
 * came back (send[k] < echo[k − 1]). A send at exactly the previous echo's time is not a
 * crossover. Between 0 and count − 1.
 */
export function countCrossovers(rt: RoundTrips): number {
  let c = 0;
  for (let k = 1; k < rt.send.length; k++) if (rt.send[k] < rt.echo[k - 1]) c++;
  return c;
}

/** The round-trip times sorted ascending (a copy). O(n log n). */
export function sortedRtts(rt: RoundTrips): Float64Array {
  return rt.rtt.slice().sort();
}

/** The median round-trip time (mean of the two middle ones for an even count); NaN when there are none. O(n log n). */
export function medianRtt(rt: RoundTrips): number {
  const n = rt.rtt.length;
  if (n === 0) return NaN;
  const s = sortedRtts(rt);
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * The densest cluster of round-trip times: the shortest interval [lo, hi] that holds
 * ⌈share · n⌉ of them (the "shorth"; at least one). Round trips that answer real
 * keystrokes pile up around the connection's RTT, while sends wrongly paired with an
 * unrelated echo (chaff, command output) scatter, so this interval locates the RTT level
 * without being pulled by them as long as they are fewer than the real ones. On ties the
 * lowest interval wins. `undefined` when there are no round trips. O(n) on sorted input.
 *
 * @param sorted round-trip times sorted ascending (sortedRtts)
 * @param share in (0, 1]
 */
export function densestInterval(sorted: Float64Array, share: number): { lo: number; hi: number } | undefined {
  if (!(share > 0 && share <= 1)) throw new RangeError(`share must be in (0, 1], got ${share}`);
  const n = sorted.length;
  if (n === 0) return undefined;
  const span = Math.max(1, Math.ceil(share * n)) - 1; // index distance between the ends
  let best = 0;
  for (let i = 1; i + span < n; i++) if (sorted[i + span] - sorted[i] < sorted[best + span] - sorted[best]) best = i;
  return { lo: sorted[best], hi: sorted[best + span] };
}
