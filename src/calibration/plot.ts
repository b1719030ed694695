/**
 * Histograms of one feature, the real capture's beside the synthetic source's, as a
 * Vega-Lite specification rendered to SVG by src/report/plots.ts. The bins are computed
 * here, on the typed arrays, and shared by both panels, so the SVG holds a few dozen bars
 * rather than every value, and equal bars mean equal shares.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FeatureSpec } from './features.js';
import { CONFIG } from '../report/plots.js';

/** The first two colours of the report's palette (Okabe & Ito). */
const COLORS = ['#0072B2', '#D55E00'];

export interface Bin {
  lo: number;
  hi: number;
  /** Share of the sample in [lo, hi) (the last bin is closed). */
  share: number;
}

/**
 * Shares of `sorted` in `bins` equal bins between lo and hi (in log10 space when `log`;
 * values at or below 0 then go into the first bin). Values outside [lo, hi] go to the
 * end bins, so every value is counted and the shares sum to 1.
 */
export function histogram(sorted: Float64Array, lo: number, hi: number, bins: number, log: boolean): Bin[] {
  const a = log ? Math.log10(lo) : lo;
  const b = log ? Math.log10(hi) : hi;
  const width = b > a ? (b - a) / bins : 1;
  const counts = new Float64Array(bins);
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i];
    const x = log ? (v > 0 ? Math.log10(v) : -Infinity) : v;
    let k = Math.floor((x - a) / width);
    if (!(k >= 0)) k = 0;
    if (k >= bins) k = bins - 1;
    counts[k]++;
  }
  const n = Math.max(1, sorted.length);
  const out: Bin[] = [];
  for (let k = 0; k < bins; k++) {
    const l = a + k * width;
    const h = a + (k + 1) * width;
    out.push({ lo: log ? 10 ** l : l, hi: log ? 10 ** h : h, share: counts[k] / n });
  }
  return out;
}

/** The range both panels share: the 0.5th to the 99.5th percentile of both samples together. */
export function sharedRange(a: Float64Array, b: Float64Array, log: boolean): [number, number] {
  const pick = (s: Float64Array, q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);
  const floor = (s: Float64Array) => {
    if (!log) return pick(s, 0.005);
    // log axes start at the smallest positive value near the low tail.
    let i = Math.floor(0.005 * s.length);
    while (i < s.length && !(s[i] > 0)) i++;
    return i < s.length ? s[i] : NaN;
  };
  const lo = Math.min(...[floor(a), floor(b)].filter((v) => !Number.isNaN(v)));
  const hi = Math.max(...[pick(a, 0.995), pick(b, 0.995)].filter((v) => !Number.isNaN(v)));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return log ? [1e-3, 1] : [0, 1];
  if (hi <= lo) return log ? [lo / 2, lo * 2] : [lo - 0.5, lo + 0.5];
  return [lo, hi];
}

/**
 * Two histograms side by side: the real sample (left) and the synthetic one (right), on
 * one x scale, shares on y. `realSorted` and `synthSorted` are sorted ascending.
 */
export function histogramSpec(args: {
  feature: FeatureSpec;
  realSorted: Float64Array;
  synthSorted: Float64Array;
  ks: number;
  realName?: string;
  synthName?: string;
  bins?: number;
}): TopLevelSpec {
  const { feature: f, realSorted, synthSorted } = args;
  const bins = args.bins ?? 40;
  const [lo, hi] = sharedRange(realSorted, synthSorted, f.log);
  const names = [args.realName ?? 'real capture', args.synthName ?? 'synthetic'];
  const rows: Record<string, unknown>[] = [];
  for (const [k, s] of [realSorted, synthSorted].entries()) {
    const label = `${names[k]} (n = ${s.length})`;
    for (const b of histogram(s, lo, hi, bins, f.log)) rows.push({ sample: label, order: k, lo: b.lo, hi: b.hi, share: b.share });
  }
  const x = {
    field: 'lo',
    type: 'quantitative' as const,
    scale: f.log ? { type: 'log' as const, domain: [lo, hi], nice: false } : { domain: [lo, hi], nice: false, zero: false },
    axis: { title: `${f.id} (${f.unit}${f.log ? ', log scale' : ''})`, format: f.log ? '~g' : '~r', tickCount: 6 },
  };
  const sampleLabels = [...new Set(rows.map((r) => r.sample as string))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: f.label,
      subtitle: `Kolmogorov–Smirnov distance ${Number.isNaN(args.ks) ? 'n/a' : args.ks.toFixed(3)}; values beyond the 0.5–99.5th percentiles in the end bins`,
    },
    data: { values: rows },
    facet: { column: { field: 'sample', type: 'nominal', sort: sampleLabels, title: null } },
    spec: {
      width: 280,
      height: 200,
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x,
        x2: { field: 'hi' },
        y: { field: 'share', type: 'quantitative', axis: { title: 'share of the sample', format: '.0%' } },
        y2: { datum: 0 },
        color: { field: 'sample', type: 'nominal', scale: { domain: sampleLabels, range: COLORS }, legend: null },
      },
    },
    resolve: { scale: { y: 'shared' } },
  } as TopLevelSpec;
}
