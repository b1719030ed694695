import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import wuneur, {
  type Net,
  checkModel,
  connectionHops,
  forward,
  loadNet,
  modelPath,
  netOf,
  outputRange,
  rttInputs,
  wuNeurScore,
  type WuNeurParams,
} from '../detectors/wuneur/index.js';
import { type Dataset, mse, standardisation, train } from '../detectors/wuneur/train.js';
import { matchRoundTrips } from '../src/analysis/rtt.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair, flowOf } from '../src/flow.js';
import { defaultParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { type Packet, handPair as pair } from './helpers.js';

/** A connection of keystrokes (sends) and their echoes, 36-byte payloads. */
function conn(sends: number[], echoes: number[], extra: Packet[] = []): Flow {
  return flowOf([
    ...sends.map((t) => [t, 36, DIR_FWD] as const),
    ...echoes.map((t) => [t, 36, DIR_BWD] as const),
    ...extra,
  ].sort((a, b) => a[0] - b[0]));
}

/** Round trips of the given lengths, one per second, each alone in flight. */
function rtts(...r: number[]): Flow {
  return conn(
    r.map((_, k) => k),
    r.map((x, k) => k + x),
  );
}

/**
 * W = 1, H = 1, no standardisation, w1 = 1, b1 = 0, w2 = 1, b2 = 0: the output for a round
 * trip r is σ(ln r) = 1/(1 + 1/r) = r/(1 + r), which is easy to check by hand.
 */
const unitNet = (): Net => netOf({ window: 1, hidden: 1, rttFloor: 1e-4, mean: [0], sd: [1], w1: [1], b1: [0], w2: [1], b2: 0 });
const rOver1PlusR = (r: number) => r / (1 + r);

const P = (over: Partial<WuNeurParams> = {}): WuNeurParams => ({ ...defaultParams(wuneur.params), ...over });

describe('forward pass', () => {
  // W = 2, H = 2; mean (1, 2), sd (2, 0.5); w1 rows (1, −1) and (0.5, 0.5); b1 (0, −1);
  // w2 (2, −3); b2 1.25.
  const net = netOf({ window: 2, hidden: 2, rttFloor: 1e-4, mean: [1, 2], sd: [2, 0.5], w1: [1, -1, 0.5, 0.5], b1: [0, -1], w2: [2, -3], b2: 1.25 });

  it('x = (3, 2.5): z = (1, 1), both hidden sums 0, σ = ½ each, y = 1.25 + 1 − 1.5 = 0.75', () => {
    expect(forward(net, Float64Array.of(3, 2.5))).toBeCloseTo(0.75, 12);
    expect(Array.from(net.z)).toEqual([1, 1]);
    expect(Array.from(net.h)).toEqual([0.5, 0.5]);
  });

  it('x = (1, 2): z = (0, 0), sums 0 and −1, y = 1.25 + 2·½ − 3·σ(−1) = 2.25 − 3/(1 + e) ≈ 1.4431757', () => {
    const y = forward(net, Float64Array.of(1, 2));
    expect(y).toBeCloseTo(2.25 - 3 / (1 + Math.E), 12);
    expect(y).toBeCloseTo(1.4431757359, 9);
  });

  it('reads the window at an offset of a longer array', () => {
    expect(forward(net, Float64Array.of(9, 9, 3, 2.5), 2)).toBeCloseTo(0.75, 12);
  });

  it('output range: hidden units in (0, 1), so y in [1.25 − 3, 1.25 + 2]', () => {
    expect(outputRange(net)).toEqual({ lo: -1.75, hi: 3.25 });
  });
});

describe('round-trip inputs of a hand-made connection', () => {
  // Sends at 0, 1, 2 s; echoes at 0.05, 1.2, 2.01 s: RTTs 0.05, 0.2, 0.01. A pure ACK at
  // 0.5 s is neither a send nor an echo; an output packet at 1.3 s finds no send
  // outstanding and is skipped.
  const f = conn([0, 1, 2], [0.05, 1.2, 2.01], [
    [0.5, 0, DIR_BWD],
    [1.3, 500, DIR_BWD],
  ]);
  const rt = matchRoundTrips(f, { maxRtt: 1 });
  const ln = Math.log;

  it('matches each send to its echo: RTTs 0.05, 0.2, 0.01', () => {
    expect(rt.rtt.length).toBe(3);
    [0.05, 0.2, 0.01].forEach((r, k) => expect(rt.rtt[k]).toBeCloseTo(r, 12));
  });

  it('W = 2: inputs ln 0.05, ln 0.2, ln 0.01 with windows starting at 0 and 1', () => {
    const { x, windows } = rttInputs(rt.rtt, 2, 1e-4);
    expect(windows).toBe(2);
    [ln(0.05), ln(0.2), ln(0.01)].forEach((v, k) => expect(x[k]).toBeCloseTo(v, 12));
  });

  it('W = 5 > 3 round trips: one window that repeats them in turn', () => {
    const { x, windows } = rttInputs(rt.rtt, 5, 1e-4);
    expect(windows).toBe(1);
    [ln(0.05), ln(0.2), ln(0.01), ln(0.05), ln(0.2)].forEach((v, k) => expect(x[k]).toBeCloseTo(v, 12));
  });

  it('an RTT of 0 (echo at the send instant) is read at the floor; no round trips, no windows', () => {
    expect(rttInputs(Float64Array.of(0), 1, 1e-4).x[0]).toBe(Math.log(1e-4));
    expect(rttInputs(new Float64Array(0), 3, 1e-4).windows).toBe(0);
  });

  it('connection estimate: median of r/(1 + r) over 0.05, 0.2, 0.01 is 0.05/1.05', () => {
    expect(connectionHops(f, unitNet(), 1)).toBeCloseTo(0.05 / 1.05, 12);
  });

  it('with an even number of windows, the mean of the two middle outputs', () => {
    // RTTs 0.05, 0.2, 0.01, 0.1: the middle two are 0.05 and 0.1.
    expect(connectionHops(rtts(0.05, 0.2, 0.01, 0.1), unitNet(), 1)).toBeCloseTo((0.05 / 1.05 + 0.1 / 1.1) / 2, 12);
  });

  it('no round trips: NaN', () => {
    expect(connectionHops(conn([0, 1], []), unitNet(), 1)).toBeNaN();
  });
});

describe('pair score', () => {
  const net = unitNet(); // outputs in (0, 1): lo 0, hi 1
  const incoming = rtts(0.25, 0.25, 0.25); // 0.25/1.25 = 0.2
  const outgoing = rtts(0.5, 0.5); // 0.5/1.5 = 1/3

  it('consistency: −|0.2 − 1/3|; outgoing and incoming alone: 1/3 and 0.2', () => {
    expect(wuNeurScore(pair(incoming, outgoing), net, P())).toBeCloseTo(-(1 / 3 - 0.2), 12);
    expect(wuNeurScore(pair(incoming, outgoing), net, P({ pairing: 'outgoing' }))).toBeCloseTo(1 / 3, 12);
    expect(wuNeurScore(pair(incoming, outgoing), net, P({ pairing: 'incoming' }))).toBeCloseTo(0.2, 12);
  });

  it('the same RTTs on both sides score 0, the best possible', () => {
    expect(wuNeurScore(pair(incoming, rtts(0.25)), net, P())).toBe(0);
  });

  it('a side without round trips scores below any pair with them: −(hi − lo) − 1 = −2, or lo − 1 = −1 alone', () => {
    const silent = conn([0, 1, 2], []);
    expect(wuNeurScore(pair(silent, outgoing), net, P())).toBe(-2);
    expect(wuNeurScore(pair(silent, outgoing), net, P({ pairing: 'incoming' }))).toBe(-1);
  });

  it('matching: an unanswered chaff send takes the echo greedily but not conservatively', () => {
    // Chaff send at 0 (never echoed), keystroke at 0.1 echoed at 0.35; a keystroke alone at
    // 2 echoed at 2.25. Greedy: the echo at 0.35 goes to the oldest send, the chaff (RTT
    // 0.35); the key at 0.1 is given up at 2 (older than maxRtt 1); then 0.25. Conservative:
    // the first echo came while two sends were out, so only 0.25 is kept.
    const chaffed = conn([0, 0.1, 2], [0.35, 2.25]);
    expect(connectionHops(chaffed, net, 1, 'greedy')).toBeCloseTo((0.35 / 1.35 + 0.25 / 1.25) / 2, 12);
    expect(connectionHops(chaffed, net, 1, 'conservative')).toBeCloseTo(0.2, 12);
  });
});

describe('training', () => {
  // Two-RTT windows: label 2 when both inputs are near ln 0.01, 6 when near ln 0.1.
  function toy(): Dataset {
    const x: number[] = [];
    const y: number[] = [];
    for (let k = 0; k < 40; k++) {
      const wobble = 0.05 * ((k % 5) - 2);
      const far = k % 2 === 1;
      const base = Math.log(far ? 0.1 : 0.01);
      x.push(base + wobble, base - wobble);
      y.push(far ? 6 : 2);
    }
    return { x: Float64Array.from(x), y: Float64Array.from(y), n: 40, w: 2 };
  }
  const opts = { hidden: 3, epochs: 60, learningRate: 0.05, momentum: 0, seed: 11 };

  it('standardisation: per input mean and population sd', () => {
    // Inputs (1, 10), (3, 10): means 2 and 10; sds 1 and 0 (a constant input gets 1).
    const std = standardisation({ x: Float64Array.of(1, 10, 3, 10), y: Float64Array.of(0, 0), n: 2, w: 2 });
    expect(std).toEqual({ mean: [2, 10], sd: [1, 1] });
  });

  it('is deterministic: the same seed gives the same weights, another seed others', () => {
    const ds = toy();
    const std = standardisation(ds);
    const a = train(ds, std, opts);
    const b = train(ds, std, opts);
    expect(b.w1).toEqual(a.w1);
    expect(b.w2).toEqual(a.w2);
    expect(b.b1).toEqual(a.b1);
    expect(b.b2).toBe(a.b2);
    expect(train(ds, std, { ...opts, seed: 12 }).w1).not.toEqual(a.w1);
  });

  it('fits the toy relation: squared error from 4 (the label variance, at the start) to under 0.1', () => {
    const ds = toy();
    const std = standardisation(ds);
    const untrained = netOf(train(ds, std, { ...opts, epochs: 0 }));
    // Before training the output bias is the mean label, 4, and the hidden layer's pull is small.
    expect(mse(untrained, ds)).toBeGreaterThan(3);
    expect(mse(netOf(train(ds, std, opts)), ds)).toBeLessThan(0.1);
  });
});

describe('model.json', () => {
  it('is a well-formed model with its provenance', () => {
    const raw = JSON.parse(readFileSync(modelPath(), 'utf8'));
    const m = checkModel(raw, 'model.json');
    expect(m.w1.length).toBe(m.window * m.hidden);
    expect(m.provenance.command).toBe('npx tsx detectors/wuneur/train.ts');
    expect(typeof m.provenance.seed).toBe('number');
  });

  it('refuses a model whose shapes disagree', () => {
    const raw = JSON.parse(readFileSync(modelPath(), 'utf8'));
    expect(() => checkModel({ ...raw, w2: raw.w2.slice(1) }, 'bad.json')).toThrow(/not a WuNeur model/);
    expect(() => checkModel({ ...raw, b2: null }, 'bad.json')).toThrow(/not a WuNeur model/);
  });
});

describe('trained model on synthetic pairs', () => {
  const sp = defaultParams(source.params);
  const long = { ...sp, chain: 8, monitor: 1 }; // 8 hops from S to the end of the chain
  const req = (index: number, relayed: boolean) => ({ seed: 7, dataset: 'wuneur-test', index, relayed });

  it('ranks a relay with a long chain behind S above a local session beside an unrelated one', () => {
    const relay = source.pair(req(2, true), long);
    const negative = source.pair(req(2, false), long);
    expect(negative.meta.kind).toBe('local+unrelated');
    const s = wuneur.score([relay, negative], defaultParams(wuneur.params));
    expect(s[0]).toBeGreaterThan(s[1]);
    // The local session's echo comes from S itself: no hops; the relay's two sides agree.
    const net = loadNet();
    expect(Math.abs(connectionHops(negative.incoming, net, 1))).toBeLessThan(0.5);
    expect(s[0]).toBeGreaterThan(-0.1);
  });

  it('estimates more hops behind an 8-hop chain than behind one hop (means over 8 sessions)', () => {
    const net = loadNet();
    let longHops = 0;
    let shortHops = 0;
    for (let i = 0; i < 8; i++) {
      longHops += connectionHops(source.pair(req(i, true), long).outgoing, net, 1) / 8;
      shortHops += connectionHops(source.pair(req(i, true), sp).outgoing, net, 1) / 8;
    }
    expect(longHops).toBeGreaterThan(shortHops + 1);
  });
});
