/**
 * The shape every report output shares: per dataset, its scenarios; per scenario, its
 * levels in config order, what tells them apart (the swept parameter) and the cells.
 */
import type { ParamSpecs, ParamValue } from '../params.js';
import { builtinNames, loadPlugin, resolvePlugin } from '../registry.js';
import type { Cell, Summary } from '../summary.js';
import type { Metric } from '../tables.js';

/** The parameter a scenario sweeps, as the plots' x axis and the tables' column group name it. */
export interface SweepAxis {
  /** Setting key, "<perturbation>.<param>" (with "#n" on a repeated perturbation). */
  key: string;
  perturbation: string;
  param: string;
  unit?: string;
  description?: string;
}

export interface ScenarioView {
  dataset: string;
  scenario: string;
  levels: string[];
  /** The swept parameter, when exactly one parameter differs between the levels. */
  axis: SweepAxis | null;
  /** The axis parameter's value per level, when it is numeric; otherwise levels are categories. */
  x: number[] | null;
  /** Short value per level for column headers: the axis value, or the whole level label. */
  heads: string[];
  positives: number;
  negatives: number;
  cell: (detector: string, level: string) => Cell | undefined;
}

export interface DatasetView {
  name: string;
  scenarios: ScenarioView[];
}

export interface ReportModel {
  summary: Summary;
  /** Every detector in the order the config lists them: rows of tables, colours of plots. */
  detectors: string[];
  datasets: DatasetView[];
}

const SEP = '\u0000';

/** The setting keys whose value differs between the cells of one scenario. */
function varyingKeys(cells: Cell[]): string[] {
  const keys = new Set(cells.flatMap((c) => Object.keys(c.setting)));
  return [...keys].filter((k) => new Set(cells.map((c) => JSON.stringify(c.setting[k] ?? null))).size > 1);
}

/** "chaff#2.ratio" → perturbation "chaff", param "ratio". A perturbation named by a path may hold dots; a parameter never does. */
export function splitKey(key: string): { perturbation: string; param: string } {
  const dot = key.lastIndexOf('.');
  const head = dot < 0 ? key : key.slice(0, dot);
  return { perturbation: head.replace(/#\d+$/, ''), param: dot < 0 ? key : key.slice(dot + 1) };
}

/**
 * Parameter declarations of the built-in perturbations, for units and descriptions. A
 * perturbation loaded from a path is not looked up: the results folder does not say
 * where its config was, and a report must not fail for want of a unit.
 */
async function perturbationSpecs(names: string[]): Promise<Map<string, ParamSpecs>> {
  const out = new Map<string, ParamSpecs>();
  const builtin = new Set(builtinNames('perturbation'));
  for (const name of new Set(names)) {
    if (!builtin.has(name)) continue;
    try {
      out.set(name, (await loadPlugin('perturbation', resolvePlugin('perturbation', name, process.cwd()))).params);
    } catch {
      // without the declaration the axis is titled without its unit
    }
  }
  return out;
}

export async function buildModel(summary: Summary): Promise<ReportModel> {
  const detectors = [...new Set(summary.cells.map((c) => c.detector))];
  const byDataset = new Map<string, Map<string, Cell[]>>();
  for (const c of summary.cells) {
    if (!byDataset.has(c.dataset)) byDataset.set(c.dataset, new Map());
    const scenarios = byDataset.get(c.dataset)!;
    if (!scenarios.has(c.scenario)) scenarios.set(c.scenario, []);
    scenarios.get(c.scenario)!.push(c);
  }
  const axes = new Map<string, SweepAxis | null>();
  for (const scenarios of byDataset.values()) {
    for (const [name, cells] of scenarios) {
      if (axes.has(name)) continue;
      const keys = varyingKeys(cells);
      axes.set(name, keys.length === 1 ? { key: keys[0], ...splitKey(keys[0]) } : null);
    }
  }
  const specs = await perturbationSpecs([...axes.values()].flatMap((a) => (a ? [a.perturbation] : [])));
  for (const a of axes.values()) {
    const spec = a && specs.get(a.perturbation)?.[a.param];
    if (!a || !spec) continue;
    a.description = spec.description;
    if ('unit' in spec && spec.unit) a.unit = spec.unit;
  }

  const datasets: DatasetView[] = [];
  for (const [dataset, scenarios] of byDataset) {
    const views: ScenarioView[] = [];
    for (const [scenario, cells] of scenarios) {
      const levels = [...new Set(cells.map((c) => c.level))];
      const index = new Map(cells.map((c) => [`${c.detector}${SEP}${c.level}`, c]));
      const first = new Map<string, Cell>();
      for (const c of cells) if (!first.has(c.level)) first.set(c.level, c);
      const axis = axes.get(scenario) ?? null;
      const values: (ParamValue | undefined)[] = levels.map((l) => (axis ? first.get(l)!.setting[axis.key] : undefined));
      const numeric = axis !== null && values.every((v) => typeof v === 'number' && Number.isFinite(v));
      views.push({
        dataset,
        scenario,
        levels,
        axis,
        x: numeric ? (values as number[]) : null,
        heads: axis ? values.map((v) => String(v)) : levels,
        positives: cells[0].positives,
        negatives: cells[0].negatives,
        cell: (d, l) => index.get(`${d}${SEP}${l}`),
      });
    }
    datasets.push({ name: dataset, scenarios: views });
  }
  return { summary, detectors, datasets };
}

/** x-axis title: "chaff ratio", "delay max (s)". */
export function axisTitle(a: SweepAxis): string {
  return `${a.perturbation} ${a.param}${a.unit ? ` (${a.unit})` : ''}`;
}

/** Column-group title in tables: "chaff (ratio)", "delay (max, s)". */
export function groupTitle(v: ScenarioView): string {
  if (!v.axis) return v.scenario;
  return `${v.scenario} (${v.axis.param}${v.axis.unit ? `, ${v.axis.unit}` : ''})`;
}

/** Which entries of a column are the best (the highest), compared as displayed, so values that look equal are bolded alike. */
export function bestOf(values: (number | null)[], digits = 3): boolean[] {
  const shown = values.map((v) => (v === null || Number.isNaN(v) ? null : Number(v.toFixed(digits))));
  const finite = shown.filter((v): v is number => v !== null);
  if (!finite.length) return values.map(() => false);
  const best = Math.max(...finite);
  return shown.map((v) => v !== null && v === best);
}

export interface Entry {
  value: number | null;
  ci: [number, number] | null;
  /** False where the FPR is finer than 1/negatives (marked †). */
  resolvable: boolean;
  /** The detector failed on this setting: its message. */
  error?: string;
  best: boolean;
}

export interface MetricTable {
  metric: Metric;
  /** Column groups, one per scenario, each spanning its levels. */
  groups: { view: ScenarioView; span: number }[];
  heads: string[];
  rows: { detector: string; entries: (Entry | null)[] }[];
}

/** One metric of one dataset: a row per detector, a column per (scenario, level), best per column marked. */
export function metricTable(model: ReportModel, dataset: DatasetView, metric: Metric): MetricTable {
  const columns = dataset.scenarios.flatMap((view) => view.levels.map((level, i) => ({ view, level, head: view.heads[i] })));
  const rows = model.detectors.map((detector) => ({
    detector,
    entries: columns.map(({ view, level }): Entry | null => {
      const c = view.cell(detector, level);
      if (!c) return null;
      if (c.error) return { value: null, ci: null, resolvable: true, error: c.error, best: false };
      const v = metric.value(c);
      return { value: v === null || Number.isNaN(v) ? null : v, ci: metric.ci(c), resolvable: metric.resolvable(c), best: false };
    }),
  }));
  columns.forEach((_, j) => {
    const best = bestOf(rows.map((r) => r.entries[j]?.value ?? null));
    rows.forEach((r, i) => {
      const e = r.entries[j];
      if (e) e.best = best[i];
    });
  });
  return {
    metric,
    groups: dataset.scenarios.map((view) => ({ view, span: view.levels.length })),
    heads: columns.map((c) => c.head),
    rows,
  };
}
