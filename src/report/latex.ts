/**
 * LaTeX tables in booktabs style: one table per metric, detectors as rows, each
 * scenario's levels as a group of columns, the best value of each column in bold.
 * Scenarios of a dataset share a table while it stays narrow enough for a one-column
 * paper (MAX_WIDTH); a wider scenario gets a table of its own. The file is a fragment:
 * \input it in a document that loads booktabs; nothing else is needed.
 */
import { metrics } from '../tables.js';
import { type DatasetView, type Entry, type MetricTable, type ReportModel, type ScenarioView, groupTitle, metricTable } from './model.js';

const SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  _: '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
  // OT1 fonts print < > | as other glyphs.
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

/** Text as LaTeX prints it literally. */
export function escapeLatex(s: string): string {
  return s.replace(/[\\{}$&#%_^~<>|]/g, (ch) => SPECIAL[ch]);
}

/** A label key LaTeX accepts anywhere: letters, digits, "." and "-". */
function labelKey(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-');
}

const f3 = (v: number) => v.toFixed(3);

function entry(e: Entry | null, ci: boolean): string {
  if (!e) return '';
  if (e.error) return '--';
  if (e.value === null) return '';
  let s = f3(e.value);
  if (e.best) s = `\\textbf{${s}}`;
  if (!e.resolvable) s += '\\textsuperscript{\\dag}';
  if (ci && e.ci) {
    // Distances to the interval's ends, in the table's precision: the interval is asymmetric in general.
    const up = Math.max(0, e.ci[1] - e.value);
    const down = Math.max(0, e.value - e.ci[0]);
    s += `$^{+${f3(up)}}_{-${f3(down)}}$`;
  }
  return s;
}

/**
 * Width budget of a table in value columns: eight columns of "0.000" and the detector
 * names fit the text width of article or LNCS (about 345 pt); an entry with its interval
 * takes about two.
 */
const MAX_WIDTH = 8;

/** Consecutive scenarios grouped into tables within the width budget. */
function tableGroups(scenarios: ScenarioView[], ci: boolean): ScenarioView[][] {
  const per = ci ? 2 : 1;
  const out: ScenarioView[][] = [];
  let width = Infinity;
  for (const v of scenarios) {
    const w = v.levels.length * per;
    if (width + w > MAX_WIDTH) {
      out.push([]);
      width = 0;
    }
    out.at(-1)!.push(v);
    width += w;
  }
  return out;
}

function table(model: ReportModel, dataset: string, t: MetricTable, ci: boolean): string {
  const s = model.summary;
  const cols = t.heads.length;
  const first = t.groups[0]?.view;
  const scenarios = t.groups.map((g) => g.view.scenario);
  const notes = [`The best value in each column is in bold.`];
  if (ci) {
    notes.push(
      `Superscripts and subscripts: distance to the upper and lower end of the ${Math.round(s.confidence * 100)}\\,\\% bootstrap interval (${s.bootstrap} resamples).`,
    );
  }
  if (t.rows.some((r) => r.entries.some((e) => e && !e.error && !e.resolvable))) {
    notes.push('\\dag: the target FPR is below one over the number of non-relayed pairs; the threshold is then the highest score of a non-relayed pair.');
  }
  if (t.rows.some((r) => r.entries.some((e) => e?.error))) notes.push('--: the detector failed on this setting.');
  const names = scenarios.map(escapeLatex);
  const under = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const caption =
    `${escapeLatex(t.metric.title)} on ${escapeLatex(dataset)}, scenario${names.length > 1 ? 's' : ''} ${under}` +
    (first ? ` (${first.positives} relayed and ${first.negatives} non-relayed pairs per setting)` : '') +
    `. ${notes.join(' ')}`;
  const lines = [
    `% ${t.metric.title} on ${dataset}, ${scenarios.join(', ')}`,
    '\\begin{table}[htbp]',
    '  \\centering',
    `  \\caption{${caption}}`,
    `  \\label{tab:${[s.name, dataset, scenarios.join('-'), t.metric.id.replace('@', '-')].map(labelKey).join(':')}}`,
    // Intervals as super- and subscripts need room between rows, and the table is wide: set
    // smaller, closer columns (all local to the table environment).
    ...(ci ? ['  \\small', '  \\setlength{\\tabcolsep}{4pt}', '  \\renewcommand{\\arraystretch}{1.4}'] : []),
    `  \\begin{tabular}{@{}l*{${cols}}{c}@{}}`,
    '    \\toprule',
  ];
  const groupCells: string[] = [];
  const rules: string[] = [];
  let col = 2;
  for (const g of t.groups) {
    groupCells.push(`\\multicolumn{${g.span}}{c}{${escapeLatex(groupTitle(g.view))}}`);
    rules.push(`\\cmidrule(lr){${col}-${col + g.span - 1}}`);
    col += g.span;
  }
  lines.push(`    & ${groupCells.join(' & ')} \\\\`);
  lines.push(`    ${rules.join(' ')}`);
  lines.push(`    Detector & ${t.heads.map(escapeLatex).join(' & ')} \\\\`);
  lines.push('    \\midrule');
  for (const r of t.rows) lines.push(`    ${escapeLatex(r.detector)} & ${r.entries.map((e) => entry(e, ci)).join(' & ')} \\\\`);
  lines.push('    \\bottomrule', '  \\end{tabular}', '\\end{table}', '');
  return lines.join('\n');
}

export function latexTables(model: ReportModel, opts: { ci?: boolean } = {}): string {
  const s = model.summary;
  const out = [
    `% ${s.name}: ROC AUC and detection rates at FPR ${s.fpr.join(', ')}; seed ${s.seed}.`,
    '% \\input{} in a document whose preamble has \\usepackage{booktabs}. Scenarios share a table while',
    '% it stays within a column\'s width; one still too wide can be set \\small or scaled with \\resizebox.',
    '',
  ];
  const ci = Boolean(opts.ci);
  for (const d of model.datasets) {
    for (const group of tableGroups(d.scenarios, ci)) {
      const part: DatasetView = { name: d.name, scenarios: group };
      for (const m of metrics(s)) out.push(table(model, d.name, metricTable(model, part, m), ci));
    }
  }
  return out.join('\n');
}
