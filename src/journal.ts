/**
 * The run journal, `chunks.bin` in a results folder: every finished chunk's scores are
 * appended as one checksummed record the moment they come back. A run that is killed
 * resumes from it; shards are merged from it.
 *
 * Layout (little-endian): the magic "SSBJ1\n", then records of
 * [u32 length][payload][u32 CRC-32 of payload]. The first record's payload is the header,
 * JSON {fingerprint, shard}. Every other payload is a chunk:
 * [u32 group][u32 start][u32 end][u32 detectors], then per detector [u8 1][f64 × (end − start)]
 * or [u8 0][u32 bytes][UTF-8 failure message]. A record cut short by a kill fails its
 * length or checksum test and is dropped, with everything after it.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { UserError } from './errors.js';

const MAGIC = Buffer.from('SSBJ1\n', 'latin1');

export interface JournalHeader {
  /** Hash of the resolved config: a journal only serves the run it was written by. */
  fingerprint: string;
  /** "i/n" for a shard, null for a whole run. */
  shard: string | null;
}

export interface ChunkRecord {
  group: number;
  start: number;
  end: number;
  /** Per detector: its scores, or its failure message. */
  results: (Float64Array | string)[];
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(payload.length + 8);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, 4);
  out.writeUInt32LE(crc32(payload), 4 + payload.length);
  return out;
}

export function encodeChunk(r: ChunkRecord): Buffer {
  const n = r.end - r.start;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(16);
  head.writeUInt32LE(r.group, 0);
  head.writeUInt32LE(r.start, 4);
  head.writeUInt32LE(r.end, 8);
  head.writeUInt32LE(r.results.length, 12);
  parts.push(head);
  for (const res of r.results) {
    if (typeof res === 'string') {
      const msg = Buffer.from(res, 'utf8');
      const h = Buffer.alloc(5);
      h.writeUInt8(0, 0);
      h.writeUInt32LE(msg.length, 1);
      parts.push(h, msg);
    } else {
      if (res.length !== n) throw new Error(`chunk ${r.start}-${r.end} has ${res.length} scores`);
      const b = Buffer.alloc(1 + 8 * n);
      b.writeUInt8(1, 0);
      for (let i = 0; i < n; i++) b.writeDoubleLE(res[i], 1 + 8 * i);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function decodeChunk(p: Buffer): ChunkRecord | null {
  if (p.length < 16) return null;
  const group = p.readUInt32LE(0);
  const start = p.readUInt32LE(4);
  const end = p.readUInt32LE(8);
  const count = p.readUInt32LE(12);
  const n = end - start;
  if (end < start) return null;
  let off = 16;
  const results: (Float64Array | string)[] = [];
  for (let d = 0; d < count; d++) {
    if (off + 1 > p.length) return null;
    const ok = p.readUInt8(off++);
    if (ok === 1) {
      if (off + 8 * n > p.length) return null;
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) s[i] = p.readDoubleLE(off + 8 * i);
      off += 8 * n;
      results.push(s);
    } else {
      if (off + 4 > p.length) return null;
      const len = p.readUInt32LE(off);
      off += 4;
      if (off + len > p.length) return null;
      results.push(p.toString('utf8', off, off + len));
      off += len;
    }
  }
  return off === p.length ? { group, start, end, results } : null;
}

export interface JournalContents {
  header: JournalHeader;
  chunks: ChunkRecord[];
  /** Bytes of whole records; anything after was cut short. */
  validBytes: number;
  totalBytes: number;
}

/** Reads a journal; throws a UserError if it is not one. Tolerates a cut-off tail. */
export function readJournal(path: string): JournalContents {
  const buf = readFileSync(path);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new UserError(`${path}: not an ssbench journal (bad magic at byte 0)`);
  }
  let off = MAGIC.length;
  const payloads: Buffer[] = [];
  let valid = off;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (off + 8 + len > buf.length) break;
    const payload = buf.subarray(off + 4, off + 4 + len);
    if (crc32(payload) !== buf.readUInt32LE(off + 4 + len)) break;
    payloads.push(payload);
    off += 8 + len;
    valid = off;
  }
  if (payloads.length === 0) throw new UserError(`${path}: journal has no readable header (byte ${MAGIC.length})`);
  let header: JournalHeader;
  try {
    header = JSON.parse(payloads[0].toString('utf8')) as JournalHeader;
  } catch {
    throw new UserError(`${path}: journal header at byte ${MAGIC.length} is not JSON`);
  }
  const chunks: ChunkRecord[] = [];
  for (const p of payloads.slice(1)) {
    const c = decodeChunk(p);
    if (!c) break;
    chunks.push(c);
  }
  return { header, chunks, validBytes: valid, totalBytes: buf.length };
}

export class Journal {
  private constructor(
    private readonly fd: number,
    /** Where the next record goes: right after the last whole one. */
    private position: number,
  ) {}

  /**
   * Opens the journal at `path` for `header`'s run: a new one if none exists (or `fresh`),
   * else the existing one, whose finished chunks are returned. A journal of another run is
   * refused rather than mixed in.
   */
  static open(path: string, header: JournalHeader, fresh: boolean): { journal: Journal; done: ChunkRecord[] } {
    mkdirSync(dirname(path), { recursive: true });
    if (fresh || !existsSync(path)) {
      const fd = openSync(path, 'w');
      const head = Buffer.concat([MAGIC, frame(Buffer.from(JSON.stringify(header), 'utf8'))]);
      writeSync(fd, head);
      return { journal: new Journal(fd, head.length), done: [] };
    }
    const j = readJournal(path);
    if (j.header.fingerprint !== header.fingerprint || j.header.shard !== header.shard) {
      throw new UserError(
        `${path}: this results folder holds a different run (its config or shard differs); use another --out, or --fresh to discard it`,
      );
    }
    const fd = openSync(path, 'r+');
    // Drop a record that a kill cut short, so that new records follow whole ones.
    if (j.validBytes < j.totalBytes) ftruncateSync(fd, j.validBytes);
    return { journal: new Journal(fd, j.validBytes), done: j.chunks };
  }

  append(r: ChunkRecord): void {
    const rec = frame(encodeChunk(r));
    writeSync(this.fd, rec, 0, rec.length, this.position);
    this.position += rec.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
