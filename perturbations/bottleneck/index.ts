/**
 * A bottleneck link: packets queue and leave one after another at the link rate, so
 * bursts spread out and small packets behind large ones wait.
 */
import type { Flow } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { directionParam, directions, hopParam, moveAndPropagate, onHops } from '../../src/retime.js';

const params = {
  rateMbps: { type: 'number', default: 1, min: 0.001, unit: 'Mbit/s', description: 'link rate' },
  overhead: { type: 'integer', default: 52, min: 0, unit: 'B', description: 'bytes of IP and TCP headers per packet on the link' },
  hop: hopParam('outgoing', 'connection(s) that cross the bottleneck'),
  direction: directionParam('forward', 'direction(s) that queue at it'),
} as const;

type P = ParamsOf<typeof params>;

/**
 * Every packet of `dir` (pure ACKs included: they share the queue) leaves at
 * dᵢ = max(tᵢ, dᵢ₋₁) + (sizeᵢ + overhead)·8 / rate. Echoes follow the keystrokes they
 * answer; ACKs follow the data they acknowledge (src/retime.ts).
 */
export function queueDirection(f: Flow, dir: number, p: P): Flow {
  const bytesPerSecond = (p.rateMbps * 1e6) / 8;
  let free = -Infinity;
  // A pure ACK joins the queue once the data it acknowledges has arrived.
  const depart = (i: number, ready: number) => (free = Math.max(free, ready) + (f.size[i] + p.overhead) / bytesPerSecond);
  return moveAndPropagate(f, dir, depart, { moveAcks: true });
}

export default definePerturbation({
  name: 'bottleneck',
  description: 'serialisation at a bottleneck link rate (queueing, bursts spread out)',
  touches: 'both',
  params,
  apply(pair, p) {
    return onHops(pair, p.hop, (f) => {
      let out = f;
      for (const d of directions(p.direction)) out = queueDirection(out, d, p);
      return out;
    });
  },
});
