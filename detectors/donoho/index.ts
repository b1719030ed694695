/**
 * Donoho, Flesia, Shankar, Paxson, Coit & Staniford (RAID 2002): multiscale detection of
 * jittered relays. A relay that holds each keystroke for at most Δ can only move
 * keystrokes across the boundaries of a time span by Δ, so at spans much longer than Δ
 * the keystroke counts of the two connections vary together whatever the jitter; chaff,
 * being independent of the user, adds variation that does not. Counts per bin are
 * Haar-transformed and the two connections' coefficients correlated scale by scale; the
 * score is the mean correlation over the scales of at least c·Δ. See README.md for what
 * is read in the paper and what is reconstructed.
 */
import { type ScaleCorrelations, binCounts, haarScaleCorrelations, scaleCorrelations } from '../../src/analysis/wavelet.js';
import { DIR_FWD, type FlowPair, payloadTimes } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  maxDelay: {
    type: 'number',
    default: 0.5,
    min: 0,
    unit: 's',
    description: 'Δ: the longest time the relay may hold a keystroke (the attacker\'s maximum tolerable delay)',
  },
  scaleFactor: {
    type: 'number',
    default: 4,
    min: 0,
    description: 'c: only scales (time spans of a coefficient) of at least c·Δ enter the score',
  },
  binWidth: {
    type: 'number',
    default: 0.0625,
    min: 1e-6,
    unit: 's',
    description: 'base bin of the keystroke counts; scales are binWidth·2^j',
  },
  minCoefficients: {
    type: 'integer',
    default: 8,
    min: 2,
    description: 'a scale enters the score only with at least this many coefficients in the common window (coarser ones are too few to correlate)',
  },
  coefficients: {
    type: 'enum',
    values: ['detail', 'smooth'],
    default: 'detail',
    description: 'correlate the Haar detail coefficients (count differences) or the smooth ones (counts per span)',
  },
} as const;

export type Coefficients = 'detail' | 'smooth';

export interface DonohoParams {
  maxDelay: number;
  scaleFactor: number;
  binWidth: number;
  minCoefficients: number;
  coefficients: Coefficients;
}

/** Score of a pair with nothing to correlate: the lowest a correlation can be. */
export const NO_CORRELATION = -1;

// Scratch grids reused from pair to pair (scoring is synchronous): a pair costs no
// allocation beyond its two keystroke arrays once the grids have grown to the longest window.
let gridA = new Float64Array(1024);
let gridB = new Float64Array(1024);
const stats: ScaleCorrelations = scaleCorrelations(48);

/**
 * The window both connections are observed in: from the later first packet to the
 * earlier last packet, any direction. Keystrokes outside it have no counterpart to be
 * compared with. Empty (from ≥ to) when either flow is empty or they do not overlap.
 */
export function commonWindow(pair: FlowPair): { from: number; to: number } {
  const a = pair.incoming.t;
  const b = pair.outgoing.t;
  if (a.length === 0 || b.length === 0) return { from: 0, to: 0 };
  return { from: Math.max(a[0], b[0]), to: Math.min(a[a.length - 1], b[b.length - 1]) };
}

/**
 * Per-scale correlations of the keystroke counts of the two connections over their
 * common window, into `out` (level j: scale binWidth·2^j). Null when a connection has no
 * keystroke in the window or the window holds fewer than two bins.
 */
export function keystrokeScaleCorrelations(pair: FlowPair, binWidth: number, out: ScaleCorrelations = stats): ScaleCorrelations | null {
  const { from, to } = commonWindow(pair);
  const n = Math.floor((to - from) / binWidth);
  if (!(n >= 2)) return null;
  if (gridA.length < n) {
    gridA = new Float64Array(n);
    gridB = new Float64Array(n);
  }
  binCounts(payloadTimes(pair.incoming, DIR_FWD), from, binWidth, n, gridA);
  binCounts(payloadTimes(pair.outgoing, DIR_FWD), from, binWidth, n, gridB);
  let ka = 0;
  let kb = 0;
  for (let i = 0; i < n; i++) {
    ka += gridA[i];
    kb += gridB[i];
  }
  if (ka === 0 || kb === 0) return null;
  return haarScaleCorrelations(gridA, gridB, n, out);
}

/**
 * Mean correlation over the scales binWidth·2^j ≥ c·Δ that have at least minCoefficients
 * coefficients. A scale at which one stream's coefficients carry no energy (no variation
 * to share) counts as 0. NO_CORRELATION when no scale qualifies or a side is silent.
 */
export function donohoScore(pair: FlowPair, p: DonohoParams): number {
  const s = keystrokeScaleCorrelations(pair, p.binWidth);
  if (!s) return NO_CORRELATION;
  const minScale = p.scaleFactor * p.maxDelay * (1 - 1e-9); // 0.0625·2^5 must count as 4·0.5
  const values = p.coefficients === 'smooth' ? s.smooth : s.detail;
  let sum = 0;
  let used = 0;
  for (let j = 0; j < s.levels; j++) {
    if (p.binWidth * 2 ** (j + 1) < minScale || s.count[j] < p.minCoefficients) continue;
    const r = values[j];
    sum += Number.isNaN(r) ? 0 : r;
    used++;
  }
  return used ? sum / used : NO_CORRELATION;
}

export default defineDetector({
  name: 'donoho',
  description: 'Haar-wavelet correlation of keystroke counts at scales well above the maximum tolerable delay',
  citation:
    'D. L. Donoho, A. G. Flesia, U. Shankar, V. Paxson, J. Coit, S. Staniford. Multiscale stepping-stone detection: detecting pairs of jittered interactive streams by exploiting maximum tolerable delay. RAID 2002, LNCS 2516, pp. 17–35.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = donohoScore(pairs[k], p);
    return out;
  },
});
