/**
 * `ssbench report`: paper-ready outputs of a results folder: LaTeX tables (tables.tex),
 * SVG plots (plots/), and a page that shows it all (index.html). Everything is derived
 * from summary.json, scores.csv.gz, config.json and run.json, so a report can be made
 * again at any time, of any finished (or merged) run. Each file is written atomically;
 * index.html last, so it never names a plot that is not there yet.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { metrics } from '../tables.js';
import { type Figure, indexHtml } from './html.js';
import { latexTables } from './latex.js';
import { readResults } from './load.js';
import { type ReportModel, buildModel } from './model.js';
import { type RocSeries, levelSpec, renderSvg, rocMinFpr, rocSpec, style } from './plots.js';
import { type CellScores, plotPoints, readScores, rocCurve } from './roc.js';

export interface ReportOptions {
  /** Report folder; default: the results folder. */
  out?: string;
  /** LaTeX tables: show the bootstrap interval of each entry. */
  ci?: boolean;
  /** Lower end of the ROC plots' FPR axis (default 1e-4, or 1/negatives where that is larger). */
  minFpr?: number;
}

export interface ReportOutcome {
  out: string;
  files: string[];
  plots: number;
}

const PLOTS = 'plots';

/** A file name part from any name: what a file system and a URL take unescaped. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || '_';
}

class Names {
  private used = new Set<string>();
  /** A name not given before: two levels whose labels slug alike get distinct files. */
  take(base: string): string {
    let name = `${base}.svg`;
    for (let i = 2; this.used.has(name); i++) name = `${base}-${i}.svg`;
    this.used.add(name);
    return name;
  }
}

function pairsLine(positives: number, negatives: number): string {
  return `${positives} relayed, ${negatives} non-relayed pairs`;
}

async function levelFigures(model: ReportModel, names: Names, write: (name: string, svg: string) => void): Promise<Figure[]> {
  const s = model.summary;
  const st = style(model.detectors);
  const pct = Math.round(s.confidence * 100);
  const out: Figure[] = [];
  for (const d of model.datasets) {
    for (const v of d.scenarios) {
      for (const m of metrics(s)) {
        const hollow = m.id !== 'auc' && v.levels.some((l) => model.detectors.some((det) => v.cell(det, l) && !m.resolvable(v.cell(det, l)!)));
        const subtitle = [`${d.name}: ${pairsLine(v.positives, v.negatives)}; band: ${pct}% bootstrap interval`];
        if (hollow) subtitle.push('hollow marker: target FPR below 1/(non-relayed pairs)');
        const title = `${m.title} · ${v.scenario}`;
        const name = names.take(`${slug(d.name)}-${slug(v.scenario)}-${m.id === 'auc' ? 'auc' : `rate-fpr${slug(m.id.slice(4))}`}`);
        write(name, await renderSvg(levelSpec({ view: v, metric: m, title, subtitle, style: st })));
        out.push({
          file: `${PLOTS}/${name}`,
          kind: 'level',
          dataset: d.name,
          scenario: v.scenario,
          title,
          caption: `${m.title} of each detector against the ${v.axis ? `value of ${v.axis.key}` : 'setting'} in scenario ${v.scenario}, dataset ${d.name}; shaded: ${pct}% bootstrap interval.`,
        });
      }
    }
  }
  return out;
}

async function rocFigures(
  model: ReportModel,
  scores: CellScores[],
  minFloor: number,
  names: Names,
  write: (name: string, svg: string) => void,
): Promise<Figure[]> {
  const st = style(model.detectors);
  const index = new Map(scores.map((c) => [`${c.dataset}\u0000${c.scenario}\u0000${c.level}\u0000${c.detector}`, c]));
  const out: Figure[] = [];
  for (const d of model.datasets) {
    for (const v of d.scenarios) {
      for (const level of v.levels) {
        const minFpr = rocMinFpr(v.negatives, minFloor);
        const series: RocSeries[] = [];
        for (const det of model.detectors) {
          const c = index.get(`${d.name}\u0000${v.scenario}\u0000${level}\u0000${det}`);
          if (c && c.pos.length && c.neg.length) series.push({ detector: det, points: plotPoints(rocCurve(c.pos, c.neg), minFpr) });
        }
        if (!series.length) continue;
        const title = `ROC · ${d.name} · ${v.scenario} · ${level}`;
        const name = names.take(`${slug(d.name)}-${slug(v.scenario)}-roc-${slug(level)}`);
        const spec = rocSpec({
          title,
          subtitle: [pairsLine(v.positives, v.negatives), 'grey: chance (dashed), target FPRs (dotted)'],
          series,
          minFpr,
          targets: model.summary.fpr,
          style: st,
        });
        write(name, await renderSvg(spec));
        out.push({
          file: `${PLOTS}/${name}`,
          kind: 'roc',
          dataset: d.name,
          scenario: v.scenario,
          title,
          caption: `ROC curves at ${level}: detection rate against false-positive rate, log scale from ${Number(minFpr.toPrecision(2))}; FPRs below it are drawn at it.`,
        });
      }
    }
  }
  return out;
}

export async function writeReport(resultsDir: string, opts: ReportOptions = {}): Promise<ReportOutcome> {
  const dir = resolve(resultsDir);
  const out = resolve(opts.out ?? dir);
  const results = readResults(dir);
  const model = await buildModel(results.summary);
  const files: string[] = [];
  const names = new Names();
  const write = (name: string, svg: string) => {
    const path = join(out, PLOTS, name);
    writeFileAtomic(path, svg);
    files.push(path);
  };

  const figures = await levelFigures(model, names, write);
  let rocNote: string | undefined;
  if (results.scores) {
    figures.push(...(await rocFigures(model, await readScores(results.scores), opts.minFpr ?? 1e-4, names, write)));
  } else {
    rocNote = 'No ROC curves: the results folder has no scores.csv.gz.';
  }
  // Plots of an earlier report that this one did not draw (a changed config) would mislead.
  const plotDir = join(out, PLOTS);
  const drawn = new Set(files.map((f) => f.slice(plotDir.length + 1)));
  if (existsSync(plotDir)) {
    for (const f of readdirSync(plotDir)) if (f.endsWith('.svg') && !drawn.has(f)) rmSync(join(plotDir, f));
  }

  const tex = join(out, 'tables.tex');
  writeFileAtomic(tex, latexTables(model, { ci: opts.ci }));
  files.push(tex);
  const toResults = relative(out, dir);
  const link = (name: string) => (toResults ? `${toResults.split(sep).map(encodeURIComponent).join('/')}/${name}` : name);
  const html = join(out, 'index.html');
  writeFileAtomic(html, indexHtml({ model, results, figures, link, rocNote }));
  files.push(html);
  return { out, files, plots: figures.length };
}
