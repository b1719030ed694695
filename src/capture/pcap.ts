/**
 * pcap and pcapng framing. A parser sees the stream as a sequence of buffers: parse()
 * takes whole records/blocks from the front of one and says how many bytes it used, and
 * `need` how many the next one takes. Every length is checked against the bytes that
 * remain (and against the file size when it is known) before any is used, so a bad
 * length can neither allocate nor wait for bytes that will never come.
 */
import { CaptureError, byteAt } from './errors.js';
import { type FrameSink, SUPPORTED_LINK_TYPES, linkDecoder } from './decode.js';

export interface BinaryParser {
  /** Bytes, from the first unused one, that the next record or block needs at least. */
  need: number;
  /**
   * Uses whole records from the front of `buf` (at stream offset `base`) and returns how
   * many bytes it used. With `eof`, no byte follows `buf`: a record cut short is an error.
   */
  parse(buf: Buffer, base: number, eof: boolean): number;
}

/** Where the parsers report: the sink, and what the messages name. */
export interface ParserContext {
  readonly name: string;
  readonly gzip: boolean;
  /** Byte count of the stream when known (an uncompressed file). */
  readonly size: number | undefined;
  readonly sink: FrameSink;
}

/** Largest record or block accepted: far above any real frame, small enough to buffer. */
export const MAX_RECORD = 16 * 1024 * 1024;

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

export function at(ctx: ParserContext, offset: number): string {
  return byteAt(offset, ctx.gzip);
}

function failAt(ctx: ParserContext, offset: number, problem: string): never {
  throw new CaptureError(ctx.name, at(ctx, offset), problem, ctx.sink.stats.records);
}

/** Bytes left in the stream from `offset`, when the stream's size is known. */
function remaining(ctx: ParserContext, offset: number): number {
  return ctx.size === undefined ? Infinity : ctx.size - offset;
}

export class PcapParser implements BinaryParser {
  need = 24;
  private started = false;
  private le = true;
  private div = 1e6;
  private snaplen = 0;
  private link = -1;

  constructor(private readonly ctx: ParserContext) {}

  private u32(b: Buffer, i: number): number {
    return this.le ? b.readUInt32LE(i) : b.readUInt32BE(i);
  }

  private header(b: Buffer, eof: boolean): boolean {
    if (b.length < 24) {
      if (eof) failAt(this.ctx, 0, `file ends inside the pcap file header (${b.length} of 24 bytes)`);
      return false;
    }
    const m = b.readUInt32LE(0);
    this.le = m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS;
    const magic = this.u32(b, 0);
    this.div = magic === PCAP_MAGIC_NS ? 1e9 : 1e6;
    const major = this.le ? b.readUInt16LE(4) : b.readUInt16BE(4);
    const minor = this.le ? b.readUInt16LE(6) : b.readUInt16BE(6);
    if (major !== 2) failAt(this.ctx, 0, `pcap version ${major}.${minor} is not supported (2.x is)`);
    this.snaplen = this.u32(b, 16);
    const linktype = this.u32(b, 20) & 0xffff;
    this.link = linkDecoder(linktype);
    if (this.link < 0) failAt(this.ctx, 0, `unsupported link type ${linktype} (this reader decodes ${SUPPORTED_LINK_TYPES})`);
    this.started = true;
    this.need = 16;
    return true;
  }

  parse(b: Buffer, base: number, eof: boolean): number {
    const ctx = this.ctx;
    let pos = 0;
    if (!this.started) {
      if (!this.header(b, eof)) return 0;
      pos = 24;
    }
    const n = b.length;
    const sink = ctx.sink;
    for (;;) {
      const rest = n - pos;
      if (rest < 16) {
        if (eof && rest > 0) failAt(ctx, base + pos, `file ends inside a packet record header (${rest} of 16 bytes)`);
        this.need = 16;
        return pos;
      }
      const caplen = this.u32(b, pos + 8);
      if (this.snaplen > 0 && caplen > this.snaplen) {
        failAt(ctx, base + pos, `packet record says ${caplen} captured bytes, more than the snap length ${this.snaplen}`);
      }
      if (caplen > MAX_RECORD) {
        failAt(ctx, base + pos, `packet record says ${caplen} captured bytes, more than the largest record accepted (${MAX_RECORD})`);
      }
      const total = 16 + caplen;
      if (rest < total) {
        const left = remaining(ctx, base + pos);
        if (eof || left < total) {
          failAt(ctx, base + pos, `packet record says ${caplen} captured bytes, only ${(eof ? rest : left) - 16} remain`);
        }
        this.need = total;
        return pos;
      }
      const t = this.u32(b, pos) + this.u32(b, pos + 4) / this.div;
      sink.frame(this.link, b, pos + 16, caplen, this.u32(b, pos + 12), t, base + pos);
      pos += total;
    }
  }
}

interface Interface {
  linktype: number;
  link: number;
  snaplen: number;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  units: number;
  /** if_tsoffset, seconds. */
  offset: number;
  /** Packets skipped because the link type is not decoded. */
  skipped: number;
}

/**
 * Seconds of a 64-bit pcapng timestamp (high, low words) in `units` per second. Long
 * division in 16-bit digits keeps every step below 2^48, exact in a double, so the
 * whole seconds are exact and only the fraction rounds: the same double as
 * `sec + frac / units` from a pcap record or a tshark CSV row of the same instant.
 */
export function timestampSeconds(high: number, low: number, units: number): number {
  if (units > 0x100000000) return (high * 4294967296 + low) / units;
  let cur = high >>> 16;
  const q3 = Math.floor(cur / units);
  cur = (cur - q3 * units) * 65536 + (high & 0xffff);
  const q2 = Math.floor(cur / units);
  cur = (cur - q2 * units) * 65536 + (low >>> 16);
  const q1 = Math.floor(cur / units);
  cur = (cur - q1 * units) * 65536 + (low & 0xffff);
  const q0 = Math.floor(cur / units);
  const rem = cur - q0 * units;
  return ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0 + rem / units;
}

const SHB_MIN = 28;
const IDB_MIN = 20;
const EPB_MIN = 32;
const SPB_MIN = 16;
const IDB = 1;
const SPB = 3;
const EPB = 6;

function blockName(type: number): string {
  switch (type) {
    case PCAPNG_SHB:
      return 'section header block';
    case IDB:
      return 'interface description block';
    case SPB:
      return 'simple packet block';
    case EPB:
      return 'enhanced packet block';
    default:
      return `block of type 0x${type.toString(16)}`;
  }
}

export class PcapngParser implements BinaryParser {
  need = 12;
  private le = true;
  private interfaces: Interface[] = [];
  /** Time of the section's latest timed packet, for simple packet blocks. */
  private lastTime = NaN;
  /** Every interface of every section, for the warnings at the end. */
  readonly allInterfaces: Interface[] = [];

  constructor(private readonly ctx: ParserContext) {}

  private u16(b: Buffer, i: number): number {
    return this.le ? b.readUInt16LE(i) : b.readUInt16BE(i);
  }

  private u32(b: Buffer, i: number): number {
    return this.le ? b.readUInt32LE(i) : b.readUInt32BE(i);
  }

  parse(b: Buffer, base: number, eof: boolean): number {
    const ctx = this.ctx;
    const n = b.length;
    let pos = 0;
    for (;;) {
      const rest = n - pos;
      if (rest < 12) {
        if (eof && rest > 0) failAt(ctx, base + pos, `file ends inside a block header (${rest} of 12 bytes)`);
        this.need = 12;
        return pos;
      }
      const off = base + pos;
      let type: number;
      if (b.readUInt32LE(pos) === PCAPNG_SHB) {
        // The byte-order magic decides how this section, this block's length included, reads.
        type = PCAPNG_SHB;
        if (b.readUInt32LE(pos + 8) === PCAPNG_BOM) this.le = true;
        else if (b.readUInt32BE(pos + 8) === PCAPNG_BOM) this.le = false;
        else failAt(ctx, off, `section header block has byte-order magic 0x${b.readUInt32BE(pos + 8).toString(16).padStart(8, '0')}, not 0x1a2b3c4d`);
      } else {
        type = this.u32(b, pos);
      }
      const len = this.u32(b, pos + 4);
      const kind = blockName(type);
      const min = type === PCAPNG_SHB ? SHB_MIN : type === IDB ? IDB_MIN : type === EPB ? EPB_MIN : type === SPB ? SPB_MIN : 12;
      if (len < min) failAt(ctx, off, `${kind} is ${len} bytes long, shorter than its ${min}-byte minimum`);
      if (len % 4 !== 0) failAt(ctx, off, `${kind} length ${len} is not a multiple of 4`);
      if (len > MAX_RECORD) failAt(ctx, off, `${kind} says ${len} bytes, more than the largest block accepted (${MAX_RECORD})`);
      if (rest < len) {
        const left = remaining(ctx, off);
        if (eof || left < len) failAt(ctx, off, `${kind} says ${len} bytes, only ${eof ? rest : left} remain`);
        this.need = len;
        return pos;
      }
      const trailer = this.u32(b, pos + len - 4);
      if (trailer !== len) failAt(ctx, off, `block length mismatch: the ${kind} says ${len} bytes at its start and ${trailer} at its end`);
      switch (type) {
        case PCAPNG_SHB:
          this.section(b, pos, off);
          break;
        case IDB:
          this.interfaceBlock(b, pos, len, off);
          break;
        case EPB:
          this.enhanced(b, pos, len, off);
          break;
        case SPB:
          this.simple(b, pos, len, off);
          break;
        default:
          ctx.sink.stats.otherBlocks++;
      }
      pos += len;
    }
  }

  private section(b: Buffer, pos: number, off: number): void {
    const major = this.u16(b, pos + 12);
    const minor = this.u16(b, pos + 14);
    if (major !== 1) failAt(this.ctx, off, `section header block version ${major}.${minor} is not supported (1.x is)`);
    this.interfaces = [];
    this.lastTime = NaN;
    this.ctx.sink.stats.sections++;
  }

  private interfaceBlock(b: Buffer, pos: number, len: number, off: number): void {
    const linktype = this.u16(b, pos + 8);
    const iface: Interface = {
      linktype,
      link: linkDecoder(linktype),
      snaplen: this.u32(b, pos + 12),
      units: 1e6,
      offset: 0,
      skipped: 0,
    };
    const end = pos + len - 4;
    let o = pos + 16;
    while (end - o >= 4) {
      const code = this.u16(b, o);
      const olen = this.u16(b, o + 2);
      if (code === 0) break; // opt_endofopt
      const padded = (olen + 3) & ~3;
      if (padded > end - o - 4) {
        failAt(this.ctx, off, `interface description block option ${code} says ${olen} bytes, more than the ${end - o - 4} left in the block`);
      }
      if (code === 9) {
        // if_tsresol: 10^-v seconds, or 2^-v with the top bit set
        if (olen !== 1) failAt(this.ctx, off, `interface description block if_tsresol option has ${olen} bytes, not 1`);
        const v = b[o + 4];
        const exp = v & 0x7f;
        if (v & 0x80 ? exp > 62 : exp > 18) {
          failAt(this.ctx, off, `interface description block if_tsresol ${v & 0x80 ? '2' : '10'}^-${exp} is finer than this reader handles`);
        }
        iface.units = v & 0x80 ? 2 ** exp : 10 ** exp;
      } else if (code === 14) {
        // if_tsoffset: seconds added to every timestamp of the interface
        if (olen !== 8) failAt(this.ctx, off, `interface description block if_tsoffset option has ${olen} bytes, not 8`);
        iface.offset = Number(this.le ? b.readBigInt64LE(o + 4) : b.readBigInt64BE(o + 4));
      }
      o += 4 + padded;
    }
    this.interfaces.push(iface);
    this.allInterfaces.push(iface);
  }

  private enhanced(b: Buffer, pos: number, len: number, off: number): void {
    const id = this.u32(b, pos + 8);
    if (id >= this.interfaces.length) {
      failAt(this.ctx, off, `enhanced packet block names interface ${id}, but the section has ${this.interfaces.length}`);
    }
    const iface = this.interfaces[id];
    const caplen = this.u32(b, pos + 20);
    if (caplen > len - EPB_MIN) {
      failAt(this.ctx, off, `enhanced packet block says ${caplen} captured bytes, more than the ${len - EPB_MIN} its block holds`);
    }
    if (iface.snaplen > 0 && caplen > iface.snaplen) {
      failAt(this.ctx, off, `enhanced packet block says ${caplen} captured bytes, more than the snap length ${iface.snaplen} of interface ${id}`);
    }
    const t = timestampSeconds(this.u32(b, pos + 12), this.u32(b, pos + 16), iface.units) + iface.offset;
    this.lastTime = t;
    this.deliver(iface, b, pos + 28, caplen, this.u32(b, pos + 24), t, off);
  }

  private simple(b: Buffer, pos: number, len: number, off: number): void {
    if (this.interfaces.length === 0) failAt(this.ctx, off, 'simple packet block before any interface description block');
    const iface = this.interfaces[0];
    const wire = this.u32(b, pos + 8);
    let caplen = Math.min(wire, len - SPB_MIN);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    const stats = this.ctx.sink.stats;
    stats.untimed++;
    if (Number.isNaN(this.lastTime)) {
      stats.records++;
      return;
    }
    this.deliver(iface, b, pos + 12, caplen, wire, this.lastTime, off);
  }

  private deliver(iface: Interface, b: Buffer, o: number, caplen: number, wire: number, t: number, off: number): void {
    const sink = this.ctx.sink;
    if (iface.link < 0) {
      sink.stats.records++;
      sink.stats.unsupportedLink++;
      iface.skipped++;
      return;
    }
    sink.frame(iface.link, b, o, caplen, wire, t, off);
  }

  /** Link types that made packets be skipped, for the read's warnings. */
  unsupportedInterfaces(): { linktype: number; skipped: number }[] {
    const byType = new Map<number, number>();
    for (const i of this.allInterfaces) if (i.skipped > 0) byType.set(i.linktype, (byType.get(i.linktype) ?? 0) + i.skipped);
    return [...byType].map(([linktype, skipped]) => ({ linktype, skipped }));
  }
}
