import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOMParser, type Document, type Element, onWarningStopParsing } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { writeResults } from '../src/outputs.js';
import { readResults } from '../src/report/load.js';
import { writeReport } from '../src/report/index.js';
import { curveAuc, readScores, rocCurve, tprAt } from '../src/report/roc.js';
import { runConfig } from '../src/runner.js';
import { summarize } from '../src/summary.js';
import { root } from './helpers.js';

// Two scenarios of two levels each, three detectors (one used twice under its own label),
// 50 negatives: FPR 0.1 is resolvable (5 negatives above the threshold), 0.01 is not.
const config = {
  name: 'tiny',
  description: 'Tiny run & <report> test',
  seed: 7,
  chunkSize: 40,
  bootstrap: 40,
  fpr: [0.1, 0.01],
  datasets: [{ name: 'ssh_a', positives: 30, negatives: 50, params: { duration: 30 } }],
  scenarios: [
    { name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 1] } }] },
    { name: 'delay', perturbations: [{ name: 'delay', params: { max: [0, 0.5] } }] },
  ],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }, { name: 'blum-count', label: 'blum_wide', params: { delta: 0.05 } }],
};
const DETECTORS = ['blum-count', 'wang-ipd', 'blum_wide'];

function parse(text: string, mime: 'image/svg+xml' | 'text/xml'): Document {
  // Stops at the first warning, so anything not well-formed fails the test.
  return new DOMParser({ onError: onWarningStopParsing }).parseFromString(text, mime);
}

function all(doc: Document | Element, tag: string): Element[] {
  return Array.from(doc.getElementsByTagName(tag));
}

/** Elements whose class attribute holds every one of `classes`. */
function withClass(doc: Document | Element, tag: string, ...classes: string[]): Element[] {
  return all(doc, tag).filter((e) => {
    const have = (e.getAttribute('class') ?? '').split(/\s+/);
    return classes.every((c) => have.includes(c));
  });
}

const texts = (els: Element[]) => els.flatMap((g) => all(g, 'text').map((t) => t.textContent ?? ''));

describe('ssbench report', () => {
  const base = mkdtempSync(join(tmpdir(), 'ssbench-report-'));
  const results = join(base, 'results');

  beforeAll(async () => {
    const c = await resolveConfig(config, join(base, 'cfg.json'), { workers: 2 });
    const outcome = await runConfig(c);
    writeResults(results, c, outcome, summarize(c, outcome), 1.5);
    // A plot a report of another config left behind, and a file that is not a plot.
    mkdirSync(join(results, 'plots'));
    writeFileSync(join(results, 'plots', 'old.svg'), '<svg/>');
    writeFileSync(join(results, 'plots', 'notes.txt'), 'mine');
    await writeReport(results);
  });

  const plots = () => readdirSync(join(results, 'plots')).filter((f) => f.endsWith('.svg')).sort();

  it('draws per scenario one plot per metric, and a ROC plot per setting', () => {
    // 2 scenarios × (rate at 0.1, rate at 0.01, AUC) + 4 settings.
    expect(plots()).toEqual([
      'ssh_a-chaff-auc.svg',
      'ssh_a-chaff-rate-fpr0.01.svg',
      'ssh_a-chaff-rate-fpr0.1.svg',
      'ssh_a-chaff-roc-ratio_0.svg',
      'ssh_a-chaff-roc-ratio_1.svg',
      'ssh_a-delay-auc.svg',
      'ssh_a-delay-rate-fpr0.01.svg',
      'ssh_a-delay-rate-fpr0.1.svg',
      'ssh_a-delay-roc-max_0.5.svg',
      'ssh_a-delay-roc-max_0.svg',
    ]);
    expect(readFileSync(join(results, 'plots', 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(results).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives every plot axis titles, a legend entry and a line per detector', () => {
    for (const f of plots()) {
      const doc = parse(readFileSync(join(results, 'plots', f), 'utf8'), 'image/svg+xml');
      expect(doc.documentElement?.tagName, f).toBe('svg');
      const titles = texts(withClass(doc, 'g', 'role-axis-title'));
      const roc = f.includes('-roc-');
      const x = roc ? 'False-positive rate (share of non-relayed pairs, log scale)' : f.includes('chaff') ? 'chaff ratio' : 'delay max (s)';
      const y = roc || f.includes('rate-') ? 'Detection rate (share of relayed pairs)' : 'ROC AUC';
      expect(titles.sort(), f).toEqual([x, y].sort());
      expect(texts(withClass(doc, 'g', 'role-legend-label')), f).toEqual(DETECTORS);
      // One line mark per detector, each a single non-empty path, each its own colour.
      const lines = withClass(doc, 'g', 'mark-line', 'curves_marks');
      expect(lines, f).toHaveLength(DETECTORS.length);
      const strokes = lines.map((g) => {
        const paths = all(g, 'path');
        expect(paths).toHaveLength(1);
        expect(paths[0].getAttribute('d')).toMatch(/^M[\d.-]+,[\d.-]+L/);
        return paths[0].getAttribute('stroke');
      });
      expect(new Set(strokes).size, f).toBe(DETECTORS.length);
    }
  });

  it('draws the level plots with a band per detector, hollow where the FPR is not resolvable', () => {
    const svg = (f: string) => parse(readFileSync(join(results, 'plots', f), 'utf8'), 'image/svg+xml');
    // 50 negatives: 0.1 resolvable at both levels of every detector (6 filled points);
    // 0.01 at none (6 hollow ones).
    const resolved = svg('ssh_a-chaff-rate-fpr0.1.svg');
    expect(withClass(resolved, 'g', 'mark-area', 'band_marks')).toHaveLength(3);
    expect(all(withClass(resolved, 'g', 'points_marks')[0], 'path')).toHaveLength(6);
    expect(all(withClass(resolved, 'g', 'unresolved_marks')[0], 'path')).toHaveLength(0);
    const unresolved = svg('ssh_a-chaff-rate-fpr0.01.svg');
    expect(all(withClass(unresolved, 'g', 'points_marks')[0], 'path')).toHaveLength(0);
    expect(all(withClass(unresolved, 'g', 'unresolved_marks')[0], 'path')).toHaveLength(6);
    // The ROC axis starts at 1/50 = 0.02: its decades are 10⁻¹ and 1.
    const roc = svg('ssh_a-chaff-roc-ratio_0.svg');
    expect(texts(withClass(roc, 'g', 'role-axis-label'))).toEqual(expect.arrayContaining(['10⁻¹', '1']));
  });

  it('draws ROC curves that agree with summary.json', async () => {
    const { summary, scores } = readResults(results);
    const cells = await readScores(scores!);
    expect(cells).toHaveLength(summary.cells.length);
    for (const c of cells) {
      const s = summary.cells.find((x) => x.detector === c.detector && x.scenario === c.scenario && x.level === c.level)!;
      const curve = rocCurve(c.pos, c.neg);
      expect(curveAuc(curve)).toBeCloseTo(s.auc!, 12);
      for (const f of summary.fpr) expect(tprAt(curve, f)).toBeCloseTo(s.tpr_at_fpr[String(f)], 12);
    }
  });

  it('writes LaTeX tables of the run, names escaped', () => {
    const tex = readFileSync(join(results, 'tables.tex'), 'utf8');
    expect(tex.match(/\\begin\{table\}/g)).toHaveLength(3);
    expect(tex.match(/\\toprule/g)).toHaveLength(3);
    expect(tex).toContain('on ssh\\_a, scenarios chaff and delay (30 relayed and 50 non-relayed pairs per setting)');
    expect(tex).toContain('\n    blum\\_wide & ');
    expect(tex).toContain('\\multicolumn{2}{c}{chaff (ratio)} & \\multicolumn{2}{c}{delay (max, s)}');
  });

  it('writes an index.html that shows every plot and every table', () => {
    const html = readFileSync(join(results, 'index.html'), 'utf8');
    const doc = parse(html, 'text/xml');
    const imgs = all(doc, 'img').map((i) => i.getAttribute('src')!);
    expect(imgs.sort()).toEqual(plots().map((f) => `plots/${f}`));
    const tables = withClass(doc, 'table', 'results');
    expect(tables).toHaveLength(3);
    for (const t of tables) {
      const rows = all(all(t, 'tbody')[0], 'tr');
      expect(rows.map((r) => all(r, 'td')[0].textContent)).toEqual(DETECTORS);
      // Every row: the detector and four entries; every column has a best entry.
      for (const r of rows) expect(all(r, 'td')).toHaveLength(5);
      for (let col = 1; col <= 4; col++) expect(rows.some((r) => all(r, 'td')[col].getAttribute('class') === 'best')).toBe(true);
      expect(all(t, 'th').filter((th) => th.getAttribute('colspan') === '2').map((th) => th.textContent)).toEqual(['chaff (ratio)', 'delay (max, s)']);
    }
    expect(all(doc, 'p').some((p) => p.textContent === 'Tiny run & <report> test')).toBe(true);
    const text = doc.documentElement!.textContent!;
    for (const fact of ['ssbench version', 'seed', '7', 'wall time', '1.5 s', 'config fingerprint (sha256)']) expect(text).toContain(fact);
    for (const a of all(doc, 'a')) {
      const href = a.getAttribute('href')!;
      if (!href.startsWith('#')) expect(existsSync(join(results, href)), href).toBe(true);
    }
  });

  it('gives the same bytes when made again, here or in another folder', async () => {
    const before = new Map([...plots().map((f) => join('plots', f)), 'tables.tex', 'index.html'].map((f) => [f, readFileSync(join(results, f))]));
    await writeReport(results);
    for (const [f, bytes] of before) expect(readFileSync(join(results, f)).equals(bytes), f).toBe(true);
    const elsewhere = join(base, 'paper', 'report');
    await writeReport(results, { out: elsewhere });
    expect(readFileSync(join(elsewhere, 'plots', 'ssh_a-chaff-auc.svg')).equals(before.get(join('plots', 'ssh_a-chaff-auc.svg'))!)).toBe(true);
    // Links to the results folder's files lead there from the other folder.
    const doc = parse(readFileSync(join(elsewhere, 'index.html'), 'utf8'), 'text/xml');
    const hrefs = all(doc, 'a').map((a) => a.getAttribute('href')!).filter((h) => h.endsWith('summary.json'));
    expect(hrefs).toEqual(['../../results/summary.json']);
    expect(existsSync(resolve(elsewhere, hrefs[0]))).toBe(true);
  });

  it('runs from the command line, and refuses a folder without results', () => {
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const cli = join(root, 'src', 'cli.ts');
    const out = join(base, 'cli-report');
    const ok = spawnSync(process.execPath, [tsx, cli, 'report', results, '--out', out, '--ci'], { cwd: root, encoding: 'utf8' });
    expect(ok.stderr).toMatch(/report in [\d.]+ s: tables\.tex, index\.html and 10 plots in /);
    expect(ok.status).toBe(0);
    expect(readFileSync(join(out, 'tables.tex'), 'utf8')).toMatch(/\$\^\{\+\d\.\d{3}\}_\{-\d\.\d{3}\}\$/);
    const empty = mkdtempSync(join(tmpdir(), 'ssbench-empty-'));
    const bad = spawnSync(process.execPath, [tsx, cli, 'report', empty], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`ssbench: ${empty}: not a results folder (no summary.json)`);
  });
});
