/**
 * IP addresses as four 32-bit words (IPv4 uses the first word, the rest are zero) and
 * their canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups as `::`, the first on a tie, and
 * IPv4-mapped addresses as `::ffff:a.b.c.d`), which is also what tshark prints. Captures
 * and text files both go through these, so the same host always has the same string.
 */

export type Family = 4 | 6;

/** Text of an IPv4 address held in one 32-bit word. */
export function formatIpv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** Canonical text of the address in `words[at .. at+3]`. */
export function formatAddress(family: Family, words: ArrayLike<number>, at = 0): string {
  if (family === 4) return formatIpv4(words[at]);
  const g = new Array<number>(8);
  for (let i = 0; i < 4; i++) {
    const w = words[at + i] >>> 0;
    g[2 * i] = w >>> 16;
    g[2 * i + 1] = w & 0xffff;
  }
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(words[at + 3] >>> 0)}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted-quad text as one word, or -1. A character loop: CSV readers call this per row. */
function parseIpv4Word(text: string): number {
  let w = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255 || ++dots > 3) return -1;
      w = w * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      part = part * 10 + (c - 48);
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return w * 256 + part;
}

/**
 * Parses an IPv4 or IPv6 address into `out[0..3]`; returns its family, or 0 when the
 * text is not an address (zone ids such as `%eth0` are refused: captures carry none).
 */
export function parseAddress(text: string, out: Uint32Array): Family | 0 {
  if (!text.includes(':')) {
    const w = parseIpv4Word(text);
    if (w < 0) return 0;
    out[0] = w;
    out[1] = out[2] = out[3] = 0;
    return 4;
  }
  const halves = text.split('::');
  if (halves.length > 2) return 0;
  const side = (s: string): number[] | null => {
    if (s === '') return [];
    const parts = s.split(':');
    const groups: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const w = parseIpv4Word(p);
        if (w < 0) return null;
        groups.push(w >>> 16, w & 0xffff);
      } else if (HEX_GROUP.test(p)) {
        groups.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  const head = side(halves[0]);
  const tail = halves.length === 2 ? side(halves[1]) : [];
  if (!head || !tail) return 0;
  // An embedded IPv4 part may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return 0;
  let groups: number[];
  if (halves.length === 2) {
    const zeros = 8 - head.length - tail.length;
    if (zeros < 1) return 0;
    groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  } else {
    if (head.length !== 8) return 0;
    groups = head;
  }
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return 6;
}

/** The canonical form of an address text, or undefined when it is not an address. */
export function canonicalAddress(text: string): string | undefined {
  const w = new Uint32Array(4);
  const family = parseAddress(text, w);
  return family ? formatAddress(family, w) : undefined;
}

/** `addr:port`, with IPv6 addresses in brackets. */
export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
