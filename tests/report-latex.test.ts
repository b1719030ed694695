import { describe, expect, it } from 'vitest';
import { escapeLatex, latexTables } from '../src/report/latex.js';
import { axisTitle, bestOf, buildModel, groupTitle } from '../src/report/model.js';
import type { Cell, Summary } from '../src/summary.js';

/** A cell with the same value for AUC and both detection rates unless told otherwise. */
function cell(detector: string, scenario: string, level: string, setting: Cell['setting'], v: Partial<Record<'auc' | '0.1' | '0.001', number>>, extra: Partial<Cell> = {}): Cell {
  const ci = (x: number): [number, number] => [x - 0.1, x + 0.05];
  return {
    detector,
    dataset: 'set_1',
    scenario,
    level,
    setting,
    positives: 20,
    negatives: 100,
    auc: v.auc ?? null,
    auc_ci: v.auc === undefined ? null : ci(v.auc),
    tpr_at_fpr: { '0.1': v['0.1'] ?? 0, '0.001': v['0.001'] ?? 0 },
    tpr_ci: { '0.1': ci(v['0.1'] ?? 0), '0.001': ci(v['0.001'] ?? 0) },
    // 100 negatives resolve FPR 0.1 (10 of them) but not 0.001.
    fpr_resolvable: { '0.1': true, '0.001': false },
    ...extra,
  };
}

// Detectors "a_b" and "c&d"; scenario "chaff" swept over ratio 0 and 1, scenario "delay"
// over max 0.5 only, plus a failed cell.
//   AUC:  a_b 0.9 0.6 | 0.7      c&d 0.8 0.7 | failed
//   best:     a_b  c&d | a_b (the only value)
//   rate at 0.1: a_b 1 0.2 | 0.5   c&d 1 0.25 | failed  → column 1 a tie (both bold)
const ratio = (r: number) => ({ 'chaff.ratio': r, 'chaff.arrival': 'poisson' });
const summary: Summary = {
  name: 'hand%made',
  description: '',
  seed: 1,
  fpr: [0.1, 0.001],
  bootstrap: 200,
  confidence: 0.9,
  cells: [
    cell('a_b', 'chaff', 'ratio=0', ratio(0), { auc: 0.9, '0.1': 1 }),
    cell('c&d', 'chaff', 'ratio=0', ratio(0), { auc: 0.8, '0.1': 1 }),
    cell('a_b', 'chaff', 'ratio=1', ratio(1), { auc: 0.6, '0.1': 0.2 }),
    cell('c&d', 'chaff', 'ratio=1', ratio(1), { auc: 0.7, '0.1': 0.25 }),
    cell('a_b', 'delay', 'delay', { 'delay.max': 0.5 }, { auc: 0.7, '0.1': 0.5 }),
    cell('c&d', 'delay', 'delay', { 'delay.max': 0.5 }, {}, { auc: null, auc_ci: null, tpr_at_fpr: {}, tpr_ci: {}, fpr_resolvable: {}, error: 'boom' }),
  ],
};

/** The tables of a fragment, each from \begin{table} to \end{table}. */
function tablesOf(tex: string): string[] {
  return tex.split('\\begin{table}').slice(1).map((t) => t.slice(0, t.indexOf('\\end{table}')));
}

describe('LaTeX tables', () => {
  it('escapes every character LaTeX treats specially', () => {
    expect(escapeLatex('a\\b{c}$d&e#f%g_h^i~j<k>l|m')).toBe(
      'a\\textbackslash{}b\\{c\\}\\$d\\&e\\#f\\%g\\_h\\textasciicircum{}i\\textasciitilde{}j\\textless{}k\\textgreater{}l\\textbar{}m',
    );
    expect(escapeLatex('plain-name.v2')).toBe('plain-name.v2');
  });

  it('writes one booktabs table per metric, rules in order, a cell per column', async () => {
    const tex = latexTables(await buildModel(summary));
    const tables = tablesOf(tex);
    // Metrics: rate at 0.1, rate at 0.001, AUC (as in table.md), for the one dataset.
    expect(tables).toHaveLength(3);
    for (const t of tables) {
      const top = t.indexOf('\\toprule');
      const mid = t.indexOf('\\midrule');
      const bottom = t.indexOf('\\bottomrule');
      expect(top).toBeGreaterThan(0);
      expect(mid).toBeGreaterThan(top);
      expect(bottom).toBeGreaterThan(mid);
      for (const rule of ['\\toprule', '\\midrule', '\\bottomrule']) expect(t.split(rule)).toHaveLength(2);
      // Three value columns (two chaff levels, one delay level) after the detector column.
      expect(t).toContain('\\begin{tabular}{@{}l*{3}{c}@{}}');
      const body = t.slice(mid + '\\midrule'.length, bottom).trim().split('\n').map((l) => l.trim());
      expect(body).toHaveLength(2);
      for (const row of body) {
        expect(row.endsWith('\\\\')).toBe(true);
        expect(row.replace(/\\&/g, '').split('&')).toHaveLength(4);
      }
      // A one-level scenario sweeps nothing: its level's label heads its column.
      expect(t).toContain('\\multicolumn{2}{c}{chaff (ratio)} & \\multicolumn{1}{c}{delay}');
      expect(t).toContain('\\cmidrule(lr){2-3} \\cmidrule(lr){4-4}');
      expect(t).toContain('Detector & 0 & 1 & delay \\\\');
    }
    // A label LaTeX accepts: the "%" and "_" of the names replaced.
    expect(tables[2]).toContain('\\label{tab:hand-made:set-1:chaff-delay:auc}');
  });

  it('sets the best value of each column in bold, ties alike, and escapes names', async () => {
    const [rate, unresolved, auc] = tablesOf(latexTables(await buildModel(summary)));
    expect(auc).toContain('    a\\_b & \\textbf{0.900} & 0.600 & \\textbf{0.700} \\\\');
    expect(auc).toContain('    c\\&d & 0.800 & \\textbf{0.700} & -- \\\\');
    expect(auc).toContain('--: the detector failed on this setting.');
    expect(auc).toContain('ROC AUC on set\\_1, scenarios chaff and delay (20 relayed and 100 non-relayed pairs per setting)');
    expect(rate).toContain('    a\\_b & \\textbf{1.000} & 0.200 & \\textbf{0.500} \\\\');
    expect(rate).toContain('    c\\&d & \\textbf{1.000} & \\textbf{0.250} & -- \\\\');
    // FPR 0.001 with 100 negatives cannot be resolved: every value daggered, and explained.
    expect(unresolved).toContain('\\textbf{0.000}\\textsuperscript{\\dag}');
    expect(unresolved).toContain('\\dag: the target FPR is below one over the number of non-relayed pairs');
    expect(rate).not.toContain('\\dag');
  });

  it('gives the bootstrap interval as distances to its ends with --ci', async () => {
    // a_b AUC 0.9 with interval [0.8, 0.95]: +0.050, -0.100.
    const auc = tablesOf(latexTables(await buildModel(summary), { ci: true }))[2];
    expect(auc).toContain('\\textbf{0.900}$^{+0.050}_{-0.100}$');
    expect(auc).toContain('90\\,\\% bootstrap interval (200 resamples)');
  });
});

describe('LaTeX tables of many levels', () => {
  /** A summary of scenarios "a" and "b" with the given numbers of levels (ratio 0, 1, ...). */
  const levels = (na: number, nb: number): Summary => ({
    ...summary,
    cells: (
      [
        ['a', na],
        ['b', nb],
      ] as const
    ).flatMap(([sc, n]) => Array.from({ length: n }, (_, i) => cell('a_b', sc, `ratio=${i}`, { 'chaff.ratio': i }, { auc: 0.5 }))),
  });
  const count = (tex: string) => tex.split('\\begin{table}').length - 1;

  it('gives a scenario its own table when the two would be too wide for a column', async () => {
    // 5 + 4 levels: 9 columns, over the 8 that fit; each scenario alone fits.
    const tex = latexTables(await buildModel(levels(5, 4)));
    expect(count(tex)).toBe(6);
    expect(tex).toContain('ROC AUC on set\\_1, scenario a (');
    expect(tex).toContain('\\label{tab:hand-made:set-1:b:auc}');
  });

  it('counts an entry with its interval as two columns', async () => {
    // 3 + 2 levels: 5 columns share a table; with intervals they count 10 and part.
    expect(count(latexTables(await buildModel(levels(3, 2))))).toBe(3);
    const ci = latexTables(await buildModel(levels(3, 2)), { ci: true });
    expect(count(ci)).toBe(6);
    expect(ci).toContain('\\renewcommand{\\arraystretch}{1.4}');
  });
});

describe('report model', () => {
  it('finds the swept parameter of each scenario, with its unit where the plugin declares one', async () => {
    const model = await buildModel(summary);
    expect(model.detectors).toEqual(['a_b', 'c&d']);
    const [chaff, delay] = model.datasets[0].scenarios;
    // chaff.arrival is the same at both levels: only the ratio tells them apart.
    expect(chaff.axis?.key).toBe('chaff.ratio');
    expect(chaff.x).toEqual([0, 1]);
    expect(axisTitle(chaff.axis!)).toBe('chaff ratio');
    // One level: nothing varies, so the level's own label heads the column.
    expect(delay.axis).toBeNull();
    expect(delay.heads).toEqual(['delay']);
    expect(groupTitle(chaff)).toBe('chaff (ratio)');
  });

  it('takes units from the perturbation plugin', async () => {
    const s: Summary = {
      ...summary,
      cells: [0, 0.5].map((m) => cell('a_b', 'delay', `max=${m}`, { 'delay.max': m }, { auc: 0.5 })),
    };
    const v = (await buildModel(s)).datasets[0].scenarios[0];
    expect(axisTitle(v.axis!)).toBe('delay max (s)');
    expect(groupTitle(v)).toBe('delay (max, s)');
  });

  it('compares values as shown, so equal-looking values are both best', () => {
    expect(bestOf([0.9996, 1, 0.5, null])).toEqual([true, true, false, false]);
    expect(bestOf([null, null])).toEqual([false, false]);
  });
});
