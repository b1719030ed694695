/**
 * Columnar flows: one TCP connection as seen at the stepping stone.
 *
 * Detectors walk packets in hot loops, so a flow is a set of parallel typed arrays,
 * never an array of packet objects. Packets are sorted by time.
 */

/** Client-to-server packet: keystrokes travel this way (towards the target). */
export const DIR_FWD = 0;
/** Server-to-client packet: echoes and command output travel this way. */
export const DIR_BWD = 1;

export interface Flow {
  /** Packet timestamps in seconds, non-decreasing. */
  readonly t: Float64Array;
  /** TCP payload bytes; 0 marks a pure ACK. */
  readonly size: Int32Array;
  /** DIR_FWD or DIR_BWD per packet. */
  readonly dir: Uint8Array;
}

export interface PairMeta {
  /** Which dataset the pair comes from. */
  dataset: string;
  /** Pair index inside the dataset (positives first, then negatives). */
  index: number;
  /** How the pair was made, e.g. "relay", "local+unrelated-relay". */
  kind: string;
}

/**
 * A candidate pair at the stepping stone S: `incoming` is the connection that ends at S
 * (S is its server), `outgoing` the one S opened (S is its client).
 */
export interface FlowPair {
  incoming: Flow;
  outgoing: Flow;
  relayed: boolean;
  meta: PairMeta;
}

/** Anything packets can be pushed into: a FlowBuilder, or a generator's wrapper around one. */
export interface PacketSink {
  push(t: number, size: number, dir: number): void;
}

/** Growable builder that produces a sorted Flow; amortised O(1) push. */
export class FlowBuilder implements PacketSink {
  private t: Float64Array;
  private size: Int32Array;
  private dir: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.t = new Float64Array(capacity);
    this.size = new Int32Array(capacity);
    this.dir = new Uint8Array(capacity);
  }

  /** Empties the builder, keeping its capacity; returns it. */
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
   * The packets with from <= t <= to (a capture window), stably sorted by time (ties keep
   * push order), copied out. The buffer itself is sorted in place: generated and
   * perturbed flows are nearly sorted (a packet overtakes a few neighbours at most), so
   * an insertion sort over the three columns at once, O(n + inversions), beats sorting an
   * index and permuting through it. Pushing more afterwards is fine: a sorted buffer
   * plus later pushes still sorts to push order on ties.
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
    // The window by binary search: most flows are kept whole, and a scan would read them twice.
    const lo = firstAbove(t, n, from, false);
    const hi = Math.max(lo, firstAbove(t, n, to, true));
    return columns(t.subarray(lo, hi), size.subarray(lo, hi), dir.subarray(lo, hi));
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
    return permute({ t: t.subarray(0, n), size: this.size.subarray(0, n), dir: this.dir.subarray(0, n) }, idx.subarray(lo, hi));
  }
}

/*
 * Flows are cut out of shared 64 KiB slabs. A fresh ArrayBuffer per flow cost as much as
 * filling it (the allocator zeroes it and the collector tracks it), and a slab holds
 * about ten flows of a 60-second session. The price: a slab lives as long as any flow in
 * it, so code that keeps one flow out of many keeps up to 64 KiB for it.
 */
const SLAB_BYTES = 1 << 16;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** A flow copied out of scratch columns into one stretch of a slab. */
function columns(t: Float64Array, size: Int32Array, dir: Uint8Array): Flow {
  const n = t.length;
  const bytes = (13 * n + 7) & ~7; // the next flow's times stay 8-byte aligned
  if (slabUsed + bytes > slab.byteLength) {
    slab = new ArrayBuffer(Math.max(SLAB_BYTES, bytes));
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += bytes;
  const out = { t: new Float64Array(slab, at, n), size: new Int32Array(slab, at + 8 * n, n), dir: new Uint8Array(slab, at + 12 * n, n) };
  out.t.set(t);
  out.size.set(size);
  out.dir.set(dir);
  return out;
}

/** In sorted t[0, n): the first index whose time is above x (at or above it with `strict` false). */
function firstAbove(t: Float64Array, n: number, x: number, strict: boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? t[mid] <= x : t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when the times never decrease. */
export function isSorted(t: Float64Array): boolean {
  for (let i = 1; i < t.length; i++) if (t[i] < t[i - 1]) return false;
  return true;
}

/**
 * Indices that sort `t` ascending, ties broken by index (a stable order). Perturbed flows
 * are nearly sorted (packets move by less than a few neighbours), so an insertion sort,
 * O(n + inversions), comes first; past a budget of moves it gives way to a full sort.
 */
export function sortOrder(t: Float64Array): Uint32Array {
  const n = t.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let budget = 16 * n + 64;
  for (let i = 1; i < n; i++) {
    const v = idx[i];
    const tv = t[v];
    let j = i - 1;
    while (j >= 0 && t[idx[j]] > tv) {
      idx[j + 1] = idx[j];
      j--;
      if (--budget === 0) {
        for (let k = 0; k < n; k++) idx[k] = k;
        return idx.sort((a, b) => t[a] - t[b] || a - b);
      }
    }
    idx[j + 1] = v;
  }
  return idx;
}

export function permute(f: Flow, order: Uint32Array): Flow {
  const n = order.length;
  const t = new Float64Array(n);
  const size = new Int32Array(n);
  const dir = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[i];
    t[i] = f.t[j];
    size[i] = f.size[j];
    dir[i] = f.dir[j];
  }
  return { t, size, dir };
}

/** Makes a flow from plain arrays; handy for tests and small readers. Sorts by time. */
export function flowOf(packets: ReadonlyArray<readonly [t: number, size: number, dir: number]>): Flow {
  const b = new FlowBuilder(Math.max(1, packets.length));
  for (const [t, size, dir] of packets) b.push(t, size, dir);
  return b.build();
}

/** Timestamps of the payload packets of one direction, in order. */
export function payloadTimes(f: Flow, dir: number): Float64Array {
  let n = 0;
  for (let i = 0; i < f.t.length; i++) if (f.dir[i] === dir && f.size[i] > 0) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < f.t.length; i++) if (f.dir[i] === dir && f.size[i] > 0) out[k++] = f.t[i];
  return out;
}

/** Payload packets of a flow in direction `dir`, or both when `dir` is undefined. */
export function countPayload(f: Flow, dir?: number): number {
  let n = 0;
  for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0 && (dir === undefined || f.dir[i] === dir)) n++;
  return n;
}

/**
 * Merges extra packets (sorted by time) into a flow. At equal times the flow's own packet
 * comes first, so the result is a deterministic, stable merge.
 */
export function mergePackets(f: Flow, extra: Flow): Flow {
  const n = f.t.length;
  const m = extra.t.length;
  const t = new Float64Array(n + m);
  const size = new Int32Array(n + m);
  const dir = new Uint8Array(n + m);
  let i = 0;
  let j = 0;
  for (let k = 0; k < n + m; k++) {
    if (j >= m || (i < n && f.t[i] <= extra.t[j])) {
      t[k] = f.t[i];
      size[k] = f.size[i];
      dir[k] = f.dir[i++];
    } else {
      t[k] = extra.t[j];
      size[k] = extra.size[j];
      dir[k] = extra.dir[j++];
    }
  }
  return { t, size, dir };
}

/**
 * The flow's packets at new times `t` (indexed like the flow), sorted stably by time.
 * Takes ownership of `t`; allocates the result's arrays once.
 */
export function withTimes(f: Flow, t: Float64Array): Flow {
  if (isSorted(t)) return { t, size: f.size.slice(), dir: f.dir.slice() };
  return permute({ t, size: f.size, dir: f.dir }, sortOrder(t));
}

export function copyFlow(f: Flow): Flow {
  return { t: f.t.slice(), size: f.size.slice(), dir: f.dir.slice() };
}
