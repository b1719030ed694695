import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ano2, {
  CONNECTION_FEATURES,
  FEATURE_NAMES,
  checkModel,
  connectionFeatures,
  decision,
  loadModel,
  normalCdf,
  pairFeatures,
} from '../detectors/ano2/index.js';
import { TRAIN_SEED, standardisation, train, trainSvm } from '../detectors/ano2/train.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { rocPoint } from '../src/metrics.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { root, type Packet, fwd, bwd, acks, handPair as pair } from './helpers.js';

const feature = (x: Float64Array, name: (typeof CONNECTION_FEATURES)[number], at = 0) => x[at + CONNECTION_FEATURES.indexOf(name)];

describe('ano2: maximum-likelihood fits and goodness of fit', () => {
  // Keystrokes whose delays are 1, e and e^2.5 s: log delays 0, 1, 2.5.
  const e = Math.E;
  const times = [0, 1, 1 + e, 1 + e + Math.exp(2.5)];
  // Echoes and ACKs in between must not count: only forward payload packets do.
  const f = flowOf([...fwd(...times), ...bwd(0.5, 2, 3), ...acks(DIR_FWD, 0.75, 5)]);

  it('computes the closed-form MLEs by hand', () => {
    const x = new Float64Array(8);
    connectionFeatures(f, DIR_FWD, { bins: 4, ipdFloor: 1e-6 }, x, 0);
    // Pareto: x_m = min = 1 (ln 0); α = n / Σ ln(x / x_m) = 3 / (0 + 1 + 2.5) = 6/7.
    expect(feature(x, 'lnXm')).toBeCloseTo(0, 12);
    expect(feature(x, 'lnAlpha')).toBeCloseTo(Math.log(6 / 7), 12);
    // Log-normal: μ = (0 + 1 + 2.5) / 3 = 7/6; σ² = (0 + 1 + 6.25)/3 − (7/6)² = 29/12 − 49/36 = 19/18.
    expect(feature(x, 'mu')).toBeCloseTo(7 / 6, 12);
    expect(feature(x, 'lnSigma')).toBeCloseTo(0.5 * Math.log(19 / 18), 12);
  });

  it('bins the delays under each fitted law (4 equiprobable bins)', () => {
    const x = new Float64Array(8);
    connectionFeatures(f, DIR_FWD, { bins: 4, ipdFloor: 1e-6 }, x, 0);
    // Pareto F = 1 − exp(−α ln(x/x_m)): logs 0, 1, 2.5 -> F = 0, 0.576, 0.883 -> bins 0, 2, 3.
    // Counts [1, 0, 1, 1]: empirical CDF at the edges 1/3, 1/3, 2/3, 1 against 1/4, 1/2,
    // 3/4, 1 -> KS = |1/3 − 1/2| = 1/6. Chi-square with 3/4 expected per bin:
    // 3 · (1/4)² / (3/4) + (3/4)² / (3/4) = 1/4 + 3/4 = 1, per delay 1/3.
    expect(feature(x, 'ksPareto')).toBeCloseTo(1 / 6, 12);
    expect(feature(x, 'chi2Pareto')).toBeCloseTo(1 / 3, 12);
    // Log-normal z = (l − 7/6) / √(19/18): −1.136, −0.162, 1.298 -> Φ = 0.128, 0.436,
    // 0.903 -> bins 0, 1, 3. Counts [1, 1, 0, 1]: CDF 1/3, 2/3, 2/3, 1 -> KS = 1/6 (at the
    // second edge, 2/3 − 1/2); chi-square again 1, per delay 1/3.
    expect(feature(x, 'ksLognormal')).toBeCloseTo(1 / 6, 12);
    expect(feature(x, 'chi2Lognormal')).toBeCloseTo(1 / 3, 12);
  });

  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 6);
    expect(normalCdf(-8)).toBeCloseTo(0, 12);
  });

  it('falls back to fixed values when a connection has fewer than two delays', () => {
    const x = new Float64Array(8);
    connectionFeatures(flowOf(fwd(1, 2)), DIR_FWD, { bins: 4, ipdFloor: 1e-6 }, x, 0);
    expect(Array.from(x)).toEqual([Math.log(1e-6), 0, 0, 0, 1, 1, 0, 0]);
  });

  it('floors tied timestamps at ipdFloor', () => {
    // Delays 0, 1, 1 with floor 2^-10: x_m = 2^-10, ln x_m = −10 ln 2.
    const x = new Float64Array(8);
    connectionFeatures(flowOf(fwd(1, 1, 2, 3)), DIR_FWD, { bins: 4, ipdFloor: 2 ** -10 }, x, 0);
    expect(feature(x, 'lnXm')).toBeCloseTo(-10 * Math.LN2, 12);
    // α = 3 / (0 + 2 · 10 ln 2).
    expect(feature(x, 'lnAlpha')).toBeCloseTo(Math.log(3 / (20 * Math.LN2)), 12);
  });

  it('pair features: both fits, then their absolute differences', () => {
    const a = flowOf(fwd(...times));
    const b = flowOf(fwd(0, 1, 3, 4)); // delays 1, 2, 1
    const x = pairFeatures(pair(a, b), { bins: 4, ipdFloor: 1e-6 }, new Float64Array(FEATURE_NAMES.length));
    const C = CONNECTION_FEATURES.length;
    // b: μ = ln 2 / 3.
    expect(feature(x, 'mu', C)).toBeCloseTo(Math.log(2) / 3, 12);
    for (let k = 0; k < C; k++) expect(x[2 * C + k]).toBeCloseTo(Math.abs(x[k] - x[C + k]), 12);
    // The same keystrokes on both sides: every difference is 0.
    const same = pairFeatures(pair(a, a), { bins: 4, ipdFloor: 1e-6 }, new Float64Array(FEATURE_NAMES.length));
    expect(Array.from(same.subarray(2 * C))).toEqual(new Array(C).fill(0));
  });
});

describe('ano2: the SVM', () => {
  it('finds the maximum-margin separator of a symmetric 1-D set', () => {
    // Points −2, −1 (label −1) and 1, 2 (label +1): mean 0, sd √((4+1+1+4)/4) = √2.5, so
    // the standardised points are ±1/√2.5 and ±2/√2.5. As C grows, the squared-hinge SVM
    // with a penalised bias tends to the hard margin: min ½(w² + b²) s.t. y(wz + b) ≥ 1.
    // By symmetry b = 0, the binding points are z = ±1/√2.5, so w = √2.5.
    const ds = { x: Float64Array.from([-2, -1, 1, 2]), y: Int8Array.from([-1, -1, 1, 1]), n: 4, d: 1 };
    const std = standardisation(ds);
    expect(std.mean[0]).toBe(0);
    expect(std.sd[0]).toBeCloseTo(Math.sqrt(2.5), 12);
    const svm = trainSvm(ds, std, 1e4, 1);
    expect(svm.weights[0]).toBeCloseTo(Math.sqrt(2.5), 3);
    expect(svm.bias).toBeCloseTo(0, 3);
    // With a strong penalty (small C) the weight shrinks well below the margin solution.
    expect(trainSvm(ds, std, 0.01, 1).weights[0]).toBeLessThan(0.5);
  });

  it('decision standardises, weighs and adds the bias', () => {
    const m = { mean: [1, 2], sd: [2, 4], weights: [3, -1], bias: 0.5 } as Parameters<typeof decision>[0];
    // z = ((5 − 1)/2, (10 − 2)/4) = (2, 2): 3·2 − 1·2 + 0.5 = 4.5.
    expect(decision(m, Float64Array.from([5, 10]))).toBe(4.5);
  });
});

describe('ano2: model.json', () => {
  const path = join(root, 'detectors', 'ano2', 'model.json');
  const raw = JSON.parse(readFileSync(path, 'utf8'));

  it('matches the features this code computes', () => {
    const m = checkModel(raw, path);
    expect(m.features).toEqual(FEATURE_NAMES);
    expect(loadModel().weights).toEqual(m.weights);
    expect(() => checkModel({ ...raw, features: raw.features.slice(1) }, 'x')).toThrow(/rerun detectors\/ano2\/train.ts/);
  });

  it('was trained on a seed that no config evaluates on', () => {
    expect(raw.provenance.seed).toBe(TRAIN_SEED);
    const dir = join(root, 'configs');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toContain(String(TRAIN_SEED));
    }
  });

  it('is what train.ts writes today (model.json is not stale)', () => {
    const model = train();
    expect(JSON.parse(JSON.stringify(model))).toEqual(raw);
  });
});

describe('ano2 on synthetic pairs', () => {
  it('ranks relays above unrelated pairs', () => {
    // Unperturbed default pairs: AUC 0.83 on the 1,000 relayed and 4,000 unrelated pairs
    // of configs/synthetic-vs-real.json (0.84 on these 120).
    const sp = defaultParams(source.params);
    const P = 40;
    const N = 80;
    const pairs = Array.from({ length: P + N }, (_, i) => source.pair({ seed: 3, dataset: 'ano2-test', index: i, relayed: i < P }, sp));
    const s = ano2.score(pairs, {});
    expect(rocPoint(s.slice(0, P), s.slice(P), []).auc).toBeGreaterThan(0.75);
  });
});
