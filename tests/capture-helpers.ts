/**
 * A tiny capture writer for the capture suites: IPv4/IPv6 + TCP packets, link-layer
 * headers, pcap and pcapng files, and tshark-style CSV, all built byte by byte. Kept
 * independent of src/capture (its own address parsing) so that a reader bug cannot be
 * mirrored here.
 */
import type { TcpConnection } from '../src/capture/index.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** Bytes of an IPv4 (dotted) or IPv6 (hex groups, optional ::) address. */
export function addrBytes(a: string): Uint8Array {
  if (!a.includes(':')) return Uint8Array.from(a.split('.').map(Number));
  const [h, t] = a.split('::');
  const head = h ? h.split(':') : [];
  const tail = t !== undefined && t !== '' ? t.split(':') : [];
  const groups = t === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  });
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  /** Payload bytes (filled with 'x'). */
  payload?: number;
  /** Bytes of TCP options (a multiple of 4). */
  tcpOptions?: number;
  /** Bytes of IPv4 options (a multiple of 4, up to 40). */
  ipOptions?: number;
  /** IPv4 fragment fields. */
  fragment?: { offset: number; more: boolean };
  /** IPv6 extension headers to put before TCP: 0, 43, 60 (8 bytes each), 44 (fragment), 51 (AH, 12 bytes). */
  ext?: Array<0 | 43 | 44 | 51 | 60>;
  /** IPv6 fragment offset (in 8-byte units) and M flag, for an ext 44. */
  v6fragment?: { offset: number; more: boolean };
  /** Replaces the IP protocol / last next-header (e.g. 17 for UDP). */
  proto?: number;
}

function tcpHeader(s: TcpSpec): Uint8Array {
  const opt = s.tcpOptions ?? 0;
  const h = new Uint8Array(20 + opt + (s.payload ?? 0));
  const v = new DataView(h.buffer);
  v.setUint16(0, s.sport);
  v.setUint16(2, s.dport);
  v.setUint32(4, (s.seq ?? 0) >>> 0);
  v.setUint32(8, (s.ack ?? 0) >>> 0);
  h[12] = (((20 + opt) / 4) << 4) | ((s.flags >> 8) & 0x0f);
  h[13] = s.flags & 0xff;
  v.setUint16(14, 65535);
  for (let i = 20; i < 20 + opt; i++) h[i] = 1; // NOP options
  h.fill(0x78, 20 + opt);
  return h;
}

/** An IP packet (the family follows the addresses) carrying a TCP segment. */
export function ipPacket(s: TcpSpec): Uint8Array {
  const seg = tcpHeader(s);
  const src = addrBytes(s.src);
  const dst = addrBytes(s.dst);
  if (src.length === 4) {
    const opt = s.ipOptions ?? 0;
    const h = new Uint8Array(20 + opt);
    const v = new DataView(h.buffer);
    h[0] = 0x40 | ((20 + opt) / 4);
    v.setUint16(2, h.length + seg.length);
    v.setUint16(4, 0x1234);
    if (s.fragment) v.setUint16(6, (s.fragment.more ? 0x2000 : 0) | s.fragment.offset);
    h[8] = 64;
    h[9] = s.proto ?? 6;
    h.set(src, 12);
    h.set(dst, 16);
    for (let i = 20; i < 20 + opt; i++) h[i] = 1; // NOP options
    return concat(h, seg);
  }
  const exts: Uint8Array[] = [];
  const types = s.ext ?? [];
  for (let i = 0; i < types.length; i++) {
    const next = i + 1 < types.length ? types[i + 1] : (s.proto ?? 6);
    const type = types[i];
    if (type === 44) {
      const e = new Uint8Array(8);
      e[0] = next;
      const fo = s.v6fragment ?? { offset: 0, more: true };
      new DataView(e.buffer).setUint16(2, (fo.offset << 3) | (fo.more ? 1 : 0));
      exts.push(e);
    } else if (type === 51) {
      const e = new Uint8Array(12);
      e[0] = next;
      e[1] = 1; // (12 / 4) - 2
      exts.push(e);
    } else {
      const e = new Uint8Array(8);
      e[0] = next;
      e[1] = 0; // (8 / 8) - 1
      e[2] = 1; // PadN
      exts.push(e);
    }
  }
  const body = concat(...exts, seg);
  const h = new Uint8Array(40);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, body.length);
  h[6] = types.length > 0 ? types[0] : (s.proto ?? 6);
  h[7] = 64;
  h.set(src, 8);
  h.set(dst, 24);
  return concat(h, body);
}

const ethertype = (ip: Uint8Array) => (ip[0] >> 4 === 6 ? 0x86dd : 0x0800);

/** Ethernet II; `tags` are VLAN TPIDs (0x8100, 0x88a8) outermost first. */
export function ethernet(ip: Uint8Array, tags: number[] = [], type = ethertype(ip)): Uint8Array {
  const h = new Uint8Array(14 + 4 * tags.length);
  const v = new DataView(h.buffer);
  h.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  let o = 12;
  for (const tpid of tags) {
    v.setUint16(o, tpid);
    v.setUint16(o + 2, 100); // VLAN id
    o += 4;
  }
  v.setUint16(o, type);
  return concat(h, ip);
}

/** Linux cooked capture v1 (link type 113). */
export function sll(ip: Uint8Array, type = ethertype(ip)): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint16(0, 0); // to us
  v.setUint16(2, 1); // ARPHRD_ETHER
  v.setUint16(4, 6);
  v.setUint16(14, type);
  return concat(h, ip);
}

/** Linux cooked capture v2 (link type 276). */
export function sll2(ip: Uint8Array, type = ethertype(ip)): Uint8Array {
  const h = new Uint8Array(20);
  const v = new DataView(h.buffer);
  v.setUint16(0, type);
  v.setUint32(4, 2); // interface index
  v.setUint16(8, 1); // ARPHRD_ETHER
  h[10] = 4; // outgoing
  h[11] = 6;
  return concat(h, ip);
}

export interface Frame {
  sec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  frac: number;
  data: Uint8Array;
  /** Original length when the record is cut (defaults to data length). */
  wire?: number;
}

export interface PcapOptions {
  link?: number;
  le?: boolean;
  nanos?: boolean;
  snaplen?: number;
  major?: number;
}

export function pcapHeader(o: PcapOptions = {}): Uint8Array {
  const le = o.le ?? true;
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  v.setUint32(0, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, o.major ?? 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, o.snaplen ?? 65535, le);
  v.setUint32(20, o.link ?? 1, le);
  return h;
}

export function pcapRecord(f: Frame, le = true, caplen = f.data.length): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, f.sec, le);
  v.setUint32(4, f.frac, le);
  v.setUint32(8, caplen, le);
  v.setUint32(12, f.wire ?? f.data.length, le);
  return concat(h, f.data);
}

export function pcapFile(frames: Frame[], o: PcapOptions = {}): Uint8Array {
  return concat(pcapHeader(o), ...frames.map((f) => pcapRecord(f, o.le ?? true)));
}

// ---- pcapng

const pad4 = (n: number) => (n + 3) & ~3;

/** A block with its two length fields; `body` is everything between them. */
export function block(le: boolean, type: number, body: Uint8Array, lengthAtEnd?: number): Uint8Array {
  const len = 12 + pad4(body.length);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, len, le);
  b.set(body, 8);
  v.setUint32(len - 4, lengthAtEnd ?? len, le);
  return b;
}

export function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + pad4(value.length));
  const v = new DataView(o.buffer);
  v.setUint16(0, code, le);
  v.setUint16(2, value.length, le);
  o.set(value, 4);
  return o;
}

export function shb(le: boolean, major = 1): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, major, le);
  v.setUint16(6, 0, le);
  v.setBigInt64(8, -1n, le);
  return block(le, 0x0a0d0d0a, body);
}

export interface IdbOptions {
  snaplen?: number;
  /** if_tsresol byte. */
  tsresol?: number;
  /** if_tsoffset seconds. */
  tsoffset?: bigint;
}

export function idb(le: boolean, link: number, o: IdbOptions = {}): Uint8Array {
  const opts: Uint8Array[] = [];
  opts.push(option(le, 2, new TextEncoder().encode('eth0'))); // if_name, to be skipped
  if (o.tsresol !== undefined) opts.push(option(le, 9, Uint8Array.of(o.tsresol)));
  if (o.tsoffset !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, o.tsoffset, le);
    opts.push(option(le, 14, b));
  }
  opts.push(new Uint8Array(4)); // opt_endofopt
  const fixed = new Uint8Array(8);
  const v = new DataView(fixed.buffer);
  v.setUint16(0, link, le);
  v.setUint32(4, o.snaplen ?? 262144, le);
  return block(le, 1, concat(fixed, ...opts));
}

/** Enhanced packet block; `ts` in the interface's units. */
export function epb(le: boolean, iface: number, ts: bigint, data: Uint8Array, wire = data.length): Uint8Array {
  const fixed = new Uint8Array(20);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, iface, le);
  v.setUint32(4, Number(ts >> 32n), le);
  v.setUint32(8, Number(ts & 0xffffffffn), le);
  v.setUint32(12, data.length, le);
  v.setUint32(16, wire, le);
  const comment = option(le, 1, new TextEncoder().encode('hi'));
  return block(le, 6, concat(fixed, data, new Uint8Array(pad4(data.length) - data.length), comment, new Uint8Array(4)));
}

export function spb(le: boolean, data: Uint8Array, wire = data.length): Uint8Array {
  const fixed = new Uint8Array(4);
  new DataView(fixed.buffer).setUint32(0, wire, le);
  return block(le, 3, concat(fixed, data));
}

// ---- sessions and CSV

export interface Sent {
  sec: number;
  /** Microseconds. */
  usec: number;
  spec: TcpSpec;
}

/**
 * A small interactive session between client c:cport and server s:sport, starting at
 * `sec`: handshake, `keys` keystrokes of 1 byte each answered by a 1-byte echo, then
 * the client's pure ACK of the echo, then FIN/ACK both ways and the last ACK.
 * Client ISN `ci`, server ISN `si`. Packets are 10 ms apart.
 */
export function session(c: string, cport: number, s: string, sport: number, sec: number, keys: number, ci = 1000, si = 5000): Sent[] {
  const out: Sent[] = [];
  let usec = 0;
  const put = (fromClient: boolean, flags: number, seq: number, ack: number, payload = 0) => {
    const spec: TcpSpec = fromClient
      ? { src: c, dst: s, sport: cport, dport: sport, flags, seq, ack, payload }
      : { src: s, dst: c, sport, dport: cport, flags, seq, ack, payload };
    out.push({ sec: sec + Math.floor(usec / 1e6), usec: usec % 1e6, spec });
    usec += 10_000;
  };
  let cs = ci;
  let ss = si;
  put(true, SYN, cs, 0);
  cs++;
  put(false, SYN | ACK, ss, cs);
  ss++;
  put(true, ACK, cs, ss);
  for (let k = 0; k < keys; k++) {
    put(true, PSH | ACK, cs, ss, 1);
    cs++;
    put(false, PSH | ACK, ss, cs, 1);
    ss++;
    put(true, ACK, cs, ss);
  }
  put(true, FIN | ACK, cs, ss);
  cs++;
  put(false, FIN | ACK, ss, cs);
  ss++;
  put(true, ACK, cs, ss);
  return out;
}

export function framesOf(sent: Sent[], link: (ip: Uint8Array) => Uint8Array = (ip) => ethernet(ip)): Frame[] {
  return sent.map((p) => ({ sec: p.sec, frac: p.usec, data: link(ipPacket(p.spec)) }));
}

/** The header line of the documented tshark export. */
export const CSV_HEADER =
  'frame.time_epoch,ip.src,ipv6.src,ip.dst,ipv6.dst,tcp.srcport,tcp.dstport,tcp.len,tcp.flags,tcp.seq_raw,tcp.ack_raw';

/** What tshark's export prints for these packets (quote=d, empty fields unquoted). */
export function tsharkCsv(sent: Sent[]): string {
  const lines = [CSV_HEADER];
  for (const { sec, usec, spec } of sent) {
    const v6 = spec.src.includes(':');
    const q = (x: string | number) => `"${x}"`;
    lines.push(
      [
        q(`${sec}.${String(usec * 1000).padStart(9, '0')}`),
        v6 ? '' : q(spec.src),
        v6 ? q(spec.src) : '',
        v6 ? '' : q(spec.dst),
        v6 ? q(spec.dst) : '',
        q(spec.sport),
        q(spec.dport),
        q(spec.payload ?? 0),
        q(`0x${spec.flags.toString(16).padStart(4, '0')}`),
        q((spec.seq ?? 0) >>> 0),
        q((spec.ack ?? 0) >>> 0),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const bytesOf = (text: string) => new TextEncoder().encode(text);

/** A connection's identity and columns as plain values, for toEqual across readers. */
export function columns(c: TcpConnection) {
  return {
    tuple: `${c.client}:${c.clientPort} -> ${c.server}:${c.serverPort}`,
    roleFrom: c.roleFrom,
    t: Array.from(c.t),
    len: Array.from(c.len),
    flags: Array.from(c.flags),
    seq: Array.from(c.seq),
    ack: Array.from(c.ack),
    dir: Array.from(c.dir),
    retrans: Array.from(c.retrans),
  };
}

/** gzip of some bytes. */
export { gzipSync as gzip } from 'node:zlib';
