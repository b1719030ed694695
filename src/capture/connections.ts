/**
 * The connection table: TCP packets, from any reader, grouped into connections with
 * per-packet columns. Readers fill `table.pkt` and call `table.push()`; nothing is
 * allocated per packet (the 4-tuple is hashed from address words into an open-addressing
 * table, and columns grow by doubling). The rules below are the ones src/capture/README.md
 * documents; keep the two in step.
 */
import { type Flow, isSorted, permute, sortOrder } from '../flow.js';
import { type Family, endpoint, formatAddress } from './address.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** How a connection's client was chosen (see README: direction). */
export type RoleEvidence = 'syn' | 'syn-ack' | 'port' | 'first-packet';

/** The packet a reader hands to the table; one instance, overwritten for every packet. */
export class PacketSlot {
  t = 0;
  family: Family = 4;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  sport = 0;
  dport = 0;
  /** Raw 32-bit sequence and acknowledgement numbers. */
  seq = 0;
  ack = 0;
  /** The 12 flag bits of the TCP header (as tshark's tcp.flags). */
  flags = 0;
  /** TCP payload bytes. */
  len = 0;
}

export interface ConnectionCounts {
  /** Indexed by direction: [client to server, server to client]. */
  packets: [number, number];
  payloadPackets: [number, number];
  payloadBytes: [number, number];
  retransmissions: [number, number];
  syn: number;
  fin: number;
  rst: number;
}

/**
 * One TCP connection, columns indexed by packet in capture order (which is time order
 * unless the capture itself is not). `seq` and `ack` are relative to the initial
 * sequence numbers and unwrapped (they keep growing past 2^32); `ack` is NaN on packets
 * without the ACK flag.
 */
export interface TcpConnection {
  /** Position in the order of first appearance in the capture. */
  readonly id: number;
  readonly family: Family;
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
  readonly roleFrom: RoleEvidence;
  /** Earliest and latest packet time, seconds since the Unix epoch. */
  readonly first: number;
  readonly last: number;
  readonly length: number;
  readonly t: Float64Array;
  readonly len: Int32Array;
  readonly flags: Uint16Array;
  readonly seq: Float64Array;
  readonly ack: Float64Array;
  /** 0 = client to server (DIR_FWD), 1 = server to client (DIR_BWD). */
  readonly dir: Uint8Array;
  /** 1 where the packet's payload was all seen before in its direction. */
  readonly retrans: Uint8Array;
  readonly counts: ConnectionCounts;
}

/** `client:port -> server:port`, the form every message uses. */
export function describeConnection(c: Pick<TcpConnection, 'client' | 'clientPort' | 'server' | 'serverPort'>): string {
  return `${endpoint(c.client, c.clientPort)} -> ${endpoint(c.server, c.serverPort)}`;
}

/**
 * Past this many disjoint seen ranges in one direction (holes the capture never filled),
 * the two lowest merge: a packet later landing in that oldest hole counts as retransmitted.
 */
const MAX_RANGES = 64;

/**
 * Adds [s, e) to the sorted disjoint ranges in `cov` (flat: start0, end0, start1, ...) and
 * tells whether it was already covered by one of them.
 */
function seenBefore(cov: number[], s: number, e: number): boolean {
  const n = cov.length;
  if (n === 0) {
    cov.push(s, e);
    return false;
  }
  // In-order data extends the last range: the common case, O(1).
  if (s === cov[n - 1]) {
    cov[n - 1] = e;
    return false;
  }
  if (s >= cov[n - 2] && e <= cov[n - 1]) return true;
  // First range whose end reaches s.
  let lo = 0;
  let hi = n / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cov[2 * mid + 1] < s) lo = mid + 1;
    else hi = mid;
  }
  if (lo < n / 2 && cov[2 * lo] <= s && e <= cov[2 * lo + 1]) return true;
  // Merge [s, e) with every range it touches, from index lo on.
  let j = lo;
  let ns = s;
  let ne = e;
  while (j < n / 2 && cov[2 * j] <= ne) {
    ns = Math.min(ns, cov[2 * j]);
    ne = Math.max(ne, cov[2 * j + 1]);
    j++;
  }
  cov.splice(2 * lo, 2 * (j - lo), ns, ne);
  if (cov.length > 2 * MAX_RANGES) cov.splice(1, 2);
  return false;
}

type Column = Float64Array | Int32Array | Uint16Array | Uint8Array;

function grown<T extends Column>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  (b as Float64Array).set(a);
  return b;
}

const LAST_RAW = 0;
const LAST_X = 2;
const ISN = 4;
const FIRST_SEQ = 6;

/** Mutable state of one connection while packets arrive; sides are A/B, the key's order. */
class ConnBuilder {
  n = 0;
  t: Float64Array;
  len: Int32Array;
  flags: Uint16Array;
  seq: Float64Array;
  ack: Float64Array;
  /** 0 = sent by A, 1 = sent by B, until finish() maps it to client/server. */
  dir: Uint8Array;
  retrans: Uint8Array;
  first = Infinity;
  last = -Infinity;
  /**
   * Per sequence space (indexed by sender d): [LAST_RAW + d] the last raw number used as
   * the unwrapping reference (NaN before the first), [LAST_X + d] its unwrapped value,
   * [ISN + d] the unwrapped SYN sequence number, [FIRST_SEQ + d] the first sequence number
   * seen. One typed array keeps this per-packet state in one place.
   */
  readonly st = Float64Array.of(NaN, NaN, 0, 0, NaN, NaN, NaN, NaN);
  readonly ranges: [number[], number[]] = [[], []];
  synFrom = -1;
  synSeqRaw = 0;
  synAckFrom = -1;
  firstFrom = -1;

  constructor(
    readonly id: number,
    readonly family: Family,
    /** Address A in words 0..3, B in 4..7. */
    readonly addr: Uint32Array,
    readonly portA: number,
    readonly portB: number,
    capacity = 16,
  ) {
    this.t = new Float64Array(capacity);
    this.len = new Int32Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.seq = new Float64Array(capacity);
    this.ack = new Float64Array(capacity);
    this.dir = new Uint8Array(capacity);
    this.retrans = new Uint8Array(capacity);
  }

  private grow(): void {
    const cap = this.t.length * 2;
    this.t = grown(this.t, cap);
    this.len = grown(this.len, cap);
    this.flags = grown(this.flags, cap);
    this.seq = grown(this.seq, cap);
    this.ack = grown(this.ack, cap);
    this.dir = grown(this.dir, cap);
    this.retrans = grown(this.retrans, cap);
  }

  /**
   * Position of a raw 32-bit number in the sequence space of sender `d`, unwrapped
   * against the last value seen there. A value more than 2^30 away from it (a corrupt
   * or stray number) is placed but does not move the reference, so one bad packet
   * cannot shift everything after it by 2^32.
   */
  private unwrap(d: number, raw: number): number {
    const st = this.st;
    const last = st[LAST_RAW + d];
    if (Number.isNaN(last)) {
      st[LAST_RAW + d] = raw;
      return 0;
    }
    const delta = (raw - last) | 0;
    const x = st[LAST_X + d] + delta;
    if (delta < 0x40000000 && delta > -0x40000000) {
      st[LAST_RAW + d] = raw;
      st[LAST_X + d] = x;
    }
    return x;
  }

  add(t: number, d: number, p: PacketSlot): void {
    if (this.n === this.t.length) this.grow();
    const i = this.n++;
    const flags = p.flags;
    this.t[i] = t;
    this.len[i] = p.len;
    this.flags[i] = flags;
    this.dir[i] = d;
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    if (this.firstFrom < 0) this.firstFrom = d;
    const seqX = this.unwrap(d, p.seq);
    this.seq[i] = seqX;
    this.ack[i] = flags & TCP_ACK ? this.unwrap(1 - d, p.ack) : NaN;
    if (flags & TCP_SYN) {
      if (Number.isNaN(this.st[ISN + d])) this.st[ISN + d] = seqX;
      if (flags & TCP_ACK) {
        if (this.synAckFrom < 0) this.synAckFrom = d;
      } else if (this.synFrom < 0) {
        this.synFrom = d;
        this.synSeqRaw = p.seq;
      }
    }
    if (Number.isNaN(this.st[FIRST_SEQ + d])) this.st[FIRST_SEQ + d] = seqX;
    if (p.len > 0) {
      // The SYN flag occupies the first sequence number; data on a SYN follows it.
      const s = flags & TCP_SYN ? seqX + 1 : seqX;
      this.retrans[i] = seenBefore(this.ranges[d], s, s + p.len) ? 1 : 0;
    } else {
      this.retrans[i] = 0;
    }
  }

  finish(): TcpConnection {
    const n = this.n;
    let clientSide: number;
    let roleFrom: RoleEvidence;
    if (this.synFrom >= 0) {
      clientSide = this.synFrom;
      roleFrom = 'syn';
    } else if (this.synAckFrom >= 0) {
      clientSide = 1 - this.synAckFrom;
      roleFrom = 'syn-ack';
    } else if (this.portA !== this.portB) {
      // The lower port is the server's: well-known and registered ports sit below the
      // ephemeral range every client draws from.
      clientSide = this.portA < this.portB ? 1 : 0;
      roleFrom = 'port';
    } else {
      clientSide = this.firstFrom;
      roleFrom = 'first-packet';
    }
    const st = this.st;
    const base = [0, 1].map((d) =>
      !Number.isNaN(st[ISN + d]) ? st[ISN + d] : !Number.isNaN(st[FIRST_SEQ + d]) ? st[FIRST_SEQ + d] : 0,
    );
    const t = this.t.slice(0, n);
    const len = this.len.slice(0, n);
    const flags = this.flags.slice(0, n);
    const seq = this.seq.slice(0, n);
    const ack = this.ack.slice(0, n);
    const dir = this.dir.slice(0, n);
    const retrans = this.retrans.slice(0, n);
    const counts: ConnectionCounts = {
      packets: [0, 0],
      payloadPackets: [0, 0],
      payloadBytes: [0, 0],
      retransmissions: [0, 0],
      syn: 0,
      fin: 0,
      rst: 0,
    };
    for (let i = 0; i < n; i++) {
      const side = dir[i];
      seq[i] -= base[side];
      ack[i] -= base[1 - side];
      const d = side === clientSide ? 0 : 1;
      dir[i] = d;
      counts.packets[d]++;
      if (len[i] > 0) {
        counts.payloadPackets[d]++;
        counts.payloadBytes[d] += len[i];
      }
      counts.retransmissions[d] += retrans[i];
      const f = flags[i];
      if (f & TCP_SYN) counts.syn++;
      if (f & TCP_FIN) counts.fin++;
      if (f & TCP_RST) counts.rst++;
    }
    // The builder's columns (up to twice the packets, from doubling) are garbage from here
    // on; letting go of them now keeps the peak of a large capture's finish() low.
    this.t = new Float64Array(0);
    this.len = new Int32Array(0);
    this.flags = new Uint16Array(0);
    this.seq = new Float64Array(0);
    this.ack = new Float64Array(0);
    this.dir = new Uint8Array(0);
    this.retrans = new Uint8Array(0);
    const a = formatAddress(this.family, this.addr, 0);
    const b = formatAddress(this.family, this.addr, 4);
    return {
      id: this.id,
      family: this.family,
      client: clientSide === 0 ? a : b,
      clientPort: clientSide === 0 ? this.portA : this.portB,
      server: clientSide === 0 ? b : a,
      serverPort: clientSide === 0 ? this.portB : this.portA,
      roleFrom,
      first: this.first,
      last: this.last,
      length: n,
      t,
      len,
      flags,
      seq,
      ack,
      dir,
      retrans,
      counts,
    };
  }
}

/** Words per key: address A (4), address B (4), ports (A << 16 | B), family. */
const KW = 10;

/** 4-tuple -> connection, open addressing with linear probing over a power-of-two table. */
export class ConnectionTable {
  /** Fill this, then call push(). */
  readonly pkt = new PacketSlot();
  private readonly builders: ConnBuilder[] = [];
  private keys: Uint32Array;
  /** Builder index per slot, -1 when empty. */
  private slots: Int32Array;
  private used = 0;
  private readonly key = new Uint32Array(KW);

  constructor(capacity = 1024) {
    this.slots = new Int32Array(capacity).fill(-1);
    this.keys = new Uint32Array(capacity * KW);
  }

  /** Connections so far (a reused 4-tuple counts once per incarnation). */
  get size(): number {
    return this.builders.length;
  }

  private static hash(k: Uint32Array, at: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < KW; i++) {
      h = Math.imul(h ^ k[at + i], 0x01000193);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) >>> 0;
  }

  private rehash(): void {
    const oldSlots = this.slots;
    const oldKeys = this.keys;
    const cap = oldSlots.length * 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.keys = new Uint32Array(cap * KW);
    const mask = cap - 1;
    for (let s = 0; s < oldSlots.length; s++) {
      if (oldSlots[s] < 0) continue;
      let j = ConnectionTable.hash(oldKeys, s * KW) & mask;
      while (this.slots[j] >= 0) j = (j + 1) & mask;
      this.slots[j] = oldSlots[s];
      this.keys.set(oldKeys.subarray(s * KW, s * KW + KW), j * KW);
    }
  }

  /** Adds the packet in `pkt` to its connection, creating the connection when needed. */
  push(): void {
    const p = this.pkt;
    const k = this.key;
    const src = p.src;
    const dst = p.dst;
    // Canonical order of the two endpoints: A is the smaller (address words, then port).
    let cmp = 0;
    for (let i = 0; i < 4 && cmp === 0; i++) cmp = src[i] - dst[i];
    if (cmp === 0) cmp = p.sport - p.dport;
    const fromB = cmp > 0 ? 1 : 0;
    const a = fromB ? dst : src;
    const b = fromB ? src : dst;
    k[0] = a[0];
    k[1] = a[1];
    k[2] = a[2];
    k[3] = a[3];
    k[4] = b[0];
    k[5] = b[1];
    k[6] = b[2];
    k[7] = b[3];
    const portA = fromB ? p.dport : p.sport;
    const portB = fromB ? p.sport : p.dport;
    k[8] = ((portA << 16) | portB) >>> 0;
    k[9] = p.family;

    const mask = this.slots.length - 1;
    let j = ConnectionTable.hash(k, 0) & mask;
    const keys = this.keys;
    let idx = -1;
    for (;;) {
      const v = this.slots[j];
      if (v < 0) break;
      const at = j * KW;
      let same = true;
      for (let w = 0; w < KW; w++) {
        if (keys[at + w] !== k[w]) {
          same = false;
          break;
        }
      }
      if (same) {
        idx = v;
        break;
      }
      j = (j + 1) & mask;
    }

    let c: ConnBuilder;
    if (idx < 0) {
      c = this.create(k, portA, portB, p.family);
      this.slots[j] = c.id;
      keys.set(k, j * KW);
      if (++this.used * 2 > this.slots.length) this.rehash();
    } else {
      c = this.builders[idx];
      // A SYN that is not a retransmission of this connection's own SYN starts a new
      // connection on the same 4-tuple (the client port was reused).
      if ((p.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && !(c.synFrom === fromB && c.synSeqRaw === p.seq)) {
        c = this.create(k, portA, portB, p.family);
        this.slots[j] = c.id;
      }
    }
    c.add(p.t, fromB, p);
  }

  private create(k: Uint32Array, portA: number, portB: number, family: Family): ConnBuilder {
    const c = new ConnBuilder(this.builders.length, family, k.slice(0, 8), portA, portB);
    this.builders.push(c);
    return c;
  }

  /** The connections, in order of first appearance, with roles and relative numbers settled. */
  finish(): TcpConnection[] {
    return this.builders.map((b) => b.finish());
  }
}

export interface FlowOptions {
  /** Leave out packets flagged as retransmissions. */
  dropRetransmissions?: boolean;
  /** Seconds subtracted from every time (e.g. the capture's first packet time). */
  origin?: number;
  /**
   * Swap client and server: for a connection whose roles came from the port rule when
   * a labels file knows better.
   */
  reverse?: boolean;
}

const CONTROL = TCP_SYN | TCP_FIN | TCP_RST;

/**
 * The connection as an ssbench Flow: payload packets with their sizes, pure ACKs with
 * size 0; SYN, FIN and RST packets without payload are left out (set-up and tear-down,
 * not part of the interactive exchange). Sorted by time.
 */
export function connectionToFlow(c: TcpConnection, opts: FlowOptions = {}): Flow {
  const drop = opts.dropRetransmissions ?? false;
  const origin = opts.origin ?? 0;
  const flipDir = opts.reverse ? 1 : 0;
  let m = 0;
  for (let i = 0; i < c.length; i++) {
    if (c.len[i] === 0 && c.flags[i] & CONTROL) continue;
    if (drop && c.retrans[i]) continue;
    m++;
  }
  const t = new Float64Array(m);
  const size = new Int32Array(m);
  const dir = new Uint8Array(m);
  let k = 0;
  for (let i = 0; i < c.length; i++) {
    if (c.len[i] === 0 && c.flags[i] & CONTROL) continue;
    if (drop && c.retrans[i]) continue;
    t[k] = c.t[i] - origin;
    size[k] = c.len[i];
    dir[k] = c.dir[i] ^ flipDir;
    k++;
  }
  const f = { t, size, dir };
  return isSorted(t) ? f : permute(f, sortOrder(t));
}
