/** The one error every capture reader throws for bad input. */
import { UserError } from '../errors.js';

/**
 * A capture, CSV or labels file that cannot be read any further. The message is one line,
 * `<file>: <where>: <what>`, where `<where>` is `byte N` for binary captures (the offset
 * of the record or block at fault; in the uncompressed stream for .gz input) or
 * `line N` / `line N, column C` for CSV files.
 */
export class CaptureError extends UserError {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly problem: string,
    /** Packet records (or CSV rows) read and used before the problem; none of them is lost. */
    readonly packetsRead: number,
  ) {
    super(`${file}: ${where}: ${problem}`);
    this.name = 'CaptureError';
  }
}

/** `byte N`, the `where` of a binary input; for gzip input the offset is in the inflated stream. */
export function byteAt(offset: number, gzip: boolean): string {
  return gzip ? `byte ${offset} (uncompressed)` : `byte ${offset}`;
}

/** Text from a file as a message shows it: control characters escaped, so it stays one line. */
export function escaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** A value from a file, quoted and escaped, shortened past `max` characters. */
export function quoted(value: string, max = 60): string {
  const v = value.length > max ? `${value.slice(0, max)}…` : value;
  return `"${escaped(v)}"`;
}
