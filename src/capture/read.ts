/**
 * readCapture: one entry for pcap, pcapng and tshark CSV files, plain or gzip-compressed,
 * read as a stream of chunks with at most one record or block carried over between them.
 */
import { ConnectionTable, type TcpConnection } from './connections.js';
import { readTsharkCsv } from './csv.js';
import { type CaptureStats, FrameSink, SUPPORTED_LINK_TYPES } from './decode.js';
import { CaptureError } from './errors.js';
import { type CaptureInput, DEFAULT_CHUNK, openInput } from './input.js';
import { type BinaryParser, PCAPNG_SHB, PCAP_MAGIC_NS, PCAP_MAGIC_US, type ParserContext, PcapParser, PcapngParser, at } from './pcap.js';

export type CaptureFormat = 'pcap' | 'pcapng' | 'tshark-csv';

export interface ReadOptions {
  /**
   * 'throw' (default): a bad record or row throws a CaptureError, which says how many
   * packets were read before it. 'stop': the read ends there and returns the connections
   * of every packet before the problem, with the problem in `stopped` and `warnings`.
   */
  onError?: 'throw' | 'stop';
  /** Bytes per chunk read from the file (1 MiB). */
  chunkSize?: number;
}

export interface CaptureResult {
  /** The name messages use: the path as given. */
  file: string;
  format: CaptureFormat;
  gzip: boolean;
  /** In order of first appearance. */
  connections: TcpConnection[];
  stats: CaptureStats;
  /** Things a user should know about the read, one line each. */
  warnings: string[];
  /** With onError 'stop': the problem that ended the read early. */
  stopped?: CaptureError;
}

function printable(b: Buffer): boolean {
  const n = Math.min(b.length, 256);
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  for (; i < n; i++) {
    const c = b[i];
    if (c < 0x20 ? c !== 9 && c !== 10 && c !== 13 : c > 0x7e) return false;
  }
  return true;
}

function detect(head: Buffer, ctx: ParserContext): CaptureFormat {
  if (head.length === 0) throw new CaptureError(ctx.name, at(ctx, 0), 'the file is empty', 0);
  if (head.length >= 4) {
    const le = head.readUInt32LE(0);
    const be = head.readUInt32BE(0);
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return 'pcap';
    if (be === PCAPNG_SHB) return 'pcapng';
  }
  if (printable(head)) return 'tshark-csv';
  const shown = head.subarray(0, 4).toString('hex');
  throw new CaptureError(ctx.name, at(ctx, 0), `not a pcap, pcapng or tshark CSV file (it starts with 0x${shown})`, 0);
}

/**
 * Feeds the parser: it parses as soon as the pending bytes reach its `need`. A record cut
 * across chunks waits in `pending` and is joined with the next chunk (one copy). A parser
 * that stops short of bytes it could use still gets a new chunk, or the end, before it
 * parses again, so the loop always moves.
 */
async function runBinary(parser: BinaryParser, head: Buffer, chunks: AsyncIterator<Buffer>, ended: boolean): Promise<void> {
  const pending: Buffer[] = [head];
  let pendingLen = head.length;
  let base = 0;
  let eof = ended;
  for (;;) {
    while (!eof && pendingLen < parser.need) {
      const r = await chunks.next();
      if (r.done) eof = true;
      else {
        pending.push(r.value);
        pendingLen += r.value.length;
      }
    }
    const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLen);
    const used = parser.parse(buf, base, eof);
    base += used;
    pending.length = 0;
    pendingLen = buf.length - used;
    if (pendingLen > 0) pending.push(buf.subarray(used));
    if (eof) return;
    if (pendingLen >= parser.need) {
      // The parser stopped short of a record it could read: pull one more chunk anyway.
      const r = await chunks.next();
      if (r.done) eof = true;
      else {
        pending.push(r.value);
        pendingLen += r.value.length;
      }
    }
  }
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

function summarise(r: CaptureResult, ctx: ParserContext, ng: PcapngParser | undefined): void {
  const { file, stats, warnings } = r;
  const sink = ctx.sink;
  const first = (offset: number) => (offset >= 0 ? ` (the first at ${at(ctx, offset)})` : '');
  for (const u of ng?.unsupportedInterfaces() ?? []) {
    warnings.push(`${file}: ${u.skipped} packets on interfaces of link type ${u.linktype} were skipped (this reader decodes ${SUPPORTED_LINK_TYPES})`);
  }
  if (stats.untimed > 0) {
    warnings.push(`${file}: ${stats.untimed} simple packet blocks carry no timestamp: each took the time of the packet before it (one before any timed packet is skipped)`);
  }
  if (stats.truncated > 0) {
    warnings.push(`${file}: ${stats.truncated} TCP/IP headers were cut by the snap length and skipped${first(sink.firstTruncatedAt)}`);
  }
  if (stats.malformed > 0) {
    warnings.push(`${file}: ${stats.malformed} frames had impossible IP or TCP header fields and were skipped${first(sink.firstMalformedAt)}`);
  }
  if (stats.laterFragments > 0 || stats.firstFragments > 0) {
    warnings.push(
      `${file}: ${stats.laterFragments} IP fragments after the first were skipped; ${stats.firstFragments} first fragments were kept with that fragment's share of the payload`,
    );
  }
  if (r.stopped) {
    warnings.push(`${r.stopped.message} (the read stopped there; the ${r.stopped.packetsRead} packets before it were kept)`);
  }
}

/**
 * Reads a pcap, pcapng or tshark CSV file (plain or gzip) into TCP connections. The
 * format is told from the first bytes, never from the file name.
 */
export async function readCapture(input: CaptureInput, opts: ReadOptions = {}): Promise<CaptureResult> {
  const table = new ConnectionTable();
  const sink = new FrameSink(table);
  const stats = sink.stats;
  const opened = await openInput(input, stats, opts.chunkSize ?? DEFAULT_CHUNK);
  const warnings: string[] = [];
  const ctx: ParserContext = { name: opened.name, gzip: opened.gzip, size: opened.size, sink };
  const chunks = opened.chunks;
  let format: CaptureFormat = 'pcap';
  let ng: PcapngParser | undefined;
  let stopped: CaptureError | undefined;
  try {
    const head: Buffer[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < 4) {
      const r = await chunks.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headLen += r.value.length;
    }
    const first = head.length === 1 ? head[0] : Buffer.concat(head, headLen);
    format = detect(first, ctx);
    if (format === 'tshark-csv') {
      await readTsharkCsv(prepend(first, chunks), { name: opened.name, table, stats });
    } else {
      const parser = format === 'pcap' ? new PcapParser(ctx) : (ng = new PcapngParser(ctx));
      await runBinary(parser, first, chunks, ended);
    }
  } catch (e) {
    if (!(e instanceof CaptureError) || opts.onError !== 'stop') throw e;
    stopped = e;
  } finally {
    await chunks.return();
  }
  const result: CaptureResult = {
    file: opened.name,
    format,
    gzip: opened.gzip,
    connections: table.finish(),
    stats,
    warnings,
    stopped,
  };
  summarise(result, ctx, ng);
  return result;
}
