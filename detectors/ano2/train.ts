/**
 * Trains the Ano2 linear SVM and writes detectors/ano2/model.json.
 *
 *   npx tsx detectors/ano2/train.ts
 *
 * Training pairs come from synthetic-ssh at its default parameters with a seed of their
 * own (TRAIN_SEED), which no evaluation config uses. Everything is deterministic: the same
 * code writes the same model.json, byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import chaff from '../../perturbations/chaff/index.js';
import delay from '../../perturbations/delay/index.js';
import type { FlowPair } from '../../src/flow.js';
import { rocPoint } from '../../src/metrics.js';
import { defaultParams } from '../../src/params.js';
import { rngFor } from '../../src/rng.js';
import source from '../../src/sources/synthetic-ssh.js';
import { type Ano2Model, DEFAULT_FEATURES, FEATURE_NAMES, type FeatureConfig, decision, pairFeatures } from './index.js';

/** Seed of the training pairs; evaluation configs use others (20200914, 777001, 31337, 1). */
export const TRAIN_SEED = 5190611;
export const DATASET = 'ano2-train';
export const POSITIVES = 1800;
export const NEGATIVES = 1800;
/** Share of pairs (positives and negatives alike) held out to choose C. */
export const VALIDATION_SHARE = 0.25;
export const C_GRID = [0.001, 0.01, 0.1, 1, 10];
const EPSILON = 1e-3;
const MAX_EPOCHS = 10000;

/**
 * Evasion applied to the relayed training pairs, by index modulo 3: the papers train their
 * classifier on connections with and without evasion (Huang & Kuo: chaff; Ding, Le &
 * Huang: jitter), so a third of the positives is left alone, a third carries Poisson chaff
 * on the incoming keystrokes, a third is delayed at the relay. Levels cycle through the
 * lists with the index.
 */
export const CHAFF_RATIOS = [0.25, 0.5, 1, 2];
export const DELAY_MAXIMA = [0.1, 0.3, 0.6, 1];

export function trainingPair(index: number): FlowPair {
  const relayed = index < POSITIVES;
  const p = source.pair({ seed: TRAIN_SEED, dataset: DATASET, index, relayed }, defaultParams(source.params));
  if (!relayed) return p;
  const level = Math.floor(index / 3);
  switch (index % 3) {
    case 1:
      return chaff.apply(
        p,
        { ...defaultParams(chaff.params), ratio: CHAFF_RATIOS[level % CHAFF_RATIOS.length] },
        rngFor(TRAIN_SEED, 'ano2-train/chaff', index),
      );
    case 2:
      return delay.apply(
        p,
        { ...defaultParams(delay.params), max: DELAY_MAXIMA[level % DELAY_MAXIMA.length] },
        rngFor(TRAIN_SEED, 'ano2-train/delay', index),
      );
    default:
      return p;
  }
}

/** Rows of features (row-major, FEATURE_NAMES.length per row) and labels ±1. */
export interface Dataset {
  x: Float64Array;
  y: Int8Array;
  n: number;
  d: number;
}

export function buildDataset(cfg: FeatureConfig): Dataset {
  const d = FEATURE_NAMES.length;
  const n = POSITIVES + NEGATIVES;
  const x = new Float64Array(n * d);
  const y = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    pairFeatures(trainingPair(i), cfg, x.subarray(i * d, (i + 1) * d));
    y[i] = i < POSITIVES ? 1 : -1;
  }
  return { x, y, n, d };
}

/** Rows whose index satisfies `keep`. */
export function subset(ds: Dataset, keep: (i: number) => boolean): Dataset {
  const rows: number[] = [];
  for (let i = 0; i < ds.n; i++) if (keep(i)) rows.push(i);
  const x = new Float64Array(rows.length * ds.d);
  const y = new Int8Array(rows.length);
  rows.forEach((r, k) => {
    x.set(ds.x.subarray(r * ds.d, (r + 1) * ds.d), k * ds.d);
    y[k] = ds.y[r];
  });
  return { x, y, n: rows.length, d: ds.d };
}

/** Mean and (population) standard deviation per feature; a constant feature gets sd 1. */
export function standardisation(ds: Dataset): { mean: number[]; sd: number[] } {
  const mean = new Array<number>(ds.d).fill(0);
  const sd = new Array<number>(ds.d).fill(0);
  for (let i = 0; i < ds.n; i++) for (let k = 0; k < ds.d; k++) mean[k] += ds.x[i * ds.d + k];
  for (let k = 0; k < ds.d; k++) mean[k] /= ds.n;
  for (let i = 0; i < ds.n; i++) {
    for (let k = 0; k < ds.d; k++) {
      const v = ds.x[i * ds.d + k] - mean[k];
      sd[k] += v * v;
    }
  }
  for (let k = 0; k < ds.d; k++) sd[k] = Math.sqrt(sd[k] / ds.n) || 1;
  return { mean, sd };
}

/**
 * Linear L2-loss (squared hinge) SVM with an L2 penalty, by dual coordinate descent (Hsieh,
 * Chang, Lin, Keerthi & Sundararajan, ICML 2008; LIBLINEAR's default solver, -s 1). The
 * bias is a constant feature 1, penalised with the weights (LIBLINEAR's -B 1). Rows are
 * visited in a seeded random order per epoch; the loop stops when the projected gradient's
 * spread falls under EPSILON (LIBLINEAR's test) or after MAX_EPOCHS.
 *
 * Primal: min ½‖w‖² + C Σ max(0, 1 − yᵢ (w · zᵢ + b))², zᵢ the standardised features.
 * Dual: min ½ αᵀ(Q + I/(2C))α − Σαᵢ over αᵢ ≥ 0, Qᵢⱼ = yᵢyⱼ zᵢ·zⱼ, and w = Σ αᵢ yᵢ zᵢ.
 * The squared hinge is used rather than the hinge because its dual converges sooner on
 * these data (the README gives the epoch counts).
 */
export function trainSvm(
  ds: Dataset,
  std: { mean: number[]; sd: number[] },
  c: number,
  seed: number,
): { weights: number[]; bias: number; epochs: number } {
  const { n, d } = ds;
  const D = d + 1; // features and the constant 1
  const z = new Float64Array(n * D);
  const qii = new Float64Array(n);
  const diag = 1 / (2 * c);
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (let k = 0; k < d; k++) {
      const v = (ds.x[i * d + k] - std.mean[k]) / std.sd[k];
      z[i * D + k] = v;
      q += v * v;
    }
    z[i * D + d] = 1;
    qii[i] = q + 1 + diag;
  }
  const alpha = new Float64Array(n);
  const w = new Float64Array(D);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let epoch = 0;
  for (; epoch < MAX_EPOCHS; epoch++) {
    const rng = rngFor(seed, 'ano2/svm', epoch);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let pgMax = -Infinity;
    let pgMin = Infinity;
    for (const i of order) {
      const yi = ds.y[i];
      let dot = 0;
      for (let k = 0; k < D; k++) dot += w[k] * z[i * D + k];
      const g = yi * dot - 1 + diag * alpha[i];
      const pg = alpha[i] === 0 ? Math.min(g, 0) : g;
      if (pg > pgMax) pgMax = pg;
      if (pg < pgMin) pgMin = pg;
      if (pg !== 0) {
        const old = alpha[i];
        alpha[i] = Math.max(old - g / qii[i], 0);
        const step = (alpha[i] - old) * yi;
        for (let k = 0; k < D; k++) w[k] += step * z[i * D + k];
      }
    }
    if (pgMax - pgMin < EPSILON) break;
  }
  return { weights: Array.from(w.subarray(0, d)), bias: w[d], epochs: Math.min(epoch + 1, MAX_EPOCHS) };
}

/** AUC of a model on a dataset. */
export function aucOf(m: Pick<Ano2Model, 'mean' | 'sd' | 'weights' | 'bias'>, ds: Dataset): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < ds.n; i++) {
    const s = decision(m as Ano2Model, ds.x.subarray(i * ds.d, (i + 1) * ds.d));
    (ds.y[i] > 0 ? pos : neg).push(s);
  }
  return rocPoint(Float64Array.from(pos), Float64Array.from(neg), []).auc;
}

/** Validation rows: the last VALIDATION_SHARE of the positives and of the negatives. */
function isValidation(i: number): boolean {
  return i < POSITIVES ? i >= POSITIVES * (1 - VALIDATION_SHARE) : i - POSITIVES >= NEGATIVES * (1 - VALIDATION_SHARE);
}

const round = (v: number) => Number(v.toPrecision(12));

export function train(log: (s: string) => void = () => {}): Ano2Model {
  const cfg = DEFAULT_FEATURES;
  const all = buildDataset(cfg);
  const fit = subset(all, (i) => !isValidation(i));
  const val = subset(all, isValidation);
  const fitStd = standardisation(fit);
  let bestC = C_GRID[0];
  let bestAuc = -Infinity;
  const validation: { c: number; auc: number }[] = [];
  for (const c of C_GRID) {
    const svm = trainSvm(fit, fitStd, c, TRAIN_SEED);
    const auc = aucOf({ ...fitStd, ...svm }, val);
    validation.push({ c, auc: round(auc) });
    log(`C = ${c}: validation AUC ${auc.toFixed(4)} (${svm.epochs} epochs)`);
    // Ties go to the smaller C (the stronger penalty).
    if (auc > bestAuc + 1e-9) {
      bestAuc = auc;
      bestC = c;
    }
  }
  const std = standardisation(all);
  const svm = trainSvm(all, std, bestC, TRAIN_SEED);
  const model: Ano2Model = {
    features: FEATURE_NAMES,
    featureConfig: cfg,
    mean: std.mean.map(round),
    sd: std.sd.map(round),
    weights: svm.weights.map(round),
    bias: round(svm.bias),
    provenance: {
      command: 'npx tsx detectors/ano2/train.ts',
      source: 'synthetic-ssh, default parameters',
      seed: TRAIN_SEED,
      dataset: DATASET,
      positives: POSITIVES,
      negatives: NEGATIVES,
      positiveEvasion: {
        'index % 3 = 0': 'none',
        'index % 3 = 1': `chaff (defaults: Poisson, incoming hop, forward) with ratio ${JSON.stringify(CHAFF_RATIOS)}[floor(index / 3) mod ${CHAFF_RATIOS.length}]`,
        'index % 3 = 2': `delay (defaults: uniform, both directions, FIFO) with max ${JSON.stringify(DELAY_MAXIMA)}[floor(index / 3) mod ${DELAY_MAXIMA.length}] s`,
      },
      validation: `last ${VALIDATION_SHARE * 100} % of positives and of negatives held out to choose C`,
      validationAuc: validation,
      c: bestC,
      solver: 'L2-loss (squared hinge) linear SVM, dual coordinate descent (LIBLINEAR -s 1 -B 1)',
      epochs: svm.epochs,
      trainingAuc: round(aucOf({ ...std, ...svm }, all)),
    },
  };
  log(`chosen C = ${bestC}; training AUC ${(model.provenance.trainingAuc as number).toFixed(4)} (${svm.epochs} epochs)`);
  return model;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const model = train((s) => process.stderr.write(`${s}\n`));
  const path = fileURLToPath(new URL('./model.json', import.meta.url));
  writeFileSync(path, `${JSON.stringify(model, null, 2)}\n`);
  process.stderr.write(`wrote ${path}\n`);
}
