/**
 * Trains the WuNeur network and writes detectors/wuneur/model.json.
 *
 *   npx tsx detectors/wuneur/train.ts
 *
 * Training connections come from synthetic-ssh with a seed of their own (TRAIN_SEED), which
 * no evaluation config uses. Everything is deterministic: the same code writes the same
 * model.json, byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MatchAlgorithm, matchRoundTrips } from '../../src/analysis/rtt.js';
import type { Flow, FlowPair } from '../../src/flow.js';
import { rocPoint } from '../../src/metrics.js';
import { defaultParams } from '../../src/params.js';
import { rngFor } from '../../src/rng.js';
import source from '../../src/sources/synthetic-ssh.js';
import wuneur, { type Net, type WuNeurModel, type WuNeurParams, connectionHops, forward, netOf, rttInputs, wuNeurScore } from './index.js';

/** Seed of the training pairs; evaluation configs use others (20200914, 777001, 31337, 1). */
export const TRAIN_SEED = 4102010;
export const DATASET = 'wuneur-train';
/**
 * W and H of the network: eight consecutive round trips in, eight sigmoid units. Neither
 * is given in what we could read of the paper; on the validation pairs W = 1, 4, 8 and 16
 * and H = 4, 8 and 16 all end within 2% of one another in squared error.
 */
export const WINDOW = 8;
export const HIDDEN = 8;
/** Inputs are ln(max(RTT, RTT_FLOOR)). */
export const RTT_FLOOR = 1e-4;
/** Round trips longer than this are given up when matching (the detector's default maxRtt). */
export const MAX_RTT = 1;
/** Send/echo matching of the training round trips. */
export const MATCHING: MatchAlgorithm = 'greedy';
/** Windows taken from each training connection, evenly spaced, so long sessions do not outweigh short ones. */
export const WINDOWS_PER_CONNECTION = 16;
/** Training pairs, half relayed; every pair gets a chain setting of its own (trainingSetting). */
export const PAIRS = 3000;
/** Longest chain (stepping stones) in the training set: the source's upper bound. */
export const MAX_CHAIN = 8;
/** Range of per-hop RTT medians (log-uniform) for settings where every hop has its own median. */
export const HOP_RTT_RANGE = [0.005, 0.08] as const;
/** Share of pairs (by index, the last ones) held out to report validation figures. */
export const VALIDATION_SHARE = 0.2;
export const EPOCHS = 30;
export const LEARNING_RATE = 0.05;
/** 0: the plain delta rule, which the paper found best; momentum 0.9 at a rate of 0.01 ends no better. */
export const MOMENTUM = 0;

/** The chain behind one training pair. */
export interface Setting {
  /** Stepping stones in the chain, 1 … MAX_CHAIN. */
  chain: number;
  /** Which of them is S, 1 … chain. */
  monitor: number;
  /** Per-hop RTT median (s); 0 for the source's default split of rttUpMedian and rttDownMedian. */
  hopRttMedian: number;
  /** Hops from S to the end of the chain: chain + 1 − monitor. */
  downstream: number;
}

/**
 * The setting of training pair `index`: the downstream length uniform on 1 … MAX_CHAIN
 * (so every label is as common as every other), S's position uniform among those that
 * leave room for it, and the hop RTTs either the source's default split (half the pairs:
 * the traffic the detector is evaluated on, where more hops add up jitter and forwarding
 * rather than RTT) or a per-hop median log-uniform on HOP_RTT_RANGE (the paper's premise:
 * every hop adds its own round trip).
 */
export function trainingSetting(index: number): Setting {
  const rng = rngFor(TRAIN_SEED, `${DATASET}/setting`, index);
  const downstream = 1 + Math.floor(rng.next() * MAX_CHAIN);
  const monitor = 1 + Math.floor(rng.next() * (MAX_CHAIN + 1 - downstream));
  const chain = monitor + downstream - 1;
  const [lo, hi] = HOP_RTT_RANGE;
  const perHop = rng.next() < 0.5;
  const u = rng.next();
  return { chain, monitor, downstream, hopRttMedian: perHop ? lo * Math.pow(hi / lo, u) : 0 };
}

const sourceDefaults = defaultParams(source.params);

/**
 * Training pair `index` with the hops each of its connections should give: the relayed
 * pairs are the even indices. A connection S relays (both of a relay, the incoming one of
 * a negative relayed elsewhere, the unrelated outgoing one) shows the chain downstream of
 * S; a session whose shell runs on S shows none.
 */
export function trainingPair(index: number): { pair: FlowPair; hopsIn: number; hopsOut: number; setting: Setting } {
  const setting = trainingSetting(index);
  // Mid-session windows: with session starts, a relay's incoming connection begins with
  // the user's typing at S itself, echoed with no hop behind it, and every connection
  // with a handshake; labelled with the chain's hops they would teach the net noise.
  const p = { ...sourceDefaults, sessionStart: false, chain: setting.chain, monitor: setting.monitor, hopRttMedian: setting.hopRttMedian };
  const pair = source.pair({ seed: TRAIN_SEED, dataset: DATASET, index, relayed: index % 2 === 0 }, p);
  const local = !pair.relayed && pair.meta.kind.startsWith('local');
  return { pair, hopsIn: local ? 0 : setting.downstream, hopsOut: setting.downstream, setting };
}

/** Training windows (row-major, W per row) with the hop count each should give. */
export interface Dataset {
  x: Float64Array;
  y: Float64Array;
  n: number;
  w: number;
}

/**
 * Appends up to `per` evenly spaced windows of one connection's round trips, each labelled
 * `hops`. A connection without round trips adds nothing.
 */
export function addConnection(rows: number[], labels: number[], f: Flow, hops: number, per: number, w = WINDOW): void {
  const rt = matchRoundTrips(f, { maxRtt: MAX_RTT, algorithm: MATCHING });
  const { x, windows } = rttInputs(rt.rtt, w, RTT_FLOOR);
  if (windows === 0) return;
  const take = Math.min(per, windows);
  for (let k = 0; k < take; k++) {
    const at = take === 1 ? 0 : Math.round((k * (windows - 1)) / (take - 1));
    for (let i = 0; i < w; i++) rows.push(x[at + i]);
    labels.push(hops);
  }
}

export function toDataset(rows: number[], labels: number[], w = WINDOW): Dataset {
  return { x: Float64Array.from(rows), y: Float64Array.from(labels), n: labels.length, w };
}

/** Per-input mean and population standard deviation; a constant input gets sd 1. */
export function standardisation(ds: Dataset): { mean: number[]; sd: number[] } {
  const { n, w } = ds;
  const mean = new Array<number>(w).fill(0);
  const sd = new Array<number>(w).fill(0);
  for (let r = 0; r < n; r++) for (let i = 0; i < w; i++) mean[i] += ds.x[r * w + i];
  for (let i = 0; i < w; i++) mean[i] /= n;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < w; i++) {
      const d = ds.x[r * w + i] - mean[i];
      sd[i] += d * d;
    }
  }
  for (let i = 0; i < w; i++) sd[i] = Math.sqrt(sd[i] / n) || 1;
  return { mean, sd };
}

export interface TrainOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  momentum: number;
  seed: number | string;
}

/** Mean squared error of the net over a dataset. */
export function mse(net: Net, ds: Dataset): number {
  let s = 0;
  for (let r = 0; r < ds.n; r++) {
    const e = forward(net, ds.x, r * ds.w) - ds.y[r];
    s += e * e;
  }
  return ds.n === 0 ? NaN : s / ds.n;
}

/**
 * Back-propagation of the squared error (the generalised delta rule), one example at a
 * time (with momentum when o.momentum > 0), in an order shuffled per epoch from the seed. Hidden weights start
 * uniform in ±1/√W and output weights in ±1/√H (from the seed); the output bias starts at
 * the mean label. The learning rate falls linearly to a tenth of its start over the
 * epochs, so that the last epochs settle rather than wander.
 */
export function train(ds: Dataset, std: { mean: number[]; sd: number[] }, o: TrainOptions): WuNeurModel {
  const W = ds.w;
  const H = o.hidden;
  const init = rngFor(o.seed, 'wuneur-train/init', 0);
  const a1 = 1 / Math.sqrt(W);
  const a2 = 1 / Math.sqrt(H);
  let meanY = 0;
  for (let r = 0; r < ds.n; r++) meanY += ds.y[r];
  meanY = ds.n > 0 ? meanY / ds.n : 0;
  const net = netOf({
    window: W,
    hidden: H,
    rttFloor: RTT_FLOOR,
    mean: std.mean,
    sd: std.sd,
    w1: Array.from({ length: H * W }, () => (2 * init.next() - 1) * a1),
    b1: Array.from({ length: H }, () => (2 * init.next() - 1) * a1),
    w2: Array.from({ length: H }, () => (2 * init.next() - 1) * a2),
    b2: meanY,
  });
  const v1 = new Float64Array(H * W);
  const vb1 = new Float64Array(H);
  const v2 = new Float64Array(H);
  let vb2 = 0;
  const order = new Uint32Array(ds.n);
  for (let r = 0; r < ds.n; r++) order[r] = r;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const shuffle = rngFor(o.seed, 'wuneur-train/shuffle', epoch);
    for (let r = ds.n - 1; r > 0; r--) {
      const s = Math.floor(shuffle.next() * (r + 1));
      const t = order[r];
      order[r] = order[s];
      order[s] = t;
    }
    const lr = o.learningRate * (1 - (0.9 * epoch) / Math.max(1, o.epochs - 1));
    for (let q = 0; q < ds.n; q++) {
      const r = order[q];
      const e = forward(net, ds.x, r * W) - ds.y[r];
      const { z, h, w1, w2 } = net;
      for (let j = 0; j < H; j++) {
        const delta = e * w2[j] * h[j] * (1 - h[j]);
        v2[j] = o.momentum * v2[j] - lr * e * h[j];
        w2[j] += v2[j];
        vb1[j] = o.momentum * vb1[j] - lr * delta;
        net.b1[j] += vb1[j];
        const row = j * W;
        for (let i = 0; i < W; i++) {
          v1[row + i] = o.momentum * v1[row + i] - lr * delta * z[i];
          w1[row + i] += v1[row + i];
        }
      }
      vb2 = o.momentum * vb2 - lr * e;
      net.b2 += vb2;
    }
  }
  return {
    format: 'wuneur-mlp/1',
    window: W,
    hidden: H,
    rttFloor: RTT_FLOOR,
    mean: std.mean,
    sd: std.sd,
    w1: Array.from(net.w1),
    b1: Array.from(net.b1),
    w2: Array.from(net.w2),
    b2: net.b2,
    provenance: {},
  };
}

/** Windows of the connections of training pairs [from, to). */
export function buildDataset(from: number, to: number): Dataset {
  const rows: number[] = [];
  const labels: number[] = [];
  for (let i = from; i < to; i++) {
    const { pair, hopsIn, hopsOut } = trainingPair(i);
    addConnection(rows, labels, pair.incoming, hopsIn, WINDOWS_PER_CONNECTION);
    addConnection(rows, labels, pair.outgoing, hopsOut, WINDOWS_PER_CONNECTION);
  }
  return toDataset(rows, labels);
}

/** Relayed and non-relayed pairs at the source's defaults, from the training seed under a dataset name of their own. */
export const CHECK_DATASET = 'wuneur-check';
export const CHECK_PAIRS = 400;

function auc(scores: (pair: FlowPair) => number, pairs: FlowPair[]): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (const p of pairs) (p.relayed ? pos : neg).push(scores(p));
  return rocPoint(Float64Array.from(pos), Float64Array.from(neg), [0.01]).auc;
}

const round = (x: number, digits = 6) => Number(x.toPrecision(digits));

function main(): void {
  const started = performance.now();
  const nTrain = Math.round(PAIRS * (1 - VALIDATION_SHARE));
  const trainSet = buildDataset(0, nTrain);
  const validationSet = buildDataset(nTrain, PAIRS);
  const std = standardisation(trainSet);
  const options: TrainOptions = { hidden: HIDDEN, epochs: EPOCHS, learningRate: LEARNING_RATE, momentum: MOMENTUM, seed: TRAIN_SEED };
  const model = train(trainSet, std, options);
  const net = netOf(model);

  // Connection-level error of the median-of-windows estimate, on the held-out pairs.
  let absErr = 0;
  let connections = 0;
  const validationPairs: FlowPair[] = [];
  for (let i = nTrain; i < PAIRS; i++) {
    const { pair, hopsIn, hopsOut } = trainingPair(i);
    validationPairs.push(pair);
    for (const [f, h] of [
      [pair.incoming, hopsIn],
      [pair.outgoing, hopsOut],
    ] as const) {
      const est = connectionHops(f, net, MAX_RTT, MATCHING);
      if (Number.isNaN(est)) continue;
      absErr += Math.abs(est - h);
      connections++;
    }
  }
  const check: FlowPair[] = [];
  for (let i = 0; i < CHECK_PAIRS; i++) {
    check.push(source.pair({ seed: TRAIN_SEED, dataset: CHECK_DATASET, index: i, relayed: i < CHECK_PAIRS / 4 }, sourceDefaults));
  }
  // Pair figures with the detector's own defaults (its matching may differ from the training one).
  const params = (pairing: WuNeurParams['pairing']): WuNeurParams => ({ ...defaultParams(wuneur.params), pairing });
  model.provenance = {
    command: 'npx tsx detectors/wuneur/train.ts',
    source: 'synthetic-ssh',
    seed: TRAIN_SEED,
    dataset: DATASET,
    pairs: PAIRS,
    trainingPairs: nTrain,
    validationPairs: PAIRS - nTrain,
    trainingWindows: trainSet.n,
    validationWindows: validationSet.n,
    windowsPerConnection: WINDOWS_PER_CONNECTION,
    settings: `downstream hops uniform on 1..${MAX_CHAIN}, monitor uniform on the positions that leave room, chain = monitor + downstream − 1; half the pairs at the default RTT split, half with a per-hop RTT median log-uniform on [${HOP_RTT_RANGE.join(', ')}] s`,
    labels: 'hops from S to the end of the chain; 0 for a session whose shell runs on S',
    maxRtt: MAX_RTT,
    matching: MATCHING,
    training: { rule: 'back-propagation of squared error (the delta rule), one example at a time', ...options },
    trainMse: round(mse(net, trainSet)),
    validationMse: round(mse(net, validationSet)),
    validationConnectionMae: round(absErr / connections),
    validationPairAuc: round(auc((p) => wuNeurScore(p, net, params('consistency')), validationPairs)),
    checkDataset: CHECK_DATASET,
    checkPairs: CHECK_PAIRS,
    checkAuc: {
      consistency: round(auc((p) => wuNeurScore(p, net, params('consistency')), check)),
      outgoing: round(auc((p) => wuNeurScore(p, net, params('outgoing')), check)),
      incoming: round(auc((p) => wuNeurScore(p, net, params('incoming')), check)),
    },
  };
  const out = fileURLToPath(new URL('./model.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify(model, null, 2)}\n`);
  console.log(JSON.stringify(model.provenance, null, 2));
  console.log(`wrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
