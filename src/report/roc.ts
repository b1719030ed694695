/**
 * ROC curves from the raw scores of a results folder (scores.csv.gz).
 *
 * A vertex per distinct score: at threshold s, a pair is called relayed when its score is
 * at least s, so the vertex is (share of negatives ≥ s, share of positives ≥ s). Tied
 * positives and negatives move both rates at once (a diagonal segment): the expected
 * curve under random tie-breaking. The trapezoids under these vertices sum to the AUC of
 * summary.json (the Mann-Whitney statistic, ties counted ½), and the vertex with the
 * largest FPR ≤ f has the detection rate at f by the threshold rule of src/metrics.ts.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { UserError } from '../errors.js';
import { Float64List } from '../float64-list.js';

export interface Curve {
  fpr: Float64Array;
  tpr: Float64Array;
}

/** A detector that gives no score is taken as the least confident, below every number. */
function sortedDescending(v: Float64Array): Float64Array {
  const s = Float64Array.from(v, (x) => (Number.isNaN(x) ? -Infinity : x));
  s.sort();
  return s.reverse();
}

/**
 * The vertices from (0, 0) to (1, 1). Each class is sorted once (a native typed-array
 * sort, no comparator) and one merged walk from the highest score down emits a vertex per
 * tie group: O(n log n) per curve, whatever the number of thresholds.
 */
export function rocCurve(pos: Float64Array, neg: Float64Array): Curve {
  const p = sortedDescending(pos);
  const n = sortedDescending(neg);
  const P = p.length;
  const N = n.length;
  const fpr = new Float64Array(P + N + 1);
  const tpr = new Float64Array(P + N + 1);
  let i = 0;
  let j = 0;
  let k = 1; // vertex 0 is (0, 0)
  while (i < P || j < N) {
    const s = i < P && (j >= N || p[i] >= n[j]) ? p[i] : n[j];
    while (i < P && p[i] === s) i++;
    while (j < N && n[j] === s) j++;
    fpr[k] = N ? j / N : 0;
    tpr[k] = P ? i / P : 0;
    k++;
  }
  return { fpr: fpr.slice(0, k), tpr: tpr.slice(0, k) };
}

/** Area under the vertices by trapezoids. */
export function curveAuc(c: Curve): number {
  let a = 0;
  for (let i = 1; i < c.fpr.length; i++) a += (c.fpr[i] - c.fpr[i - 1]) * (c.tpr[i] + c.tpr[i - 1]) * 0.5;
  return a;
}

/** Detection rate at a target FPR: the highest TPR among vertices whose FPR does not exceed it. */
export function tprAt(c: Curve, f: number): number {
  let best = 0;
  for (let i = 0; i < c.fpr.length && c.fpr[i] <= f + 1e-12; i++) best = Math.max(best, c.tpr[i]);
  return best;
}

export interface PlotPoint {
  fpr: number;
  tpr: number;
}

/**
 * The points to draw on a log FPR axis starting at `minFpr`. FPRs below it are drawn at
 * it (the TPR reachable at FPR ≤ minFpr rises there as a vertical segment). Vertices
 * inside a horizontal or vertical run are dropped (no change to the line). A diagonal
 * segment (a tie group) is straight in linear FPR, so it is subdivided to stay true on
 * the log axis. A point that moves the pen by less than `eps` (in decades and in TPR)
 * from the last one drawn is dropped: a million-pair curve keeps a few thousand points,
 * with no change visible at any print size.
 */
export function plotPoints(c: Curve, minFpr: number, eps = 1e-3): PlotPoint[] {
  const n = c.fpr.length;
  const x = (f: number) => Math.max(f, minFpr);
  // Kept vertices; a vertex inside a vertical or horizontal run of the kept ones replaces
  // the run's last, so the run keeps its two ends only.
  const keep: number[] = [];
  const same = (a: number, b: number) => x(c.fpr[a]) === x(c.fpr[b]) && c.tpr[a] === c.tpr[b];
  for (let i = 0; i < n; i++) {
    const m = keep.length;
    if (m >= 1 && same(keep[m - 1], i) && i !== n - 1) continue;
    if (m >= 2) {
      const a = keep[m - 2];
      const b = keep[m - 1];
      const vertical = x(c.fpr[a]) === x(c.fpr[b]) && x(c.fpr[b]) === x(c.fpr[i]);
      const horizontal = c.tpr[a] === c.tpr[b] && c.tpr[b] === c.tpr[i];
      if (vertical || horizontal) {
        keep[m - 1] = i;
        continue;
      }
    }
    keep.push(i);
  }
  const out: PlotPoint[] = [];
  let lastX = NaN;
  let lastY = NaN;
  const emit = (f: number, t: number, always: boolean) => {
    const lx = Math.log10(x(f));
    if (!always && Math.abs(lx - lastX) < eps && Math.abs(t - lastY) < eps) return;
    out.push({ fpr: x(f), tpr: t });
    lastX = lx;
    lastY = t;
  };
  keep.forEach((i, m) => {
    if (m > 0) {
      const f0 = c.fpr[keep[m - 1]];
      const t0 = c.tpr[keep[m - 1]];
      const f1 = c.fpr[i];
      const t1 = c.tpr[i];
      const decades = Math.log10(x(f1) / x(f0));
      if (t1 !== t0 && decades > 0.05) {
        const steps = Math.ceil(decades / 0.05);
        for (let s = 1; s < steps; s++) {
          const f = x(f0) * Math.pow(x(f1) / x(f0), s / steps);
          emit(f, t0 + ((t1 - t0) * (f - f0)) / (f1 - f0), false);
        }
      }
    }
    emit(c.fpr[i], c.tpr[i], m === 0 || m === keep.length - 1);
  });
  return out;
}

/** Scores of one cell of the grid, split by class. */
export interface CellScores {
  dataset: string;
  scenario: string;
  level: string;
  detector: string;
  pos: Float64Array;
  neg: Float64Array;
}

const COLUMNS = 'dataset,scenario,level,detector,pair,relayed,score';

/**
 * Reads scores.csv.gz as a stream, so the text never sits in memory whole; the scores do
 * (8 bytes a pair and detector), as a file's order of cells is not something to rely on.
 * The last three fields are numbers and never quoted, so a line is cut from the right;
 * the four names before them are parsed as CSV once per cell, not once per line.
 */
export async function readScores(file: string): Promise<CellScores[]> {
  const byPrefix = new Map<string, { pos: Float64List; neg: Float64List }>();
  const cells = new Map<string, { key: string[]; pos: Float64List; neg: Float64List }>();
  const source = createReadStream(file);
  const gunzip = createGunzip();
  // pipeline hands a read error on to gunzip, whose errors end the line iteration below.
  const lines = createInterface({ input: pipeline(source, gunzip, () => {}), crlfDelay: Infinity });
  let header = true;
  let lineNo = 0;
  let pending: string | null = null;
  try {
    for await (const line of lines) {
      lineNo++;
      if (header) {
        if (line !== COLUMNS) throw new UserError(`${file}: unexpected columns ${line}; expected ${COLUMNS}`);
        header = false;
        continue;
      }
      const text: string = pending === null ? line : `${pending}\n${line}`;
      // A quoted name holding a line break: the record goes on on the next line.
      if (text.includes('"') && (text.match(/"/g)!.length & 1) === 1) {
        pending = text;
        continue;
      }
      pending = null;
      if (!text) continue;
      const c3 = text.lastIndexOf(',');
      const c2 = text.lastIndexOf(',', c3 - 1);
      const c1 = text.lastIndexOf(',', c2 - 1);
      if (c1 < 0) throw new UserError(`${file}: line ${lineNo}: expected 7 fields`);
      const prefix = text.slice(0, c1);
      let acc = byPrefix.get(prefix);
      if (!acc) {
        const key = (parseCsv(prefix, { relax_quotes: false }) as string[][])[0] ?? [];
        if (key.length !== 4) throw new UserError(`${file}: line ${lineNo}: expected 7 fields`);
        const k = key.join('\u0000');
        let c = cells.get(k);
        if (!c) {
          c = { key, pos: new Float64List(), neg: new Float64List() };
          cells.set(k, c);
        }
        acc = c;
        byPrefix.set(prefix, acc);
      }
      const relayed = text.slice(c2 + 1, c3);
      const score = Number(text.slice(c3 + 1));
      if (relayed === '1') acc.pos.push(score);
      else if (relayed === '0') acc.neg.push(score);
      else throw new UserError(`${file}: line ${lineNo}: "relayed" must be 0 or 1, got ${JSON.stringify(relayed)}`);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read the scores: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    // Left early (a bad line), the streams would go on and fail with no one listening.
    lines.close();
    gunzip.destroy();
    source.destroy();
  }
  if (header) throw new UserError(`${file}: empty; expected the header ${COLUMNS}`);
  return [...cells.values()].map(({ key, pos, neg }) => ({
    dataset: key[0],
    scenario: key[1],
    level: key[2],
    detector: key[3],
    pos: pos.values(),
    neg: neg.values(),
  }));
}
