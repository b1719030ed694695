/**
 * Packet traces exported by tshark as CSV (the command is in README.md), and the CSV
 * plumbing the labels reader shares. Rows feed the same connection table as the pcap
 * readers, so both paths give the same connections.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { parseAddress } from './address.js';
import type { ConnectionTable } from './connections.js';
import type { CaptureStats } from './decode.js';
import { CaptureError, escaped, quoted } from './errors.js';

/** The fields, in the order of the documented tshark command. */
export const TSHARK_FIELDS = [
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.len',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.ack_raw',
] as const;

const TIME = /^(\d+)(?:\.(\d+))?$/;
const UINT = /^\d+$/;
const HEX = /^0x[0-9a-fA-F]+$/;

/** Turns csv-parse's own errors into one-line messages naming the file and line. */
function csvFailure(e: unknown, name: string, records: number): unknown {
  if (e instanceof CsvError) {
    const line = (e as CsvError & { lines?: number }).lines;
    const msg = e.message.replace(/ on line \d+$/, '').replace(/\.$/, '');
    return new CaptureError(name, line ? `line ${line}` : 'line ?', escaped(msg), records);
  }
  return e;
}

/**
 * Streams the CSV records of `chunks` through csv-parse and hands each, with its line, to
 * `onRecord` as soon as it is parsed (inside csv-parse's on_record hook), so an error,
 * csv-parse's or one thrown by `onRecord`, comes after every record before it was used.
 * `used()` says how many rows were used, for the error.
 */
export async function csvRecords(
  chunks: AsyncIterable<Buffer>,
  name: string,
  used: () => number,
  onRecord: (record: string[], line: number) => void,
): Promise<void> {
  let any = false;
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    on_record: (record: string[], info) => {
      any = true;
      onRecord(record, info.lines);
      return null;
    },
  });
  try {
    await pipeline(Readable.from(chunks), parser, async function* (rows) {
      for await (const _ of rows);
    });
  } catch (e) {
    throw csvFailure(e, name, used());
  }
  if (!any) throw new CaptureError(name, 'line 1', 'no header row (the file is empty)', 0);
}

/** Where each of `wanted` sits in a header row; refuses repeated and missing columns. */
export function headerColumns(record: string[], wanted: readonly string[], name: string, line: number): number[] {
  const index = new Map<string, number>();
  record.forEach((h, i) => {
    const column = h.trim();
    if (index.has(column)) throw new CaptureError(name, `line ${line}`, `column ${escaped(column)} appears twice in the header`, 0);
    index.set(column, i);
  });
  const missing = wanted.filter((f) => !index.has(f));
  if (missing.length > 0) {
    throw new CaptureError(name, `line ${line}`, `missing column ${missing.join(', ')} (the header has ${record.map(escaped).join(', ')})`, 0);
  }
  return wanted.map((f) => index.get(f) as number);
}

export interface CsvContext {
  readonly name: string;
  readonly table: ConnectionTable;
  readonly stats: CaptureStats;
}

/** Reads tshark rows from `chunks` into the table. */
export async function readTsharkCsv(chunks: AsyncIterable<Buffer>, ctx: CsvContext): Promise<void> {
  const { name, table, stats } = ctx;
  const p = table.pkt;
  let col: number[] | undefined;
  const fail = (line: number, column: string, problem: string): never => {
    throw new CaptureError(name, `line ${line}, column ${column}`, problem, stats.records);
  };
  const uint = (v: string, line: number, column: string, max: number): number => {
    const x = UINT.test(v) ? Number(v) : NaN;
    if (!(x <= max)) fail(line, column, `${quoted(v)} is not an integer from 0 to ${max}`);
    return x;
  };

  /** One address pair from the IPv4 and IPv6 columns; 0 when the row has no IP, -1 when several IP headers. */
  const addresses = (r: string[], line: number): number => {
    const c = col as number[];
    const v4s = r[c[1]];
    const v6s = r[c[2]];
    const v4d = r[c[3]];
    const v6d = r[c[4]];
    if (v4s === '' && v6s === '' && v4d === '' && v6d === '') return 0;
    // Several values (tshark joins them with commas) or both families: tunnels and
    // ICMP errors quoting a header, which the pcap path skips as not TCP too.
    if ((v4s !== '' || v4d !== '') && (v6s !== '' || v6d !== '')) return -1;
    if (v4s.includes(',') || v6s.includes(',') || v4d.includes(',') || v6d.includes(',')) return -1;
    const v6 = v6s !== '' || v6d !== '';
    const src = v6 ? v6s : v4s;
    const dst = v6 ? v6d : v4d;
    const srcName = TSHARK_FIELDS[v6 ? 2 : 1];
    const dstName = TSHARK_FIELDS[v6 ? 4 : 3];
    const family = v6 ? 6 : 4;
    if (src === '') fail(line, srcName, `empty while ${dstName} holds an address`);
    if (dst === '') fail(line, dstName, `empty while ${srcName} holds an address`);
    if (parseAddress(src, p.src) !== family) fail(line, srcName, `${quoted(src)} is not an IPv${family} address`);
    if (parseAddress(dst, p.dst) !== family) fail(line, dstName, `${quoted(dst)} is not an IPv${family} address`);
    p.family = family;
    return family;
  };

  /** Uses one data row; `stats.records` counts it only once it is known to be good. */
  const row = (r: string[], line: number): void => {
    const c = col as number[];
    const time = r[c[0]];
    const m = TIME.exec(time);
    if (!m) fail(line, TSHARK_FIELDS[0], `${quoted(time)} is not a time in seconds`);
    const [, whole, frac] = m as RegExpExecArray;
    // Whole seconds plus the fraction as one division, as the pcap readers compute it,
    // so that the same instant gives the same double on every path.
    const t = Number(whole) + (frac ? Number(frac) / 10 ** frac.length : 0);
    if (!Number.isFinite(t)) fail(line, TSHARK_FIELDS[0], `${quoted(time)} is not a time in seconds`);
    const family = addresses(r, line);
    const sport = r[c[5]];
    let skip: 'nonIp' | 'nonTcp' | 'truncated' | undefined;
    if (family === 0) skip = 'nonIp';
    else if (family < 0 || sport === '' || sport.includes(',')) skip = 'nonTcp';
    // tshark leaves out the fields after a TCP header cut by the snap length.
    else if (r[c[6]] === '' || r[c[7]] === '' || r[c[8]] === '' || r[c[9]] === '' || r[c[10]] === '') skip = 'truncated';
    if (skip) {
      stats.records++;
      stats[skip]++;
      return;
    }
    p.t = t;
    p.sport = uint(sport, line, TSHARK_FIELDS[5], 65535);
    p.dport = uint(r[c[6]], line, TSHARK_FIELDS[6], 65535);
    p.len = uint(r[c[7]], line, TSHARK_FIELDS[7], 0x7fffffff);
    const flags = r[c[8]];
    const f = HEX.test(flags) ? parseInt(flags.slice(2), 16) : UINT.test(flags) ? Number(flags) : NaN;
    if (!(f <= 0xfff)) fail(line, TSHARK_FIELDS[8], `${quoted(flags)} is not a 12-bit TCP flags value such as 0x0018`);
    p.flags = f;
    p.seq = uint(r[c[9]], line, TSHARK_FIELDS[9], 0xffffffff);
    p.ack = uint(r[c[10]], line, TSHARK_FIELDS[10], 0xffffffff);
    stats.records++;
    stats.tcp++;
    table.push();
  };

  await csvRecords(chunks, name, () => stats.records, (record, line) => {
    if (col === undefined) col = headerColumns(record, TSHARK_FIELDS, name, line);
    else row(record, line);
  });
}
