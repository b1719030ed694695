/**
 * Packet storage for generators: packets are pushed roughly in time order (an echo
 * before the next keystroke that overtakes it, an ACK before the segments that overtake
 * it) and built into a time-sorted Flow.
 */
import type { Flow } from '../flow.js';

/** Anything packets can be pushed into (FlowBuilder, PacketBuilder). */
export interface PacketSink {
  push(t: number, size: number, dir: number): void;
}

/**
 * A growable packet buffer whose build sorts in place. A generated flow is nearly sorted
 * (a packet overtakes a few neighbours at most), so an insertion sort over the three
 * columns at once, O(n + inversions), beats sorting an index and permuting through it.
 * The order is the one FlowBuilder.build gives: stable by time, ties in push order.
 */
export class PacketBuilder implements PacketSink {
  private t: Float64Array;
  private size: Int32Array;
  private dir: Uint8Array;
  length = 0;

  constructor(capacity = 4096) {
    this.t = new Float64Array(capacity);
    this.size = new Int32Array(capacity);
    this.dir = new Uint8Array(capacity);
  }

  reset(): this {
    this.length = 0;
    return this;
  }

  push(t: number, size: number, dir: number): void {
    if (this.length === this.t.length) this.grow();
    const i = this.length++;
    this.t[i] = t;
    this.size[i] = size;
    this.dir[i] = dir;
  }

  private grow(): void {
    const cap = this.t.length * 2;
    const t = new Float64Array(cap);
    t.set(this.t);
    const size = new Int32Array(cap);
    size.set(this.size);
    const dir = new Uint8Array(cap);
    dir.set(this.dir);
    this.t = t;
    this.size = size;
    this.dir = dir;
  }

  /**
   * The packets with from <= t <= to, sorted by time (ties keep push order), copied out.
   * Sorts the buffer itself: push nothing more before the next reset.
   */
  build(from = -Infinity, to = Infinity): Flow {
    const n = this.length;
    const t = this.t;
    const size = this.size;
    const dir = this.dir;
    let budget = 16 * n + 64;
    for (let i = 1; i < n; i++) {
      const ti = t[i];
      if (!(ti < t[i - 1])) continue;
      const si = size[i];
      const di = dir[i];
      let j = i - 1;
      while (j >= 0 && t[j] > ti) {
        t[j + 1] = t[j];
        size[j + 1] = size[j];
        dir[j + 1] = dir[j];
        j--;
      }
      t[j + 1] = ti;
      size[j + 1] = si;
      dir[j + 1] = di;
      budget -= i - j;
      if (budget < 0) return this.sortedByIndex(from, to);
    }
    let lo = 0;
    while (lo < n && t[lo] < from) lo++;
    let hi = lo;
    while (hi < n && t[hi] <= to) hi++;
    return { t: t.slice(lo, hi), size: size.slice(lo, hi), dir: dir.slice(lo, hi) };
  }

  /**
   * Far from sorted (a bulk transfer's ACKs an RTT behind its data): a stable sort of an
   * index. The insertion sort so far kept equal times in push order, so sorting its
   * partial result stably gives the same order as sorting the packets as pushed.
   */
  private sortedByIndex(from: number, to: number): Flow {
    const n = this.length;
    const t = this.t;
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => t[a] - t[b] || a - b);
    let lo = 0;
    while (lo < n && t[idx[lo]] < from) lo++;
    let hi = lo;
    while (hi < n && t[idx[hi]] <= to) hi++;
    const m = hi - lo;
    const out = { t: new Float64Array(m), size: new Int32Array(m), dir: new Uint8Array(m) };
    for (let k = 0; k < m; k++) {
      const j = idx[lo + k];
      out.t[k] = t[j];
      out.size[k] = this.size[j];
      out.dir[k] = this.dir[j];
    }
    return out;
  }
}
