/**
 * Delay at the relay: the stepping stone holds each packet it forwards for a random time
 * up to a bound before sending it on, keeping their order (a FIFO relay).
 */
import { DIR_BWD, DIR_FWD, type Flow, copyFlow, resort } from '../../src/flow.js';
import { definePerturbation } from '../../src/plugin.js';
import type { Rng } from '../../src/rng.js';

const params = {
  max: { type: 'number', default: 0.5, min: 0, unit: 's', description: 'Δ: bound of the uniform delay added to each forwarded packet' },
  direction: {
    type: 'enum',
    values: ['forward', 'both'],
    default: 'both',
    description: 'delay keystrokes forwarded downstream only, or also the echoes and output forwarded back',
  },
} as const;

/**
 * Delays the payload packets of direction `sent` (the ones S emits and forwards) by
 * U(0, max), keeping their order. With `responsesFollow`, payload packets of the opposite
 * direction are responses to them (echoes from downstream on the outgoing connection):
 * each keeps its lag behind the forwarded packet it follows, so that an echo never
 * overtakes the keystroke that caused it.
 */
export function delayForwarded(f: Flow, sent: number, max: number, rng: Rng, responsesFollow: boolean): Flow {
  const g = copyFlow(f);
  let lastSent = -Infinity;
  let shift = 0;
  for (let i = 0; i < g.t.length; i++) {
    if (g.size[i] === 0) continue;
    if (g.dir[i] === sent) {
      let t = f.t[i] + max * rng();
      if (t < lastSent) t = lastSent;
      lastSent = t;
      shift = t - f.t[i];
      g.t[i] = t;
    } else if (responsesFollow) {
      g.t[i] = f.t[i] + shift;
    }
  }
  return resort(g);
}

export default definePerturbation({
  name: 'delay',
  description: 'uniform per-packet delay up to Δ at the relay, order kept',
  touches: 'both',
  params,
  isIdentity: (p) => p.max === 0,
  apply(pair, p, rng) {
    // On the outgoing connection S sends the keystrokes and the echoes answer them; on the
    // incoming one S sends the echoes, and the user's next keystrokes do not wait for them.
    const outgoing = delayForwarded(pair.outgoing, DIR_FWD, p.max, rng, true);
    const incoming =
      p.direction === 'both' ? delayForwarded(pair.incoming, DIR_BWD, p.max, rng, false) : pair.incoming;
    return { ...pair, incoming, outgoing };
  },
});
