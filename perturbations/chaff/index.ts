/**
 * Chaff: dummy packets that the attacker's tools add on a hop they control and that the
 * receiving end of that hop drops, so they never appear on the other connection.
 */
import { type Flow, FlowBuilder, mergePackets } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { directionParam, directions, hopParam, onHops } from '../../src/retime.js';
import { type Rng, exponential, poisson } from '../../src/rng.js';

const params = {
  ratio: {
    type: 'number',
    default: 1,
    min: 0,
    description: 'chaff packets per real payload packet of the same connection and direction (expected)',
  },
  rate: { type: 'number', default: 0, min: 0, unit: 'pkt/s', description: 'chaff packets per second, added to what `ratio` asks for' },
  arrival: {
    type: 'enum',
    values: ['poisson', 'uniform', 'bursty', 'mimic'],
    default: 'poisson',
    description:
      'Poisson process; gaps uniform on [g/2, g] (a netcat loop); ON/OFF bursts; or gaps resampled from the flow\'s own inter-packet delays',
  },
  burstOn: { type: 'number', default: 1, min: 1e-6, unit: 's', description: 'mean ON period of bursty chaff (exponential)' },
  burstOff: { type: 'number', default: 4, min: 0, unit: 's', description: 'mean OFF period of bursty chaff (exponential)' },
  sizes: {
    type: 'enum',
    values: ['flow', 'fixed', 'uniform'],
    default: 'flow',
    description: "payload sizes: resampled from the flow's own, fixed at `size`, or uniform on [sizeMin, sizeMax]",
  },
  size: { type: 'integer', default: 36, min: 1, unit: 'B', description: 'payload of every chaff packet with sizes "fixed"' },
  sizeMin: { type: 'integer', default: 36, min: 1, unit: 'B', description: 'smallest payload with sizes "uniform"' },
  sizeMax: { type: 'integer', default: 1448, min: 1, unit: 'B', description: 'largest payload with sizes "uniform"' },
  hop: hopParam('incoming', 'connection(s) that carry chaff; with both, each gets its own independent chaff'),
  direction: directionParam('forward', 'chaff sent with the keystrokes (forward), with the echoes (backward), or both'),
} as const;

type P = ParamsOf<typeof params>;

/** Smallest SSH packet a relay carries: the size used when a direction has no payload to imitate. */
const FALLBACK_SIZE = 36;

/** Arrival times over [start, end) with `expected` packets on average, sorted. */
export function arrivals(p: P, expected: number, start: number, end: number, ownGaps: Float64Array, rng: Rng): Float64Array {
  const span = end - start;
  if (expected <= 0 || span <= 0) return new Float64Array(0);
  let arrival = p.arrival;
  let gapScale = 0;
  if (arrival === 'mimic') {
    let mean = 0;
    for (const g of ownGaps) mean += g;
    mean = ownGaps.length ? mean / ownGaps.length : 0;
    // The flow's own gap shape, stretched so that the span holds `expected` packets; a flow
    // without gaps to imitate gets Poisson chaff.
    if (mean > 0) gapScale = span / expected / mean;
    else arrival = 'poisson';
  }
  if (arrival === 'poisson') {
    // Given their number, the arrival times of a Poisson process are uniform order statistics.
    const out = new Float64Array(poisson(rng, expected));
    for (let j = 0; j < out.length; j++) out[j] = start + span * rng.next();
    return out.sort();
  }
  let out = new Float64Array(Math.ceil(expected * 1.5) + 16);
  let n = 0;
  const push = (t: number) => {
    if (n === out.length) {
      const grown = new Float64Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[n++] = t;
  };
  if (arrival === 'uniform') {
    // Gaps U(g/2, g) have mean 3g/4; choose g so that the span holds `expected` of them.
    const g = (4 * span) / (3 * expected);
    for (let t = start + g * rng.next(); t < end; t += g * (0.5 + 0.5 * rng.next())) push(t);
  } else if (arrival === 'mimic') {
    const pick = () => ownGaps[Math.floor(rng.next() * ownGaps.length)] * gapScale;
    for (let t = start + pick() * rng.next(); t < end; t += pick()) push(t);
  } else {
    // Bursty: exponential ON/OFF periods started in their stationary state, Poisson within
    // ON at a rate that keeps the expected total.
    const on = p.burstOn;
    const off = p.burstOff;
    const rateOn = (expected / span) * ((on + off) / on);
    let isOn = rng.next() < on / (on + off);
    for (let t = start; t < end; isOn = !isOn) {
      const stop = Math.min(end, t + exponential(rng, isOn ? on : off));
      if (isOn) {
        const from = n;
        const k = poisson(rng, rateOn * (stop - t));
        for (let j = 0; j < k; j++) push(t + (stop - t) * rng.next());
        out.subarray(from, n).sort();
      }
      t = stop;
    }
  }
  return out.slice(0, n);
}

/** Chaff for one direction of one connection. */
export function chaffFor(f: Flow, dir: number, p: P, rng: Rng): Flow {
  const n = f.t.length;
  let real = 0;
  for (let i = 0; i < n; i++) if (f.dir[i] === dir && f.size[i] > 0) real++;
  const sizes = new Int32Array(real);
  const gaps = new Float64Array(Math.max(0, real - 1));
  let k = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    if (f.dir[i] !== dir || f.size[i] === 0) continue;
    if (k > 0) gaps[k - 1] = f.t[i] - prev;
    prev = f.t[i];
    sizes[k++] = f.size[i];
  }
  const b = new FlowBuilder(16);
  if (n === 0) return b.build();
  const start = f.t[0];
  const end = f.t[n - 1];
  const times = arrivals(p, p.ratio * real + p.rate * (end - start), start, end, gaps, rng);
  for (const t of times) {
    let size: number;
    if (p.sizes === 'fixed') size = p.size;
    else if (p.sizes === 'uniform') size = p.sizeMin + Math.floor(rng.next() * (Math.max(p.sizeMin, p.sizeMax) - p.sizeMin + 1));
    else size = real ? sizes[Math.floor(rng.next() * real)] : FALLBACK_SIZE;
    b.push(t, size, dir);
  }
  return b.build();
}

export default definePerturbation({
  name: 'chaff',
  description: 'dummy packets at a ratio or rate, in a chosen arrival pattern, dropped by the next hop',
  touches: 'both',
  params,
  isIdentity: (p) => p.ratio === 0 && p.rate === 0,
  apply(pair, p, rng) {
    return onHops(pair, p.hop, (f) => {
      let out = f;
      for (const d of directions(p.direction)) out = mergePackets(out, chaffFor(f, d, p, rng));
      return out;
    });
  },
});
