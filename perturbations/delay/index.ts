/**
 * Delay at the relay: the stepping stone holds packets it forwards for a random time,
 * bounded by Δ, before sending them on.
 */
import { DIR_BWD, type Flow, type FlowPair, payloadTimes, withTimes } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { type Side, copyReadyTimes, forwardedDirection, propagatedTimes } from '../../src/retime.js';
import type { Rng } from '../../src/rng.js';

const params = {
  distribution: {
    type: 'enum',
    values: ['uniform', 'exponential', 'pareto'],
    default: 'uniform',
    description: 'delay law: U(0, Δ); exponential with mean `scale`; Pareto from `scale` with shape `alpha`; the last two truncated at Δ',
  },
  max: { type: 'number', default: 0.5, min: 0, unit: 's', description: 'Δ: bound on the random delay of a packet' },
  scale: { type: 'number', default: 0.1, min: 1e-9, unit: 's', description: 'mean (exponential) or minimum (Pareto) delay' },
  alpha: { type: 'number', default: 1.5, min: 0.01, description: 'Pareto shape' },
  probability: { type: 'number', default: 1, min: 0, max: 1, description: 'share of packets that are delayed at all' },
  fifo: { type: 'boolean', default: true, description: 'keep the order of forwarded packets (a FIFO relay)' },
  latency: { type: 'number', default: 0, min: 0, unit: 's', description: 'constant extra latency added to every forwarded packet' },
  direction: {
    type: 'enum',
    values: ['forward', 'both'],
    default: 'both',
    description: 'delay keystrokes forwarded downstream only, or also the echoes and output forwarded back',
  },
} as const;

type P = ParamsOf<typeof params>;

/** A delay in [0, max] from one uniform draw u, by inverting the truncated law. */
export function drawDelay(p: P, u: number): number {
  const max = p.max;
  if (max <= 0) return 0;
  switch (p.distribution) {
    case 'exponential': {
      const s = p.scale;
      return -s * Math.log(1 - u * (1 - Math.exp(-max / s)));
    }
    case 'pareto': {
      const xmin = p.scale;
      if (xmin >= max) return max;
      const tail = Math.pow(xmin / max, p.alpha);
      return xmin / Math.pow(1 - u * (1 - tail), 1 / p.alpha);
    }
    default:
      return u * max;
  }
}

/**
 * Delays the payload packets S forwards on one connection. Two draws per packet (delay or
 * not, and how much), always both, so that the levels of a sweep share their numbers.
 * The k-th forwarded packet is ready to leave at `ready[k]` (its own time when absent):
 * t'ₖ = readyₖ + latency + dₖ, and FIFO: t'ₖ = max(that, t'ₖ₋₁), which keeps every delay
 * within [0, Δ + latency] of the ready time whenever the ready times are in order.
 * Returns the new time of every packet, indexed like `f`.
 */
export function delayedTimes(f: Flow, side: Side, p: P, rng: Rng, ready?: Float64Array): Float64Array {
  const sent = forwardedDirection(side);
  const newT = new Float64Array(f.t.length);
  let last = -Infinity;
  let k = 0;
  for (let i = 0; i < f.t.length; i++) {
    if (f.size[i] === 0 || f.dir[i] !== sent) continue;
    const delayed = rng.next() < p.probability;
    const d = drawDelay(p, rng.next());
    let t = (ready ? ready[k] : f.t[i]) + p.latency + (delayed ? d : 0);
    k++;
    if (p.fifo && t < last) t = last;
    last = Math.max(last, t);
    newT[i] = t;
  }
  return propagatedTimes(f, sent, newT);
}

/** delayedTimes as a new, time-sorted flow. */
export function delayConnection(f: Flow, side: Side, p: P, rng: Rng, ready?: Float64Array): Flow {
  return withTimes(f, delayedTimes(f, side, p, rng, ready));
}

/**
 * When S can forward each echo and output packet back to the user (incoming backward
 * payload, in order): a relayed pair's incoming answers copy the outgoing ones, which
 * now reach S later by the shift their keystrokes got (src/retime.ts copyReadyTimes).
 */
function echoesReady(pair: FlowPair, outgoingTimes: Float64Array): Float64Array {
  const out = pair.outgoing;
  const originals = payloadTimes(out, DIR_BWD);
  const arrived = new Float64Array(originals.length);
  let k = 0;
  for (let i = 0; i < out.t.length; i++) if (out.size[i] > 0 && out.dir[i] === DIR_BWD) arrived[k++] = outgoingTimes[i];
  return copyReadyTimes(originals, arrived, payloadTimes(pair.incoming, DIR_BWD));
}

export default definePerturbation({
  name: 'delay',
  description: 'random per-packet delay at the relay (uniform, exponential or Pareto, bounded), FIFO or not',
  touches: 'both',
  params,
  isIdentity: (p) => (p.max === 0 || p.probability === 0) && p.latency === 0,
  apply(pair, p, rng) {
    const outTimes = delayedTimes(pair.outgoing, 'outgoing', p, rng);
    const outgoing = withTimes(pair.outgoing, outTimes);
    if (p.direction !== 'both') return { ...pair, outgoing };
    // On a relay, what S sends back is what came back to it on the outgoing connection:
    // it cannot leave before that arrived. Two unrelated connections carry nothing over.
    const ready = pair.relayed ? echoesReady(pair, outTimes) : undefined;
    return { ...pair, incoming: delayConnection(pair.incoming, 'incoming', p, rng, ready), outgoing };
  },
});
