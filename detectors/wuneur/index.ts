/**
 * WuNeur: H.-C. Wu, S.-H. S. Huang, "Neural networks-based detection of stepping-stone
 * intrusion", Expert Systems with Applications 37(2), 2010, 1431–1437. Round trips found by
 * matching sends to their echoes; windows of consecutive round-trip times go through a
 * feed-forward network with one sigmoid hidden layer that estimates how many hops of the
 * connection chain lie downstream of the monitored host. train.ts fits the network and
 * writes model.json; this module loads it once and scores pairs. See README.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MatchAlgorithm, matchRoundTrips, maxRttParam } from '../../src/analysis/rtt.js';
import type { Flow, FlowPair } from '../../src/flow.js';
import { ownPackage } from '../../src/fsutil.js';
import type { ParamsOf } from '../../src/params.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  pairing: {
    type: 'enum',
    values: ['consistency', 'outgoing', 'incoming'],
    default: 'consistency',
    description:
      'score: −|ĥ_in − ĥ_out| (a relay shows the same downstream chain on both connections), or the estimated downstream hops of one connection alone',
  },
  matching: {
    type: 'enum',
    values: ['conservative', 'greedy'],
    default: 'conservative',
    description: 'send/echo matching (Yang & Huang): only unambiguous round trips, or every echo to the oldest outstanding send',
  },
  maxRtt: maxRttParam(' (chaff, or an echo merged away)'),
} as const;

export type WuNeurParams = ParamsOf<typeof params>;

/** The network and its input standardisation, as stored in model.json. */
export interface WuNeurModel {
  format: 'wuneur-mlp/1';
  /** W: consecutive round-trip times per input vector. */
  window: number;
  /** H: sigmoid units of the hidden layer. */
  hidden: number;
  /** Inputs are ln(max(RTT, rttFloor)): hop counts multiply RTTs, and the log makes that a shift. */
  rttFloor: number;
  /** Per-input mean and standard deviation of the transformed inputs over the training windows. */
  mean: number[];
  sd: number[];
  /** Hidden weights, row-major: w1[j·W + i] from input i to hidden unit j. */
  w1: number[];
  b1: number[];
  /** Output weights from each hidden unit, and the output bias; the output is linear. */
  w2: number[];
  b2: number;
  /** How the model was made (seed, counts, command, losses); informative. */
  provenance: Record<string, unknown>;
}

/** The network in typed arrays, for the forward pass. */
export interface Net {
  window: number;
  hidden: number;
  rttFloor: number;
  mean: Float64Array;
  /** 1 / sd, so the hot loop multiplies. */
  invSd: Float64Array;
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
  /** Scratch for one input vector (standardised) and the hidden activations. */
  z: Float64Array;
  h: Float64Array;
}

export function netOf(m: Pick<WuNeurModel, 'window' | 'hidden' | 'rttFloor' | 'mean' | 'sd' | 'w1' | 'b1' | 'w2' | 'b2'>): Net {
  return {
    window: m.window,
    hidden: m.hidden,
    rttFloor: m.rttFloor,
    mean: Float64Array.from(m.mean),
    invSd: Float64Array.from(m.sd, (s) => (s > 0 ? 1 / s : 1)),
    w1: Float64Array.from(m.w1),
    b1: Float64Array.from(m.b1),
    w2: Float64Array.from(m.w2),
    b2: m.b2,
    z: new Float64Array(m.window),
    h: new Float64Array(m.hidden),
  };
}

export function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/**
 * The network's output for one input vector `x` (already transformed, not standardised):
 * z = (x − mean)/sd, h_j = σ(b1_j + Σ_i w1[j·W + i] z_i), y = b2 + Σ_j w2_j h_j.
 * Leaves z and h in the net's scratch (training reads them for the gradient).
 */
export function forward(net: Net, x: Float64Array, at = 0): number {
  const W = net.window;
  const { z, h, w1, b1, w2, mean, invSd } = net;
  for (let i = 0; i < W; i++) z[i] = (x[at + i] - mean[i]) * invSd[i];
  let y = net.b2;
  for (let j = 0; j < net.hidden; j++) {
    let a = b1[j];
    const row = j * W;
    for (let i = 0; i < W; i++) a += w1[row + i] * z[i];
    const s = sigmoid(a);
    h[j] = s;
    y += w2[j] * s;
  }
  return y;
}

/**
 * Bounds of the output over all inputs: each hidden unit lies in (0, 1), so y lies in
 * [b2 + Σ min(0, w2_j), b2 + Σ max(0, w2_j)].
 */
export function outputRange(net: Net): { lo: number; hi: number } {
  let lo = net.b2;
  let hi = net.b2;
  for (let j = 0; j < net.hidden; j++) {
    if (net.w2[j] < 0) lo += net.w2[j];
    else hi += net.w2[j];
  }
  return { lo, hi };
}

/**
 * The input vectors of one connection: its round-trip times, ln(max(rtt, floor)), as one
 * array; input vector k is x[k .. k + W − 1] (windows slide by one round trip, so they
 * overlap and need no copy). A connection with fewer than W round trips (but at least one)
 * gets a single window that repeats its round trips in turn. Returns the number of windows
 * (0 without round trips) and the array, which is `scratch` when that is large enough.
 */
export function rttInputs(
  rtt: Float64Array,
  window: number,
  rttFloor: number,
  scratch?: Float64Array,
): { x: Float64Array; windows: number } {
  const n = rtt.length;
  const len = Math.max(n, n > 0 ? window : 0);
  const x = scratch && scratch.length >= len ? scratch : new Float64Array(len);
  for (let k = 0; k < len; k++) x[k] = Math.log(Math.max(rtt[k % n], rttFloor));
  return { x, windows: n === 0 ? 0 : len - window + 1 };
}

let inputScratch = new Float64Array(1024);
let predictionScratch = new Float64Array(1024);

/**
 * Estimated hops downstream of the monitored host for one connection: the median of the
 * network's outputs over all windows of its round trips (matched by `algorithm` within
 * maxRtt); NaN without round trips. The median, because a window that holds one badly
 * matched round trip (an echo paired with the wrong send) gives an outlying output. O(n·W·H) for the windows and O(m log m) for the median of m
 * window outputs.
 */
export function connectionHops(f: Flow, net: Net, maxRtt: number, algorithm: MatchAlgorithm = 'conservative'): number {
  const rt = matchRoundTrips(f, { maxRtt, algorithm });
  if (inputScratch.length < Math.max(rt.rtt.length, net.window)) inputScratch = new Float64Array(2 * Math.max(rt.rtt.length, net.window));
  const { x, windows } = rttInputs(rt.rtt, net.window, net.rttFloor, inputScratch);
  if (windows === 0) return NaN;
  if (predictionScratch.length < windows) predictionScratch = new Float64Array(2 * windows);
  const y = predictionScratch.subarray(0, windows);
  for (let k = 0; k < windows; k++) y[k] = forward(net, x, k);
  y.sort();
  return windows % 2 === 1 ? y[(windows - 1) / 2] : (y[windows / 2 - 1] + y[windows / 2]) / 2;
}

/**
 * The pair score for the chosen pairing; higher = more likely relayed.
 *
 * - consistency: −|ĥ_in − ĥ_out|. At S, the echo of a keystroke on the incoming connection
 *   leaves only after the keystroke has gone down the whole chain behind S and its echo has
 *   come back, so for a relay both connections show the same downstream chain.
 * - outgoing / incoming: ĥ of that connection alone, the paper's own indicator (a long chain
 *   downstream is an intrusion).
 *
 * A connection without round trips gives no evidence: its pair scores below every pair
 * with evidence (just under the lowest value the network can produce for this pairing).
 */
export function wuNeurScore(pair: FlowPair, net: Net, p: WuNeurParams): number {
  const { lo, hi } = outputRange(net);
  if (p.pairing === 'outgoing' || p.pairing === 'incoming') {
    const v = connectionHops(p.pairing === 'outgoing' ? pair.outgoing : pair.incoming, net, p.maxRtt, p.matching);
    return Number.isNaN(v) ? lo - 1 : v;
  }
  const hin = connectionHops(pair.incoming, net, p.maxRtt, p.matching);
  const hout = connectionHops(pair.outgoing, net, p.maxRtt, p.matching);
  if (Number.isNaN(hin) || Number.isNaN(hout)) return -(hi - lo) - 1;
  return 0 - Math.abs(hin - hout); // +0 when equal
}

/** Checks a parsed model.json: shapes agree and every weight is finite. */
export function checkModel(raw: unknown, where: string): WuNeurModel {
  const m = raw as WuNeurModel;
  const finite = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every((v) => Number.isFinite(v));
  const ok =
    m !== null &&
    typeof m === 'object' &&
    m.format === 'wuneur-mlp/1' &&
    Number.isInteger(m.window) &&
    m.window >= 1 &&
    Number.isInteger(m.hidden) &&
    m.hidden >= 1 &&
    m.rttFloor > 0 &&
    finite(m.mean, m.window) &&
    finite(m.sd, m.window) &&
    finite(m.w1, m.window * m.hidden) &&
    finite(m.b1, m.hidden) &&
    finite(m.w2, m.hidden) &&
    Number.isFinite(m.b2);
  if (!ok) throw new Error(`${where}: not a WuNeur model (format wuneur-mlp/1 with window, hidden, mean, sd, w1, b1, w2, b2)`);
  return m;
}

export function modelPath(): string {
  const here = fileURLToPath(new URL('./model.json', import.meta.url));
  return existsSync(here) ? here : join(ownPackage().root, 'detectors', 'wuneur', 'model.json');
}

let loaded: Net | undefined;

/** The network of model.json, read once per process. */
export function loadNet(): Net {
  if (!loaded) {
    const path = modelPath();
    loaded = netOf(checkModel(JSON.parse(readFileSync(path, 'utf8')), path));
  }
  return loaded;
}

export default defineDetector({
  name: 'wuneur',
  description: 'RTT windows through a one-hidden-layer network estimating the downstream chain length; score = −|ĥ_in − ĥ_out|',
  citation:
    'H.-C. Wu, S.-H. S. Huang. Neural networks-based detection of stepping-stone intrusion. Expert Systems with Applications 37(2), 2010, 1431–1437.',
  params,
  score(pairs, p) {
    const net = loadNet();
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = wuNeurScore(pairs[k], net, p);
    return out;
  },
});
