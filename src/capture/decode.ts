/**
 * Frame decoding: link layer, IPv4/IPv6, TCP header, straight from the record bytes into
 * the connection table's packet slot. A frame whose content is not a TCP segment, or is
 * cut or impossible, is skipped and counted; only the file's framing (pcap records,
 * pcapng blocks) can make a read fail.
 */
import type { ConnectionTable, PacketSlot } from './connections.js';

/** Decoders for the link types this reader knows; -1 for the others. */
export const LINK_ETHERNET = 0;
export const LINK_RAW = 1;
export const LINK_IPV4 = 2;
export const LINK_IPV6 = 3;
export const LINK_SLL = 4;
export const LINK_SLL2 = 5;

/**
 * Decoder for a pcap/pcapng link type. 12 and 14 are the DLT_RAW values that some
 * platforms wrote into files before LINKTYPE_RAW (101) existed; read as raw IP, as
 * Wireshark does. Only the low 16 bits name the link type (pcap puts FCS information
 * above them).
 */
export function linkDecoder(linktype: number): number {
  switch (linktype & 0xffff) {
    case 1:
      return LINK_ETHERNET;
    case 12:
    case 14:
    case 101:
      return LINK_RAW;
    case 228:
      return LINK_IPV4;
    case 229:
      return LINK_IPV6;
    case 113:
      return LINK_SLL;
    case 276:
      return LINK_SLL2;
    default:
      return -1;
  }
}

export const SUPPORTED_LINK_TYPES = '1 (Ethernet), 12/14/101 (raw IP), 228 (IPv4), 229 (IPv6), 113 (Linux SLL), 276 (Linux SLL2)';

const OK = 0;
const OK_FIRST_FRAGMENT = 1;
const NON_IP = 2;
const NON_TCP = 3;
const LATER_FRAGMENT = 4;
const TRUNCATED = 5;
const MALFORMED = 6;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function isVlanTag(type: number): boolean {
  // 802.1Q, 802.1ad (QinQ outer tag), and 0x9100, the pre-standard QinQ tag.
  return type === 0x8100 || type === 0x88a8 || type === 0x9100;
}

/**
 * TCP header at `o`. `seg` is the segment length the IP header gives; only the first 14
 * bytes (ports to flags) need to be captured.
 */
function tcp(b: Buffer, o: number, end: number, seg: number, p: PacketSlot): number {
  if (seg < 20) return MALFORMED;
  if (end - o < 14) return TRUNCATED;
  const hl = (b[o + 12] >> 4) * 4;
  if (hl < 20 || hl > seg) return MALFORMED;
  p.sport = (b[o] << 8) | b[o + 1];
  p.dport = (b[o + 2] << 8) | b[o + 3];
  p.seq = b.readUInt32BE(o + 4);
  p.ack = b.readUInt32BE(o + 8);
  p.flags = ((b[o + 12] & 0x0f) << 8) | b[o + 13];
  p.len = seg - hl;
  return OK;
}

/**
 * IPv4 at `o`; `wire` is how many bytes from `o` were on the wire. A total length of 0
 * is what captures on a host with TCP segmentation offload show: the wire length stands in.
 */
function ipv4(b: Buffer, o: number, end: number, wire: number, p: PacketSlot): number {
  if (end - o < 20) return TRUNCATED;
  const ihl = (b[o] & 15) * 4;
  if (ihl < 20) return MALFORMED;
  if (end - o < ihl) return TRUNCATED;
  let total = (b[o + 2] << 8) | b[o + 3];
  if (total === 0) total = wire;
  if (total < ihl || total > wire) return MALFORMED;
  const frag = (b[o + 6] << 8) | b[o + 7];
  if (frag & 0x1fff) return LATER_FRAGMENT;
  if (b[o + 9] !== 6) return NON_TCP;
  p.family = 4;
  p.src[0] = b.readUInt32BE(o + 12);
  p.dst[0] = b.readUInt32BE(o + 16);
  p.src[1] = p.src[2] = p.src[3] = 0;
  p.dst[1] = p.dst[2] = p.dst[3] = 0;
  const s = tcp(b, o + ihl, end, total - ihl, p);
  return s === OK && frag & 0x2000 ? OK_FIRST_FRAGMENT : s;
}

/** IPv6 at `o`, walking extension headers up to TCP. */
function ipv6(b: Buffer, o: number, end: number, wire: number, p: PacketSlot): number {
  if (end - o < 40) return TRUNCATED;
  let plen = (b[o + 4] << 8) | b[o + 5];
  if (plen === 0) plen = wire - 40; // jumbogram or offloaded segment
  if (plen < 0 || 40 + plen > wire) return MALFORMED;
  const limit = o + 40 + plen;
  let nh = b[o + 6];
  let cur = o + 40;
  let first = false;
  for (;;) {
    if (nh === 6) break;
    let hl: number;
    switch (nh) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
        if (end - cur < 2) return TRUNCATED;
        hl = (b[cur + 1] + 1) * 8;
        break;
      case 51: // authentication header: length in 4-byte units, minus 2
        if (end - cur < 2) return TRUNCATED;
        hl = (b[cur + 1] + 2) * 4;
        break;
      case 44: {
        // fragment
        if (limit - cur < 8) return MALFORMED;
        if (end - cur < 4) return TRUNCATED;
        const fo = (b[cur + 2] << 8) | b[cur + 3];
        if (fo >> 3) return LATER_FRAGMENT;
        if (fo & 1) first = true;
        hl = 8;
        break;
      }
      default:
        return NON_TCP; // UDP, ICMPv6, ESP, no next header, tunnels
    }
    if (cur + hl > limit) return MALFORMED;
    nh = b[cur];
    cur += hl;
  }
  p.family = 6;
  for (let i = 0; i < 4; i++) {
    p.src[i] = b.readUInt32BE(o + 8 + 4 * i);
    p.dst[i] = b.readUInt32BE(o + 24 + 4 * i);
  }
  const s = tcp(b, cur, end, limit - cur, p);
  return s === OK && first ? OK_FIRST_FRAGMENT : s;
}

function ip(type: number, b: Buffer, o: number, end: number, wire: number, p: PacketSlot): number {
  if (type === ETH_IPV4) return end - o >= 1 && b[o] >> 4 !== 4 ? MALFORMED : ipv4(b, o, end, wire, p);
  if (type === ETH_IPV6) return end - o >= 1 && b[o] >> 4 !== 6 ? MALFORMED : ipv6(b, o, end, wire, p);
  return NON_IP;
}

/** Decodes one frame into `p`; returns one of the status codes above. */
function decodeFrame(link: number, b: Buffer, o: number, caplen: number, wirelen: number, p: PacketSlot): number {
  const end = o + caplen;
  const wireEnd = o + Math.max(wirelen, caplen);
  switch (link) {
    case LINK_ETHERNET: {
      if (caplen < 14) return TRUNCATED;
      let type = (b[o + 12] << 8) | b[o + 13];
      let at = o + 14;
      while (isVlanTag(type)) {
        if (end - at < 4) return TRUNCATED;
        type = (b[at + 2] << 8) | b[at + 3];
        at += 4;
      }
      return ip(type, b, at, end, wireEnd - at, p);
    }
    case LINK_SLL: {
      if (caplen < 16) return TRUNCATED;
      return ip((b[o + 14] << 8) | b[o + 15], b, o + 16, end, wireEnd - o - 16, p);
    }
    case LINK_SLL2: {
      if (caplen < 20) return TRUNCATED;
      return ip((b[o] << 8) | b[o + 1], b, o + 20, end, wireEnd - o - 20, p);
    }
    case LINK_RAW: {
      if (caplen < 1) return TRUNCATED;
      const v = b[o] >> 4;
      if (v === 4) return ipv4(b, o, end, wireEnd - o, p);
      if (v === 6) return ipv6(b, o, end, wireEnd - o, p);
      return NON_IP;
    }
    case LINK_IPV4:
      return ip(ETH_IPV4, b, o, end, wireEnd - o, p);
    case LINK_IPV6:
      return ip(ETH_IPV6, b, o, end, wireEnd - o, p);
    default:
      return NON_IP;
  }
}

/** What a read met, packet by packet. */
export interface CaptureStats {
  /** Packet records (pcap), packet blocks (pcapng) or data rows (CSV) read. */
  records: number;
  /** TCP segments added to connections. */
  tcp: number;
  /** Frames that carry neither IPv4 nor IPv6 (ARP, LLDP, ...). */
  nonIp: number;
  /** IP packets of another protocol (UDP, ICMP, ESP, IP-in-IP, ...). */
  nonTcp: number;
  /** First fragments of fragmented TCP datagrams, kept: their payload is that fragment's share. */
  firstFragments: number;
  /** Later fragments, skipped: they carry no TCP header. */
  laterFragments: number;
  /** Frames whose IP or TCP header the snap length cut, skipped. */
  truncated: number;
  /** Frames with impossible IP or TCP header fields, skipped. */
  malformed: number;
  /** pcapng packets on interfaces of a link type this reader does not decode, skipped. */
  unsupportedLink: number;
  /** Simple packet blocks: no timestamp of their own (see README). */
  untimed: number;
  /** pcapng blocks of other types (statistics, name resolution, custom, ...), skipped. */
  otherBlocks: number;
  /** pcapng sections. */
  sections: number;
}

export function emptyStats(): CaptureStats {
  return {
    records: 0,
    tcp: 0,
    nonIp: 0,
    nonTcp: 0,
    firstFragments: 0,
    laterFragments: 0,
    truncated: 0,
    malformed: 0,
    unsupportedLink: 0,
    untimed: 0,
    otherBlocks: 0,
    sections: 0,
  };
}

/** Where decoded frames go: counts them and feeds TCP segments to the table. */
export class FrameSink {
  readonly stats = emptyStats();
  /** Byte offset of the first record that was skipped as malformed or truncated, for the warnings. */
  firstMalformedAt = -1;
  firstTruncatedAt = -1;

  constructor(readonly table: ConnectionTable) {}

  frame(link: number, b: Buffer, o: number, caplen: number, wirelen: number, t: number, recordAt: number): void {
    const st = this.stats;
    st.records++;
    const p = this.table.pkt;
    const status = decodeFrame(link, b, o, caplen, wirelen, p);
    switch (status) {
      case OK_FIRST_FRAGMENT:
      case OK:
        if (status === OK_FIRST_FRAGMENT) st.firstFragments++;
        st.tcp++;
        p.t = t;
        this.table.push();
        return;
      case NON_IP:
        st.nonIp++;
        return;
      case NON_TCP:
        st.nonTcp++;
        return;
      case LATER_FRAGMENT:
        st.laterFragments++;
        return;
      case TRUNCATED:
        if (st.truncated++ === 0) this.firstTruncatedAt = recordAt;
        return;
      default:
        if (st.malformed++ === 0) this.firstMalformedAt = recordAt;
    }
  }
}
