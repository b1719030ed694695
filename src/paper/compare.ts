/**
 * ssbench's regenerated detection rates beside the ones the paper reports: per method
 * and level, with a note wherever the two trends disagree. Notes are computed, not
 * written by hand, so they stay true when the numbers change.
 */
import type { Cell, Summary } from '../summary.js';
import { PAPER_CITATION, PAPER_FPR, PAPER_METHODS, PAPER_SWEEPS, type PaperMethod, type PaperSweep } from './reference.js';

/** Where a paper sweep lives in a run: its scenario and the setting key it varies. */
export interface SweepLocation {
  dataset: string;
  scenario: string;
  key: string;
}

export type SweepLocations = Partial<Record<keyof typeof PAPER_SWEEPS, SweepLocation>>;

/** A change smaller than this over a sweep counts as flat. */
const FLAT = 0.1;
/** A start further apart than this is noted. */
const FAR = 0.3;

function rateAt(cells: Cell[], method: string, loc: SweepLocation, level: number): number | null {
  const c = cells.find(
    (x) => x.detector === method && x.dataset === loc.dataset && x.scenario === loc.scenario && x.setting[loc.key] === level,
  );
  return c?.tpr_at_fpr[String(PAPER_FPR)] ?? null;
}

const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(2).replace(/^0\./, '.'));

function trend(first: number, last: number): 'rises' | 'falls' | 'flat' {
  const d = last - first;
  return d > FLAT ? 'rises' : d < -FLAT ? 'falls' : 'flat';
}

/** Why the two rows of one method differ, in a sentence; null when they agree. */
function note(method: string, ours: (number | null)[], paper: number[]): string | null {
  const known = ours.map((v, i) => [v, paper[i]] as const).filter(([v]) => v !== null) as [number, number][];
  if (known.length < 2) return null;
  const [o0, p0] = known[0];
  const [o1, p1] = known[known.length - 1];
  const to = trend(o0, o1);
  const tp = trend(p0, p1);
  const parts: string[] = [];
  if (to !== tp) parts.push(`the paper's rate ${tp === 'flat' ? 'stays flat' : tp} (${fmt(p0)} → ${fmt(p1)}), ours ${to === 'flat' ? 'stays flat' : to} (${fmt(o0)} → ${fmt(o1)})`);
  if (Math.abs(o0 - p0) > FAR) parts.push(`ours starts ${o0 > p0 ? 'higher' : 'lower'} (${fmt(o0)} against ${fmt(p0)})`);
  return parts.length ? `${method}: ${parts.join('; ')}.` : null;
}

function sweepTable(s: Summary, name: string, sweep: PaperSweep, loc: SweepLocation): string[] {
  const levelName = (v: number) => (sweep.unit ? `${v} ${sweep.unit}` : name === 'chaff' ? `${Math.round(v * 100)} %` : String(v));
  const lines = [
    `### Detection rate at FPR ${PAPER_FPR * 100} % against the ${sweep.title}: ours / the paper's`,
    '',
    `| method | ${sweep.levels.map(levelName).join(' | ')} |`,
    `|---|${sweep.levels.map(() => '---:').join('|')}|`,
  ];
  const notes: string[] = [];
  for (const method of PAPER_METHODS as readonly PaperMethod[]) {
    const paper = sweep.rates[method];
    const ours = sweep.levels.map((l) => rateAt(s.cells, method, loc, l));
    if (!paper && ours.every((v) => v === null)) continue;
    const row = sweep.levels.map((_, i) => `${fmt(ours[i])} / ${paper ? fmt(paper[i]) : '–'}`);
    lines.push(`| ${method} | ${row.join(' | ')} |`);
    const n = paper ? note(method, ours, paper) : null;
    if (n) notes.push(n);
  }
  lines.push('');
  if (notes.length) lines.push('Where the trends differ:', '', ...notes.map((n) => `- ${n}`), '');
  return lines;
}

/**
 * The comparison as Markdown: one table per paper sweep found in the run. Methods are
 * matched by detector label (a paper config labels its detectors with the paper's names).
 */
export function paperComparison(s: Summary, where: SweepLocations): string {
  if (!s.fpr.includes(PAPER_FPR)) throw new Error(`the run reports no detection rate at FPR ${PAPER_FPR}; add it to the config's "fpr"`);
  const out: string[] = [];
  for (const [name, sweep] of Object.entries(PAPER_SWEEPS)) {
    const loc = where[name as keyof typeof PAPER_SWEEPS];
    if (loc) out.push(...sweepTable(s, name, sweep, loc));
  }
  return out.join('\n');
}

/** Where configs/paper.json puts each sweep. */
export function paperLocations(s: Summary): SweepLocations {
  const dataset = s.cells[0]?.dataset ?? 'ssh';
  return {
    chaff: { dataset, scenario: 'chaff', key: 'chaff.ratio' },
    delay: { dataset, scenario: 'delay', key: 'delay.max' },
    chain: { dataset, scenario: 'chain', key: 'source.chain' },
  };
}

/** comparison.md of a run of configs/paper.json. */
export function comparisonDocument(s: Summary): string {
  return [
    '# ssbench beside the paper',
    '',
    PAPER_CITATION,
    '',
    'Each cell: the detection rate ssbench measured / the one the paper reports, at FPR 0.4 %.',
    "The paper's figures are drawn, in every public version of its source, from simulated",
    'scores and hard-coded vectors; these are the first numbers regenerated from running',
    'detectors. Differences are explained in results/paper/README.md, never tuned away.',
    '',
    paperComparison(s, paperLocations(s)),
  ].join('\n');
}
