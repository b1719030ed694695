import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rocPoint } from '../src/metrics.js';
import { decadeLabel, rocMinFpr } from '../src/report/plots.js';
import { curveAuc, plotPoints, readScores, rocCurve, tprAt } from '../src/report/roc.js';

const f64 = (v: number[]) => Float64Array.from(v);

describe('ROC curve', () => {
  // Positives 3, 2, 2; negatives 2, 1, 0, 0. From the highest score down:
  //   3: one positive          → (0, 1/3)
  //   2: two positives, one negative (a tie group) → (1/4, 1)
  //   1: one negative          → (2/4, 1)
  //   0: two negatives         → (1, 1)
  // Trapezoids: 0 + 1/4·(1/3 + 1)/2 + 1/4·1 + 1/2·1 = 1/6 + 1/4 + 1/2 = 11/12.
  // Mann-Whitney: 3 beats all 4 negatives (4); each 2 beats 1, 0, 0 and ties 2 (3.5 each):
  // (4 + 7) / 12 = 11/12.
  const pos = f64([2, 3, 2]);
  const neg = f64([0, 2, 0, 1]);

  it('has a vertex per tie group, from (0, 0) to (1, 1)', () => {
    const c = rocCurve(pos, neg);
    expect(Array.from(c.fpr)).toEqual([0, 0, 0.25, 0.5, 1]);
    expect(Array.from(c.tpr)).toEqual([0, 1 / 3, 1, 1, 1]);
  });

  it('has the AUC and the detection rates of the metrics module', () => {
    const c = rocCurve(pos, neg);
    expect(curveAuc(c)).toBeCloseTo(11 / 12, 12);
    // At FPR 0.25, k = 1: the threshold is the second negative (1), all three positives
    // are above it. At 0.2, k = 0: the threshold is 2, only the 3 is above it.
    const ref = rocPoint(pos, neg, [0.25, 0.2]);
    expect(ref.auc).toBeCloseTo(11 / 12, 12);
    expect([tprAt(c, 0.25), tprAt(c, 0.2)]).toEqual([1, 1 / 3]);
    expect(ref.tpr).toEqual([1, 1 / 3]);
  });

  it('takes a missing score (NaN) as the lowest', () => {
    // The NaN positive ties with nothing and comes last: (0, 1/2) after the 5, then
    // (1, 1/2) after the negative 1, then (1, 1).
    const c = rocCurve(f64([5, NaN]), f64([1]));
    expect(Array.from(c.fpr)).toEqual([0, 0, 1, 1]);
    expect(Array.from(c.tpr)).toEqual([0, 0.5, 0.5, 1]);
  });
});

describe('points to draw on a log FPR axis', () => {
  it('draws a perfect detector as three points: up the floor, along the top', () => {
    // Vertices (0,0), (0,1), (1,1); FPR 0 is drawn at the floor 0.01.
    const c = rocCurve(f64([1, 1]), f64([0, 0, 0, 0]));
    expect(plotPoints(c, 0.01)).toEqual([
      { fpr: 0.01, tpr: 0 },
      { fpr: 0.01, tpr: 1 },
      { fpr: 1, tpr: 1 },
    ]);
  });

  it('keeps only the ends of a horizontal run', () => {
    // Positive 9 above negatives 1..4 → vertices (0,0), (0,1), (.25,1), (.5,1), (.75,1), (1,1).
    const c = rocCurve(f64([9]), f64([1, 2, 3, 4]));
    expect(c.fpr.length).toBe(6);
    expect(plotPoints(c, 0.1)).toEqual([
      { fpr: 0.1, tpr: 0 },
      { fpr: 0.1, tpr: 1 },
      { fpr: 1, tpr: 1 },
    ]);
  });

  it('bends a tie group into the curve it is on a log axis', () => {
    // Everything tied: the one segment (0,0)–(1,1) is TPR = FPR, which a log axis bends.
    // Drawn from the floor 0.01, every point after the first lies on TPR = FPR, no two
    // more than 0.05 decades apart.
    const pts = plotPoints(rocCurve(f64([0]), f64([0])), 0.01);
    expect(pts[0]).toEqual({ fpr: 0.01, tpr: 0 });
    expect(pts.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    expect(pts.length).toBeGreaterThan(30);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i].tpr).toBeCloseTo(pts[i].fpr, 12);
      expect(Math.log10(pts[i].fpr / pts[i - 1].fpr)).toBeLessThanOrEqual(0.05 + 1e-9);
    }
  });

  it('thins a fine staircase to what can be seen', () => {
    // Positives 1, 3, 5, ... and negatives 0, 2, 4, ...: 200,001 vertices alternating up
    // and right by 1e-5. Steps below 1e-3 (in TPR and in decades) are not drawn.
    const n = 100_000;
    const pos = new Float64Array(n).map((_, i) => 2 * i + 1);
    const neg = new Float64Array(n).map((_, i) => 2 * i);
    const c = rocCurve(pos, neg);
    expect(c.fpr.length).toBe(2 * n + 1);
    const pts = plotPoints(c, 1e-4);
    expect(pts.length).toBeLessThan(5000);
    expect(pts[0]).toEqual({ fpr: 1e-4, tpr: 0 });
    expect(pts.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    // Still the staircase along the diagonal: TPR within a step of FPR wherever FPR ≥ the floor.
    for (const p of pts.slice(1)) expect(Math.abs(p.tpr - p.fpr)).toBeLessThanOrEqual(1e-3 + 1e-5);
  });

  it('starts the axis at 1e-4, or at 1/negatives when that is coarser', () => {
    expect(rocMinFpr(2000)).toBe(1 / 2000);
    expect(rocMinFpr(1_000_000)).toBe(1e-4);
    expect(rocMinFpr(1_000_000, 1e-5)).toBe(1e-5);
    expect([decadeLabel(-4), decadeLabel(-1), decadeLabel(0)]).toEqual(['10⁻⁴', '10⁻¹', '1']);
  });
});

describe('reading scores.csv.gz', () => {
  it('splits scores by cell and class, names quoted or not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-scores-'));
    const file = join(dir, 'scores.csv.gz');
    const text = [
      'dataset,scenario,level,detector,pair,relayed,score',
      'ssh,chaff,ratio=0,a,0,1,0.5',
      'ssh,chaff,ratio=0,a,1,0,-1',
      // A level label holding a comma and a quote, as csvField writes it.
      'ssh,mix,"x=1, y=""b""",a,0,1,2',
      'ssh,chaff,ratio=0,a,2,0,NaN',
      '',
    ].join('\n');
    // Two gzip members, as the harness writes them.
    writeFileSync(file, Buffer.concat([gzipSync(text.slice(0, 80)), gzipSync(text.slice(80))]));
    return readScores(file).then((cells) => {
      expect(cells.map((c) => [c.scenario, c.level, Array.from(c.pos), Array.from(c.neg)])).toEqual([
        ['chaff', 'ratio=0', [0.5], [-1, NaN]],
        ['mix', 'x=1, y="b"', [2], []],
      ]);
    });
  });

  it('refuses a file that is not a scores file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-scores-'));
    const file = join(dir, 'scores.csv.gz');
    writeFileSync(file, gzipSync('a,b\n1,2\n'));
    await expect(readScores(file)).rejects.toThrow(/unexpected columns/);
    // Cut short, as by a full disk: an error, not a curve of what was read.
    const whole = gzipSync(`dataset,scenario,level,detector,pair,relayed,score\n${'ssh,a,b,c,0,1,0.5\n'.repeat(50_000)}`);
    writeFileSync(file, whole.subarray(0, whole.length >> 1));
    await expect(readScores(file)).rejects.toThrow(/cannot read the scores: unexpected end of file/);
  });
});
