import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIR_BWD as B, DIR_FWD as F, type FlowPair, flowOf } from '../src/flow.js';
import { IPD_PAD, SIZE_PAD, extract, layoutFor } from '../src/features.js';
import { npyBytes, readNpy } from '../src/npy.js';

const pairOf = (incoming: [number, number, number][], outgoing: [number, number, number][]): FlowPair => ({
  incoming: flowOf(incoming),
  outgoing: flowOf(outgoing),
  relayed: true,
  meta: { dataset: 't', index: 0, kind: 'test' },
});

/** Rows of a single-pair feature array, rounded to float32 like the features. */
function rows(x: Float32Array, columns: number): number[][] {
  return Array.from({ length: x.length / columns }, (_, r) => Array.from(x.subarray(r * columns, (r + 1) * columns)));
}
const f32 = (v: number) => Math.fround(v);
const ipd = (d: number) => f32(Math.log(d + 0.012));

describe('deepcorr layout v1', () => {
  const pair = pairOf(
    [
      [0, 36, F],
      [0.2, 36, B],
      [0.5, 0, F], // pure ACK: not in any stream
      [1, 36, F],
      [3, 52, F],
    ],
    [
      [0.5, 36, F],
      [1.5, 64, F],
    ],
  );

  it('puts IPDs and sizes of the four streams in (incoming, outgoing) row pairs, padded', () => {
    const layout = layoutFor({ name: 'deepcorr', version: 1, params: { length: 3 } }, 'm.json');
    const x = extract(layout, [pair]);
    expect(x.length).toBe(8 * 3);
    const P = f32(IPD_PAD);
    const S = f32(SIZE_PAD);
    expect(rows(x, 3)).toEqual([
      [ipd(1), ipd(2), P], // incoming forward: gaps 0→1, 1→3
      [ipd(1), P, P], // outgoing forward: 0.5→1.5
      [P, P, P], // incoming backward: one packet, no gap
      [P, P, P], // outgoing backward: none
      [f32(Math.log(36)), f32(Math.log(36)), f32(Math.log(52))],
      [f32(Math.log(36)), f32(Math.log(64)), S],
      [f32(Math.log(36)), S, S],
      [S, S, S],
    ]);
    // Padding is below every real value.
    expect(IPD_PAD).toBeLessThan(Math.log(0 + 0.012));
    expect(SIZE_PAD).toBeLessThan(Math.log(1));
  });

  it('keeps the first L gaps and sizes of a longer stream', () => {
    const layout = layoutFor({ name: 'deepcorr', version: 1, params: { length: 1 } }, 'm.json');
    // L = 1: one gap (0→1) and one size (36) from the incoming forward stream.
    expect(rows(extract(layout, [pair]), 1)[0]).toEqual([ipd(1)]);
    expect(rows(extract(layout, [pair]), 1)[4]).toEqual([f32(Math.log(36))]);
  });

  it('lays out a batch as [n, 8, L], pair after pair', () => {
    const layout = layoutFor({ name: 'deepcorr', version: 1, params: { length: 3 } }, 'm.json');
    const one = extract(layout, [pair]);
    const two = extract(layout, [pair, pair]);
    expect(Array.from(two.subarray(24))).toEqual(Array.from(one));
  });
});

describe('timebins layout v1', () => {
  it('counts packets and bytes per bin from the pair\'s first packet', () => {
    const layout = layoutFor({ name: 'timebins', version: 1, params: { bins: 3, width: 1 } }, 'm.json');
    const pair = pairOf(
      [
        [10, 36, F],
        [10.5, 36, F],
        [11.2, 100, B],
        [12.9, 0, F], // ACK: ignored
        [13.5, 36, F], // beyond 3 bins: ignored
      ],
      [[10.1, 52, F]],
    );
    const l = (v: number) => f32(Math.log1p(v));
    expect(rows(extract(layout, [pair]), 3)).toEqual([
      [l(2), l(0), l(0)],
      [l(1), l(0), l(0)],
      [l(0), l(1), l(0)],
      [l(0), l(0), l(0)],
      [l(72), l(0), l(0)],
      [l(52), l(0), l(0)],
      [l(0), l(100), l(0)],
      [l(0), l(0), l(0)],
    ]);
  });
});

describe('layout specs', () => {
  it('refuses unknown layouts and bad parameters, naming the file and field', () => {
    expect(() => layoutFor({ name: 'deepcor', version: 1, params: {} }, 'm.json')).toThrow(
      'm.json: layout: unknown layout "deepcor v1"; expected "deepcorr" v1 or "timebins" v1',
    );
    expect(() => layoutFor({ name: 'deepcorr', version: 2, params: { length: 3 } }, 'm.json')).toThrow(/unknown layout "deepcorr v2"/);
    expect(() => layoutFor({ name: 'deepcorr', version: 1, params: { length: 0 } }, 'm.json')).toThrow(
      'm.json: layout.params.length: expected a positive integer, got 0',
    );
    expect(() => layoutFor({ name: 'timebins', version: 1, params: { bins: 4 } }, 'm.json')).toThrow(
      'm.json: layout.params.width: expected a number of seconds > 0, got undefined',
    );
  });
});

describe('.npy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssbench-npy-'));

  it('round-trips float32 arrays with their shape, header padded to 64 bytes', () => {
    const data = Float32Array.from([1, -2.5, 3.25, 0, 7, 8]);
    const bytes = npyBytes(data, [2, 3]);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    expect((10 + bytes.readUInt16LE(8)) % 64).toBe(0);
    expect(bytes.toString('latin1', 10, 10 + bytes.readUInt16LE(8))).toContain("'shape': (2, 3)");
    const file = join(dir, 'a.npy');
    writeFileSync(file, bytes);
    const back = readNpy(file);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    writeFileSync(join(dir, 'v.npy'), npyBytes(Float32Array.from([5]), [1]));
    expect(readNpy(join(dir, 'v.npy')).shape).toEqual([1]);
  });

  it('refuses other files with what was wrong', () => {
    writeFileSync(join(dir, 'bad.npy'), 'hello');
    expect(() => readNpy(join(dir, 'bad.npy'))).toThrow(/bad\.npy: not a \.npy file \(bad magic at byte 0\)/);
    const full = npyBytes(Float32Array.from([1, 2, 3, 4]), [4]);
    const short = full.subarray(0, 10 + full.readUInt16LE(8) + 8); // header, then 2 of 4 values
    writeFileSync(join(dir, 'short.npy'), short);
    expect(() => readNpy(join(dir, 'short.npy'))).toThrow(/short\.npy: shape \(4\) needs 16 bytes of data, the file has 8/);
  });
});
