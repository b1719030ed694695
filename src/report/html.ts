/**
 * index.html: a page that opens from disk with no server and no script: the run's
 * description, its reproducibility record, the tables, and the plots by relative path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metrics } from '../tables.js';
import type { Results } from './load.js';
import { type Entry, type ReportModel, groupTitle, metricTable } from './model.js';

export interface Figure {
  /** Path relative to the report folder. */
  file: string;
  kind: 'level' | 'roc';
  dataset: string;
  scenario: string;
  title: string;
  caption: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** An id for an anchor from any name. */
function anchor(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '-')).join('--');
}

const CSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f; margin: 0 auto; padding: 1.5em 2em 4em; max-width: 1400px; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { margin-top: 1.6em; }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
nav ul { columns: 2; max-width: 50em; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-variant-numeric: tabular-nums; }
table.booktabs { border-top: 2px solid #222; border-bottom: 2px solid #222; }
table.booktabs thead tr:last-child th { border-bottom: 1px solid #222; }
table.booktabs th.group { border-bottom: 1px solid #888; }
th, td { padding: 0.25em 0.7em; text-align: center; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td .ci { display: block; font-size: 0.78em; color: #777; white-space: nowrap; }
td.best .v { font-weight: 700; }
td.failed { color: #b00; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3em; }
table.facts th { text-align: left; font-weight: 600; padding-right: 1.5em; }
table.facts td { text-align: left; }
table.facts td:first-child { font-weight: 600; }
.figs { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { margin: 0; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; max-width: 34em; }
.note { color: #555; font-size: 0.9em; }
`;

function factRows(rows: [string, string][]): string {
  return rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('\n');
}

function params(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  return Object.entries(p as Record<string, unknown>)
    .map(([k, v]) => `<code>${esc(k)}=${esc(JSON.stringify(v))}</code>`)
    .join(' ');
}

function record(r: Results, link: (name: string) => string): string {
  const s = r.summary;
  const run = r.run ?? {};
  const cfg = r.config ?? {};
  const facts: [string, string][] = [];
  if (run.ssbench !== undefined) facts.push(['ssbench version', esc(run.ssbench)]);
  if (run.node !== undefined) facts.push(['Node.js', esc(run.node)]);
  if (run.workers !== undefined) facts.push(['worker threads', esc(run.workers)]);
  if (run.wall_seconds !== undefined) facts.push(['wall time', `${esc(run.wall_seconds)} s`]);
  if (run.finished !== undefined) facts.push(['finished', esc(run.finished)]);
  facts.push(['seed', esc(s.seed)]);
  facts.push(['target false-positive rates', esc(s.fpr.join(', '))]);
  facts.push(['confidence intervals', `${esc(Math.round(s.confidence * 100))}% percentile bootstrap over pairs, ${esc(s.bootstrap)} resamples`]);
  if (cfg.chunkSize !== undefined) facts.push(['chunk size', `${esc(cfg.chunkSize)} pairs`]);
  if (r.fingerprint) facts.push(['config fingerprint (sha256)', `<code>${esc(r.fingerprint)}</code>`]);
  const files = ['config.json', 'run.json', 'summary.json', 'scores.csv.gz', 'table.md', 'table.csv'].filter((f) => existsSync(join(r.dir, f)));
  facts.push(['files', files.map((f) => `<a href="${esc(link(f))}">${esc(f)}</a>`).join(' · ') + ' · <a href="tables.tex">tables.tex</a>']);

  const out = [
    '<section id="record">',
    '<h2>Reproducibility record</h2>',
    '<p class="note">The same config and seed give byte-identical scores and tables, whatever the number of workers: ',
    '<code>ssbench bench config.json --out DIR</code> reruns this benchmark.</p>',
    `<table class="facts">\n${factRows(facts)}\n</table>`,
  ];
  const datasets = Array.isArray(cfg.datasets) ? (cfg.datasets as Record<string, unknown>[]) : [];
  if (datasets.length) {
    out.push('<h3>Datasets</h3>', '<table class="facts"><thead><tr><th>name</th><th>source</th><th>relayed</th><th>non-relayed</th><th>parameters</th></tr></thead><tbody>');
    for (const d of datasets) {
      out.push(`<tr><td>${esc(d.name)}</td><td>${esc(d.source)}</td><td>${esc(d.positives)}</td><td>${esc(d.negatives)}</td><td>${params(d.params)}</td></tr>`);
    }
    out.push('</tbody></table>');
  }
  const scenarios = Array.isArray(cfg.scenarios) ? (cfg.scenarios as Record<string, unknown>[]) : [];
  if (scenarios.length) {
    out.push('<h3>Scenarios</h3>', '<table class="facts"><thead><tr><th>name</th><th>perturbations, in order (lists are swept)</th></tr></thead><tbody>');
    for (const sc of scenarios) {
      const steps = Array.isArray(sc.perturbations) ? (sc.perturbations as Record<string, unknown>[]) : [];
      const text = steps.length
        ? steps.map((p) => `<b>${esc(p.name)}</b> on ${esc(p.pairs ?? 'relayed')} pairs: ${params(p.params)}`).join('<br />')
        : 'none';
      out.push(`<tr><td>${esc(sc.name)}</td><td>${text}</td></tr>`);
    }
    out.push('</tbody></table>');
  }
  const detectors = Array.isArray(cfg.detectors) ? (cfg.detectors as Record<string, unknown>[]) : [];
  if (detectors.length) {
    out.push('<h3>Detectors</h3>', '<table class="facts"><thead><tr><th>label</th><th>plugin</th><th>parameters</th></tr></thead><tbody>');
    for (const d of detectors) out.push(`<tr><td>${esc(d.label ?? d.name)}</td><td>${esc(d.name)}</td><td>${params(d.params)}</td></tr>`);
    out.push('</tbody></table>');
  }
  if (r.configText) out.push('<details><summary>config.json</summary>', `<pre>${esc(r.configText)}</pre>`, '</details>');
  out.push('</section>');
  return out.join('\n');
}

const f3 = (v: number) => v.toFixed(3);

function td(e: Entry | null): string {
  if (!e) return '<td></td>';
  if (e.error) return `<td class="failed" title="${esc(e.error)}">failed</td>`;
  if (e.value === null) return '<td></td>';
  const v = `<span class="v">${f3(e.value)}${e.resolvable ? '' : '<sup>†</sup>'}</span>`;
  const ci = e.ci ? `<span class="ci">[${f3(e.ci[0])}, ${f3(e.ci[1])}]</span>` : '';
  return `<td${e.best ? ' class="best"' : ''}>${v}${ci}</td>`;
}

function tables(model: ReportModel): Map<string, string> {
  const s = model.summary;
  const out = new Map<string, string>();
  for (const d of model.datasets) {
    const parts: string[] = [];
    for (const m of metrics(s)) {
      const t = metricTable(model, d, m);
      const first = t.groups[0]?.view;
      parts.push(`<table class="booktabs results" id="${esc(anchor('table', d.name, m.id))}">`);
      parts.push(`<caption>${esc(m.title)}${first ? ` · ${first.positives} relayed and ${first.negatives} non-relayed pairs per setting` : ''}</caption>`);
      parts.push('<thead>');
      parts.push(`<tr><th></th>${t.groups.map((g) => `<th class="group" colspan="${g.span}">${esc(groupTitle(g.view))}</th>`).join('')}</tr>`);
      parts.push(`<tr><th>detector</th>${t.heads.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`);
      parts.push('</thead><tbody>');
      for (const r of t.rows) parts.push(`<tr><td>${esc(r.detector)}</td>${r.entries.map(td).join('')}</tr>`);
      parts.push('</tbody></table>');
    }
    out.set(d.name, parts.join('\n'));
  }
  return out;
}

function figures(list: Figure[]): string {
  return [
    '<div class="figs">',
    ...list.map(
      (f) =>
        `<figure><img src="${esc(f.file)}" alt="${esc(f.title)}" /><figcaption>${esc(f.caption)} <a href="${esc(f.file)}">SVG</a></figcaption></figure>`,
    ),
    '</div>',
  ].join('\n');
}

export function indexHtml(args: {
  model: ReportModel;
  results: Results;
  figures: Figure[];
  /** Relative link from the report folder to a file of the results folder. */
  link: (name: string) => string;
  /** Said where ROC curves are missing (no scores.csv.gz). */
  rocNote?: string;
}): string {
  const { model, results } = args;
  const s = model.summary;
  const pct = Math.round(s.confidence * 100);
  const body: string[] = [];
  body.push(`<header><h1>${esc(s.name)}</h1>`);
  if (s.description) body.push(`<p>${esc(s.description)}</p>`);
  body.push(
    `<p class="note">${model.summary.cells.length} cells: ${model.detectors.length} detector(s) × ${model.datasets.length} dataset(s) × the settings of each scenario. ` +
      `Detection rate: share of relayed pairs scoring above the threshold set on the non-relayed pairs for a target false-positive rate. ` +
      `Tables give the point estimate and its ${pct}% bootstrap interval; the best value of each column is in bold; † marks a target FPR finer than 1/(non-relayed pairs).</p>`,
  );
  body.push('</header>');
  body.push('<nav><h2>Contents</h2><ul>', '<li><a href="#record">Reproducibility record</a></li>');
  for (const d of model.datasets) {
    body.push(`<li><a href="#${esc(anchor('tables', d.name))}">${esc(d.name)}: tables</a></li>`);
    for (const v of d.scenarios) body.push(`<li><a href="#${esc(anchor('plots', d.name, v.scenario))}">${esc(d.name)} · ${esc(v.scenario)}: plots</a></li>`);
  }
  body.push('</ul></nav>');
  body.push(record(results, args.link));
  const tableHtml = tables(model);
  for (const d of model.datasets) {
    body.push(`<section id="${esc(anchor('dataset', d.name))}">`, `<h2 id="${esc(anchor('tables', d.name))}">Dataset ${esc(d.name)}</h2>`);
    body.push(tableHtml.get(d.name)!);
    for (const v of d.scenarios) {
      const mine = args.figures.filter((f) => f.dataset === d.name && f.scenario === v.scenario);
      body.push(`<h3 id="${esc(anchor('plots', d.name, v.scenario))}">${esc(d.name)} · ${esc(v.scenario)}</h3>`);
      if (v.axis?.description) body.push(`<p class="note">Swept: <code>${esc(v.axis.key)}</code>, ${esc(v.axis.description)}.</p>`);
      const levels = mine.filter((f) => f.kind === 'level');
      if (levels.length) body.push(figures(levels));
      body.push('<h4>ROC curves</h4>');
      const rocs = mine.filter((f) => f.kind === 'roc');
      body.push(rocs.length ? figures(rocs) : `<p class="note">${esc(args.rocNote ?? 'No ROC curves.')}</p>`);
    }
    body.push('</section>');
  }
  const failed = s.cells.filter((c) => c.error);
  if (failed.length) {
    body.push('<section id="failures"><h2>Failed cells</h2><ul>');
    for (const c of failed) body.push(`<li>${esc(c.detector)} on ${esc(c.dataset)} · ${esc(c.scenario)} · ${esc(c.level)}: ${esc(c.error)}</li>`);
    body.push('</ul></section>');
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    `<title>${esc(s.name)} · ssbench report</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
