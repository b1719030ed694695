/**
 * Delay at the relay: the stepping stone holds packets it forwards for a random time,
 * bounded by Δ, before sending them on.
 */
import type { Flow } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { type Side, forwardedDirection, moveAndPropagate } from '../../src/retime.js';
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
 * FIFO: t'ᵢ = max(tᵢ + dᵢ, t'ᵢ₋₁), which keeps every delay within [0, Δ + latency].
 */
export function delayConnection(f: Flow, side: Side, p: P, rng: Rng): Flow {
  const sent = forwardedDirection(side);
  const newT = new Float64Array(f.t.length);
  let last = -Infinity;
  for (let i = 0; i < f.t.length; i++) {
    if (f.size[i] === 0 || f.dir[i] !== sent) continue;
    const delayed = rng() < p.probability;
    const d = drawDelay(p, rng());
    let t = f.t[i] + p.latency + (delayed ? d : 0);
    if (p.fifo && t < last) t = last;
    last = Math.max(last, t);
    newT[i] = t;
  }
  return moveAndPropagate(f, sent, newT);
}

export default definePerturbation({
  name: 'delay',
  description: 'random per-packet delay at the relay (uniform, exponential or Pareto, bounded), FIFO or not',
  touches: 'both',
  params,
  isIdentity: (p) => (p.max === 0 || p.probability === 0) && p.latency === 0,
  apply(pair, p, rng) {
    const outgoing = delayConnection(pair.outgoing, 'outgoing', p, rng);
    const incoming = p.direction === 'both' ? delayConnection(pair.incoming, 'incoming', p, rng) : pair.incoming;
    return { ...pair, incoming, outgoing };
  },
});
