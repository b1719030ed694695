/**
 * Input streams: a file (read in chunks, never whole) or bytes in memory, with gzip
 * detected by its magic and inflated on the fly. Errors of the file system or of the gzip
 * stream come out as CaptureErrors naming the file and the byte reached.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureError, byteAt } from './errors.js';

/** A path, or bytes with the name that messages use. */
export type CaptureInput = string | { name: string; bytes: Uint8Array };

export const DEFAULT_CHUNK = 1 << 20;

export interface Opened {
  readonly name: string;
  readonly gzip: boolean;
  /** Byte count of the (uncompressed) content when known: plain files only. */
  readonly size: number | undefined;
  /** Chunks of at most the chunk size; its errors are CaptureErrors. */
  readonly chunks: AsyncGenerator<Buffer, void, undefined>;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

async function* sliced(
  source: AsyncIterable<Buffer>,
  chunk: number,
  name: string,
  gzip: boolean,
  progress: { records: number },
): AsyncGenerator<Buffer, void, undefined> {
  let delivered = 0;
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (e) {
        const msg = (e as Error).message;
        throw new CaptureError(name, byteAt(delivered, gzip), gzip ? `the gzip stream is broken: ${msg}` : `cannot read: ${msg}`, progress.records);
      }
      if (r.done) return;
      const b = r.value;
      for (let o = 0; o < b.length; o += chunk) {
        const piece = o === 0 && b.length <= chunk ? b : b.subarray(o, Math.min(b.length, o + chunk));
        delivered += piece.length;
        yield piece;
      }
    }
  } finally {
    await it.return?.();
  }
}

/**
 * Opens an input. `progress.records` is read when an I/O error is reported, so that the
 * error says how many packets were read before it.
 */
export async function openInput(input: CaptureInput, progress: { records: number }, chunkSize = DEFAULT_CHUNK): Promise<Opened> {
  if (!(chunkSize >= 1)) throw new RangeError(`chunkSize must be at least 1, not ${chunkSize}`);
  const chunk = Math.floor(chunkSize);
  if (typeof input !== 'string') {
    const bytes = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
    const gzip = isGzip(bytes);
    const source: AsyncIterable<Buffer> = gzip
      ? pipeline(Readable.from([bytes]), createGunzip({ chunkSize: Math.max(64, chunk) }), () => {})
      : Readable.from([bytes]);
    return { name: input.name, gzip, size: gzip ? undefined : bytes.length, chunks: sliced(source, chunk, input.name, gzip, progress) };
  }
  const name = input;
  let head: Buffer;
  let size: number;
  try {
    const fh = await open(input, 'r');
    try {
      size = (await fh.stat()).size;
      head = Buffer.alloc(2);
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new CaptureError(name, 'byte 0', `cannot open: ${(e as Error).message}`, 0);
  }
  const gzip = isGzip(head);
  const file = createReadStream(input, { highWaterMark: chunk });
  const source: AsyncIterable<Buffer> = gzip ? pipeline(file, createGunzip({ chunkSize: Math.min(chunk, 256 * 1024) }), () => {}) : file;
  return { name, gzip, size: gzip ? undefined : size, chunks: sliced(source, chunk, name, gzip, progress) };
}
