/**
 * Feature layouts: how a pair becomes the fixed-size input of a learned detector. A
 * model's manifest names its layout and parameters, so a model trained elsewhere states
 * what it expects; the version changes whenever the values would.
 *
 * Both layouts give 8 rows in (incoming, outgoing) pairs of the same feature, so a
 * convolution of height 2 and stride 2 sees a connection beside its candidate relay:
 * streams are the payload packets (pure ACKs excluded) of
 *   s0 incoming forward, s1 outgoing forward, s2 incoming backward, s3 outgoing backward.
 */
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair } from './flow.js';
import { UserError } from './errors.js';

export interface LayoutSpec {
  name: string;
  version: number;
  params: Record<string, number>;
}

export interface Layout {
  spec: LayoutSpec;
  rows: number;
  columns: number;
  /** Writes the features of `pair` as rows × columns float32 values at `out[offset…]`. */
  write(pair: FlowPair, out: Float32Array, offset: number): void;
}

/** log(IPD + 12 ms): the author's transform of Clausen et al.; keeps zero gaps finite. */
export const IPD_OFFSET = 0.012;
/** Padding below any real value: ln(0.002) < ln(0 + 0.012) and −1 < ln(any size ≥ 1). */
export const IPD_PAD = Math.log(0.002);
export const SIZE_PAD = -1;

const STREAMS: readonly ['incoming' | 'outgoing', number][] = [
  ['incoming', DIR_FWD],
  ['outgoing', DIR_FWD],
  ['incoming', DIR_BWD],
  ['outgoing', DIR_BWD],
];

/**
 * DeepCorr-style rows (Nasr et al. 2018), v1: rows 0-3 the first L inter-packet delays of
 * s0-s3 as ln(ipd + 0.012), rows 4-7 the first L payload sizes as ln(size); missing
 * values are padded (IPD_PAD, SIZE_PAD).
 */
function deepcorr(length: number): Layout['write'] {
  return (pair, out, offset) => {
    for (let s = 0; s < 4; s++) {
      const [side, dir] = STREAMS[s];
      const f: Flow = pair[side];
      const ipdRow = offset + s * length;
      const sizeRow = offset + (4 + s) * length;
      let k = 0; // payload packets of this stream seen so far
      let prev = 0;
      for (let i = 0; i < f.t.length && k <= length; i++) {
        if (f.dir[i] !== dir || f.size[i] === 0) continue;
        if (k < length) out[sizeRow + k] = Math.log(f.size[i]);
        if (k > 0) out[ipdRow + k - 1] = Math.log(f.t[i] - prev + IPD_OFFSET);
        prev = f.t[i];
        k++;
      }
      for (let j = Math.max(0, k - 1); j < length; j++) out[ipdRow + j] = IPD_PAD;
      for (let j = k; j < length; j++) out[sizeRow + j] = SIZE_PAD;
    }
  };
}

/**
 * Time bins, v1: B bins of `width` seconds from the pair's first packet; rows 0-3
 * ln(1 + packets) of s0-s3 per bin, rows 4-7 ln(1 + payload bytes).
 */
function timebins(bins: number, width: number): Layout['write'] {
  return (pair, out, offset) => {
    out.fill(0, offset, offset + 8 * bins);
    const a = pair.incoming.t;
    const b = pair.outgoing.t;
    const origin = Math.min(a.length ? a[0] : Infinity, b.length ? b[0] : Infinity);
    for (let s = 0; s < 4; s++) {
      const [side, dir] = STREAMS[s];
      const f = pair[side];
      for (let i = 0; i < f.t.length; i++) {
        if (f.dir[i] !== dir || f.size[i] === 0) continue;
        const bin = Math.floor((f.t[i] - origin) / width);
        if (bin >= bins) break;
        out[offset + s * bins + bin] += 1;
        out[offset + (4 + s) * bins + bin] += f.size[i];
      }
    }
    for (let j = offset; j < offset + 8 * bins; j++) out[j] = Math.log1p(out[j]);
  };
}

function positiveInt(spec: LayoutSpec, key: string, where: string): number {
  const v = spec.params[key];
  if (!Number.isInteger(v) || v < 1) throw new UserError(`${where}: layout.params.${key}: expected a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** The layout a spec names; `where` names the file in errors. */
export function layoutFor(spec: LayoutSpec, where: string): Layout {
  if (spec.name === 'deepcorr' && spec.version === 1) {
    const length = positiveInt(spec, 'length', where);
    return { spec, rows: 8, columns: length, write: deepcorr(length) };
  }
  if (spec.name === 'timebins' && spec.version === 1) {
    const bins = positiveInt(spec, 'bins', where);
    const width = spec.params.width;
    if (!(typeof width === 'number' && width > 0)) {
      throw new UserError(`${where}: layout.params.width: expected a number of seconds > 0, got ${JSON.stringify(width)}`);
    }
    return { spec, rows: 8, columns: bins, write: timebins(bins, width) };
  }
  throw new UserError(
    `${where}: layout: unknown layout ${JSON.stringify(`${spec.name} v${spec.version}`)}; expected "deepcorr" v1 or "timebins" v1`,
  );
}

/** Features of a batch of pairs as one [n, rows, columns] float32 array. */
export function extract(layout: Layout, pairs: readonly FlowPair[]): Float32Array {
  const per = layout.rows * layout.columns;
  const out = new Float32Array(pairs.length * per);
  pairs.forEach((p, i) => layout.write(p, out, i * per));
  return out;
}
