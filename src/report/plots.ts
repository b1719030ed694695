/**
 * Plots as Vega-Lite specifications, rendered to SVG in Node by Vega's headless view (no
 * browser, no canvas). Every plot of a report shares one colour and dash per detector, so
 * a detector looks the same in every figure, and in print without colour.
 */
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import type { Metric } from '../tables.js';
import { type ScenarioView, axisTitle } from './model.js';
import type { PlotPoint } from './roc.js';
import { useTextWidths } from './textwidth.js';

/** Okabe & Ito's palette, told apart with the common colour-vision deficiencies; yellow last, as it is faint on white. */
const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
/** More detectors than that: Tableau's 20, in pairs of a dark and a light shade. */
const TABLEAU20 = [
  '#4c78a8', '#9ecae9', '#f58518', '#ffbf79', '#54a24b', '#88d27a', '#b79a20', '#f2cf5b', '#439894', '#83bcb6',
  '#e45756', '#ff9d98', '#79706e', '#bab0ac', '#d67195', '#fcbfd2', '#b279a2', '#d6a5c9', '#9e765f', '#d8b5a5',
];
const DASHES = [[1, 0], [7, 3], [2, 2], [9, 3, 2, 3], [4, 4], [12, 4], [3, 2, 1, 2], [9, 2, 2, 2, 2, 2]];

export interface Style {
  detectors: string[];
  colors: string[];
  dashes: number[][];
}

export function style(detectors: string[]): Style {
  const palette = detectors.length <= OKABE_ITO.length ? OKABE_ITO : TABLEAU20;
  return {
    detectors,
    colors: detectors.map((_, i) => palette[i % palette.length]),
    dashes: detectors.map((_, i) => DASHES[i % DASHES.length]),
  };
}

/** The look shared by every plot ssbench draws (report and calibration). */
export const CONFIG = {
  background: 'white',
  padding: 8,
  font: 'Helvetica, Arial, "DejaVu Sans", sans-serif',
  view: { stroke: '#bbb' },
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    titleFontWeight: 'normal' as const,
    labelColor: '#222',
    titleColor: '#222',
    domainColor: '#666',
    tickColor: '#666',
    gridColor: '#ececec',
  },
  header: { labelFontSize: 13, titleFontSize: 13 },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 'normal' as const,
    symbolType: 'stroke',
    symbolStrokeWidth: 2.5,
    symbolSize: 400,
    symbolOpacity: 1,
    labelLimit: 260,
  },
  title: { fontSize: 14, fontWeight: 'bold' as const, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start' as const, offset: 10 },
};

/** Colour and dash by detector, one legend for both. */
function detectorEncoding(s: Style) {
  return {
    color: { field: 'detector', type: 'nominal' as const, scale: { domain: s.detectors, range: s.colors }, legend: { title: 'Detector' } },
    strokeDash: { field: 'detector', type: 'nominal' as const, scale: { domain: s.detectors, range: s.dashes }, legend: { title: 'Detector' } },
  };
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** "10⁻³": how the decades of a log FPR axis are labelled in print. */
export function decadeLabel(k: number): string {
  return k === 0 ? '1' : `10${[...String(k)].map((ch) => SUPERSCRIPT[ch]).join('')}`;
}

/** Lower end of the FPR axis: 1e-4, or the smallest FPR the negatives can resolve when that is coarser. */
export function rocMinFpr(negatives: number, floor = 1e-4): number {
  return Math.max(floor, 1 / Math.max(1, negatives));
}

export interface RocSeries {
  detector: string;
  points: PlotPoint[];
}

export function rocSpec(args: {
  title: string;
  subtitle: string | string[];
  series: RocSeries[];
  minFpr: number;
  targets: number[];
  style: Style;
}): TopLevelSpec {
  const { minFpr } = args;
  const decades: number[] = [];
  for (let k = Math.ceil(Math.log10(minFpr) - 1e-9); k <= 0; k++) decades.push(k);
  // The label chain compares exponents, not floats, so 1e-3 is "10⁻³" however it was rounded.
  const labelExpr = decades.reduceRight(
    (rest, k) => `round(log(datum.value) / LN10) == ${k} ? '${decadeLabel(k)}' : ${rest}`,
    "''",
  );
  const x = {
    field: 'fpr',
    type: 'quantitative' as const,
    // A few pixels of padding keep a curve that runs along an edge (TPR 1, FPR at the floor) visible off the frame.
    scale: { type: 'log' as const, domain: [minFpr, 1], nice: false, padding: 4 },
    axis: { title: 'False-positive rate (share of non-relayed pairs, log scale)', values: decades.map((k) => 10 ** k), labelExpr },
  };
  const y = {
    field: 'tpr',
    type: 'quantitative' as const,
    scale: { domain: [0, 1], nice: false, padding: 4 },
    axis: { title: 'Detection rate (share of relayed pairs)', values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
  };
  const curves = args.series.flatMap((s) => s.points.map((p, i) => ({ detector: s.detector, fpr: p.fpr, tpr: p.tpr, i })));
  // A detector that guesses: TPR = FPR, a curve on a log axis.
  const chance = Array.from({ length: 61 }, (_, i) => {
    const f = minFpr * Math.pow(1 / minFpr, i / 60);
    return { fpr: f, tpr: f };
  });
  const targets = args.targets.filter((f) => f >= minFpr && f <= 1).map((f) => ({ fpr: f }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 300,
    height: 300,
    title: { text: args.title, subtitle: args.subtitle },
    layer: [
      { name: 'targets', data: { values: targets }, mark: { type: 'rule', color: '#999', strokeDash: [2, 3], strokeWidth: 1 }, encoding: { x } },
      { name: 'chance', data: { values: chance }, mark: { type: 'line', color: '#aaa', strokeDash: [5, 4], strokeWidth: 1 }, encoding: { x, y } },
      {
        name: 'curves',
        data: { values: curves },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        // Data order, not x order: a ROC curve has vertical runs at one FPR.
        encoding: { x, y, ...detectorEncoding(args.style), order: { field: 'i', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Detection rate at one FPR, or AUC, against the perturbation level of one scenario. */
export function levelSpec(args: { view: ScenarioView; metric: Metric; title: string; subtitle: string | string[]; style: Style }): TopLevelSpec {
  const { view: v, metric: m } = args;
  const rows: Record<string, unknown>[] = [];
  for (const d of args.style.detectors) {
    v.levels.forEach((l, i) => {
      const c = v.cell(d, l);
      const value = c && !c.error ? m.value(c) : null;
      if (c === undefined || value === null || Number.isNaN(value)) return;
      const ci = m.ci(c) ?? [value, value];
      rows.push({ detector: d, x: v.x ? v.x[i] : v.heads[i], value, lo: ci[0], hi: ci[1], resolvable: m.resolvable(c) });
    });
  }
  const isAuc = m.id === 'auc';
  const x = v.x
    ? { field: 'x', type: 'quantitative' as const, scale: { zero: false, nice: false, padding: 8 }, axis: { title: v.axis ? axisTitle(v.axis) : 'level' } }
    : {
        field: 'x',
        type: 'ordinal' as const,
        sort: v.heads,
        scale: { domain: v.heads },
        axis: { title: v.axis ? axisTitle(v.axis) : 'setting', labelAngle: v.heads.some((h) => h.length > 6) ? -30 : 0 },
      };
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    scale: { domain: [0, 1], nice: false, padding: 4 },
    axis: { title: isAuc ? 'ROC AUC' : 'Detection rate (share of relayed pairs)', values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
  };
  const enc = detectorEncoding(args.style);
  // Band and markers take their colour through fill and stroke on the same domain and range
  // as the lines' colour, so Vega-Lite merges every legend into one, drawn as strokes (see
  // CONFIG): a legend of the bands would show faint blobs with no dash.
  const fill = { field: 'detector', type: 'nominal' as const, scale: { domain: args.style.detectors, range: args.style.colors } };
  const layer: unknown[] = [
    { name: 'band', mark: { type: 'area', opacity: 0.14 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, fill } },
    { name: 'curves', mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, ...enc } },
    { name: 'points', transform: [{ filter: 'datum.resolvable' }], mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { x, y, fill } },
    // Hollow: the target FPR is finer than 1/negatives, so the rate is the one at 1/negatives.
    {
      name: 'unresolved',
      transform: [{ filter: '!datum.resolvable' }],
      mark: { type: 'point', filled: false, fill: 'white', size: 40, strokeWidth: 1.5, opacity: 1 },
      encoding: { x, y, stroke: { ...fill } },
    },
  ];
  if (isAuc) {
    layer.unshift({ name: 'chance', data: { values: [{ value: 0.5 }] }, mark: { type: 'rule', color: '#999', strokeDash: [5, 4], strokeWidth: 1 }, encoding: { y: { field: 'value', type: 'quantitative' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 340,
    height: 240,
    title: { text: args.title, subtitle: args.subtitle },
    data: { values: rows },
    layer,
  } as TopLevelSpec;
}

/**
 * Vega numbers clip paths by a counter that lives as long as the process, so the same plot
 * would get other ids after other plots. Numbered afresh per document, a report is the
 * same bytes however many plots came before.
 */
export function stableIds(svg: string): string {
  const ids = new Map<string, string>();
  const rename = (id: string) => {
    if (!ids.has(id)) ids.set(id, `clip${ids.size + 1}`);
    return ids.get(id)!;
  };
  return svg.replace(/(id="|url\(#)(clip\d+)(?=[")])/g, (_, head: string, id: string) => head + rename(id));
}

/** Renders a Vega-Lite spec to an SVG document, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  useTextWidths();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}
