import { describe, expect, it } from 'vitest';
import { cellMetrics, quantile, rocPoint } from '../src/metrics.js';
import { rngFor } from '../src/rng.js';

const f64 = (a: number[]) => Float64Array.from(a);

describe('ROC AUC (Mann-Whitney)', () => {
  it('is 1 for perfect separation and 0 for perfect inversion', () => {
    expect(rocPoint(f64([3, 4]), f64([1, 2]), []).auc).toBe(1);
    expect(rocPoint(f64([1]), f64([2]), []).auc).toBe(0);
  });

  it('counts ties as one half', () => {
    expect(rocPoint(f64([2]), f64([2]), []).auc).toBe(0.5);
    // (1 vs 2) lost twice, (3 vs 2) won twice: 2/4.
    expect(rocPoint(f64([1, 3]), f64([2, 2]), []).auc).toBe(0.5);
    // pos 2 vs neg [1,2,3]: won 1, tied 1, lost 1 -> (1 + 0.5)/3.
    expect(rocPoint(f64([2]), f64([1, 2, 3]), []).auc).toBeCloseTo(0.5, 12);
  });

  it('matches a hand count on an interleaved case', () => {
    // 0.9 beats all 4 negatives; 0.8, 0.7 and 0.6 beat 3 each (not 0.85): 13 of 16.
    const r = rocPoint(f64([0.9, 0.8, 0.7, 0.6]), f64([0.85, 0.5, 0.4, 0.3]), []);
    expect(r.auc).toBe(13 / 16);
  });
});

describe('detection rate at a target FPR', () => {
  const neg = f64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const pos = f64([10.5, 9.5, 8.5, 5]);

  it('thresholds at the (floor(f*N)+1)-th largest negative, strictly above', () => {
    // f=0.05: k=0, tau=10 -> only 10.5.  f=0.1: k=1, tau=9 -> 10.5, 9.5.
    // f=0.25: k=2, tau=8 -> 10.5, 9.5, 8.5.  f=0.999: k=9, tau=1 -> all four.
    const r = rocPoint(pos, neg, [0.05, 0.1, 0.25, 0.999]);
    expect(r.tpr).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('never exceeds the target FPR when negatives tie at the threshold', () => {
    // k = floor(0.25*4) = 1; tau = second largest negative = 5; only 6 is strictly above.
    const r = rocPoint(f64([5, 6]), f64([5, 5, 5, 1]), [0.25]);
    expect(r.tpr).toEqual([0.5]);
  });

  it('keeps the threshold on the negatives when they are few', () => {
    expect(rocPoint(f64([0]), f64([1, 2]), [0.99]).tpr).toEqual([0]); // k=1 < N=2: tau=1
    expect(rocPoint(f64([-5]), f64([1]), [0.999]).tpr).toEqual([0]); // k=0: tau=1
  });
});

describe('bootstrap intervals', () => {
  const rng = rngFor(7, 'test-scores', 0);
  const pos = Float64Array.from({ length: 60 }, () => rng.next() + 0.3);
  const neg = Float64Array.from({ length: 90 }, () => rng.next());
  const opts = { bootstrap: 200, confidence: 0.9, seed: 11, key: 'cell-a' };

  it('equals a naive resample-and-recompute with the same stream', () => {
    const m = cellMetrics(pos, neg, [0.1], opts);
    // Reference: draw the same multiplicities, materialise the resampled arrays, rescore.
    const r = rngFor(opts.seed, `bootstrap/${opts.key}`, 0);
    const draw = (src: Float64Array) => {
      const w = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) w[Math.floor(r.next() * src.length)]++;
      const out: number[] = [];
      w.forEach((c, i) => {
        for (let j = 0; j < c; j++) out.push(src[i]);
      });
      return Float64Array.from(out);
    };
    const aucs = new Float64Array(opts.bootstrap);
    const tprs = new Float64Array(opts.bootstrap);
    for (let b = 0; b < opts.bootstrap; b++) {
      const p = draw(pos);
      const n = draw(neg);
      const pt = rocPoint(p, n, [0.1]);
      aucs[b] = pt.auc;
      tprs[b] = pt.tpr[0];
    }
    aucs.sort();
    tprs.sort();
    expect(m.aucCi[0]).toBeCloseTo(quantile(aucs, 0.05), 12);
    expect(m.aucCi[1]).toBeCloseTo(quantile(aucs, 0.95), 12);
    expect(m.tprCi['0.1'][0]).toBeCloseTo(quantile(tprs, 0.05), 12);
    expect(m.tprCi['0.1'][1]).toBeCloseTo(quantile(tprs, 0.95), 12);
    expect(m.aucCi[0]).toBeLessThanOrEqual(m.auc);
    expect(m.aucCi[1]).toBeGreaterThanOrEqual(m.auc);
  });

  it('is reproducible per key and differs between keys', () => {
    const a = cellMetrics(pos, neg, [0.1], opts);
    expect(cellMetrics(pos, neg, [0.1], opts)).toEqual(a);
    expect(cellMetrics(pos, neg, [0.1], { ...opts, key: 'cell-b' }).aucCi).not.toEqual(a.aucCi);
  });

  it('flags FPRs finer than 1/negatives and collapses to the point with no resamples', () => {
    const m = cellMetrics(pos, neg, [0.1, 0.001], { ...opts, bootstrap: 0 });
    expect(m.fprResolvable).toEqual({ '0.1': true, '0.001': false });
    expect(m.aucCi).toEqual([m.auc, m.auc]);
  });

  it('interpolates quantiles linearly', () => {
    expect(quantile(f64([0, 10]), 0.25)).toBe(2.5);
    expect(quantile(f64([1, 2, 3]), 0.5)).toBe(2);
  });
});
