/**
 * ON/OFF structure of a flow's payload packets, after Zhang & Paxson (USENIX Security
 * 2000): a flow (one direction of a connection, or both together) is ON while it sends
 * data and goes OFF once `idle` seconds pass without data. The packet that ends an OFF
 * period starts a new ON period; its time is a *resume*.
 *
 * Conventions (shared by every detector that builds on this module):
 * - Only payload packets count (size > 0); pure ACKs neither keep a flow ON nor resume it.
 *   Flows here carry no sequence numbers, so every payload packet is taken as new data
 *   (Zeek's analyzer also drops retransmissions, which these flows cannot show).
 * - A gap of exactly `idle` keeps the flow ON; only a gap strictly longer than `idle`
 *   makes the next data packet a resume (Zeek's analyzer: t <= last + idle stays ON).
 * - By default the first data packet is a resume too (the flow "just starts"), as in
 *   Zeek's analyzer and stepping.bro, whose idle counts include it. `includeFirst: false`
 *   counts only OFF→ON transitions that follow an observed OFF period.
 *
 * Everything is O(n) in the flow's packets: one counting pass, one filling pass, and the
 * outputs allocated once at their exact size.
 */
import { DIR_BWD, DIR_FWD, type Flow } from '../flow.js';

/** Which packets make up the ON/OFF process: one direction, or both merged. */
export type OnOffDirection = typeof DIR_FWD | typeof DIR_BWD | 'both';

export interface OnOffOptions {
  /** Whether the first data packet counts as a resume (default true). */
  includeFirst?: boolean;
}

export interface OnOffPeriods {
  /** Start of each ON period: the time of its first data packet. Sorted. */
  starts: Float64Array;
  /**
   * Time of the last data packet of each ON period. The flow is considered OFF from
   * ends[k] + idle on (the OFF is only known once that much time has passed).
   */
  ends: Float64Array;
  /** Data packets in each ON period (at least 1). */
  packets: Uint32Array;
}

function dirMatches(f: Flow, i: number, dir: OnOffDirection): boolean {
  return f.size[i] > 0 && (dir === 'both' || f.dir[i] === dir);
}

/**
 * Number of ON periods of the payload packets of `dir` (including the first one, which
 * starts with the first data packet). 0 for a flow without data in `dir`.
 */
export function countOnPeriods(f: Flow, dir: OnOffDirection, idle: number): number {
  let n = 0;
  let last = -Infinity;
  for (let i = 0; i < f.t.length; i++) {
    if (!dirMatches(f, i, dir)) continue;
    const t = f.t[i];
    if (n === 0 || t - last > idle) n++;
    last = t;
  }
  return n;
}

/**
 * Resume times: the starts of the ON periods of the payload packets of `dir` (DIR_FWD,
 * DIR_BWD, or 'both' for every payload packet), with a flow OFF after more than `idle`
 * seconds without data. Sorted ascending; empty for a flow without data in `dir`.
 *
 * Example (idle 0.5): data at 1, 1.2, 1.7, 2.3, 2.4 → ON periods [1, 1.7] and [2.3, 2.4]
 * (the gap 1.2→1.7 is exactly 0.5, so the flow stays ON) → resumes [1, 2.3], or [2.3]
 * with includeFirst: false.
 */
export function resumeTimes(f: Flow, dir: OnOffDirection, idle: number, options: OnOffOptions = {}): Float64Array {
  const skip = options.includeFirst === false ? 1 : 0;
  const n = countOnPeriods(f, dir, idle);
  const out = new Float64Array(Math.max(0, n - skip));
  let k = 0; // ON periods seen so far
  let last = -Infinity;
  for (let i = 0; i < f.t.length; i++) {
    if (!dirMatches(f, i, dir)) continue;
    const t = f.t[i];
    if (k === 0 || t - last > idle) {
      if (k >= skip) out[k - skip] = t;
      k++;
    }
    last = t;
  }
  return out;
}

/**
 * The ON periods of the payload packets of `dir`: start, last data packet and packet
 * count of each, in time order (the first period included). Same conventions as
 * resumeTimes; `starts` equals resumeTimes(f, dir, idle).
 */
export function onOffPeriods(f: Flow, dir: OnOffDirection, idle: number): OnOffPeriods {
  const n = countOnPeriods(f, dir, idle);
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const packets = new Uint32Array(n);
  let k = -1;
  let last = -Infinity;
  for (let i = 0; i < f.t.length; i++) {
    if (!dirMatches(f, i, dir)) continue;
    const t = f.t[i];
    if (k < 0 || t - last > idle) {
      k++;
      starts[k] = t;
    }
    ends[k] = t;
    packets[k]++;
    last = t;
  }
  return { starts, ends, packets };
}
