/** NumPy .npy files (format 1.0), for float32 arrays: the exchange format with PyTorch. */
import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** The bytes of a little-endian float32 .npy file of the given shape. */
export function npyBytes(data: Float32Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: shape ${shape} holds ${count} values, not ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** Reads a float32 .npy file; refuses anything else with the file and what was found. */
export function readNpy(path: string): { data: Float32Array; shape: number[] } {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new UserError(`${path}: not a .npy file (bad magic at byte 0)`);
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > buf.length) throw new UserError(`${path}: header of ${headerLen} bytes runs past the end of the file`);
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header)) throw new UserError(`${path}: expected little-endian float32 ('<f4'), header says ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new UserError(`${path}: Fortran-ordered arrays are not supported`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new UserError(`${path}: no shape in the header`);
  const shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (start + 4 * count > buf.length) throw new UserError(`${path}: shape (${shape}) needs ${4 * count} bytes of data, the file has ${buf.length - start}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { data, shape };
}
