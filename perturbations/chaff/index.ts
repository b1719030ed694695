/**
 * Chaff: dummy packets that the attacker's tools add on a hop they control and that the
 * receiving end of that hop drops, so they never appear on the other connection.
 */
import { DIR_BWD, DIR_FWD, type Flow, mergePackets } from '../../src/flow.js';
import { definePerturbation } from '../../src/plugin.js';
import { type Rng, poisson } from '../../src/rng.js';

const params = {
  ratio: {
    type: 'number',
    default: 1,
    min: 0,
    description: 'expected chaff packets per real payload packet of the chosen direction(s)',
  },
  hop: {
    type: 'enum',
    values: ['incoming', 'outgoing', 'both'],
    default: 'incoming',
    description: 'connection(s) that carry chaff; with both, each gets its own independent chaff',
  },
  direction: {
    type: 'enum',
    values: ['forward', 'backward', 'both'],
    default: 'forward',
    description: 'chaff sent with the keystrokes (forward), with the echoes (backward), or both',
  },
} as const;

/** Smallest SSH packet the relay would carry: used when a direction has no payload to imitate. */
const FALLBACK_SIZE = 36;

/**
 * Chaff for one direction of one connection: a Poisson process over the connection's
 * lifetime with rate ratio × (real packets) / lifetime, sizes resampled from the real
 * payload sizes of that direction so that size alone does not reveal them.
 */
export function chaffFor(f: Flow, dir: number, ratio: number, rng: Rng): Flow {
  const n = f.t.length;
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) if (f.dir[i] === dir && f.size[i] > 0) sizes.push(f.size[i]);
  const count = n === 0 ? 0 : poisson(rng, ratio * sizes.length);
  const t = new Float64Array(count);
  const size = new Int32Array(count);
  const dirs = new Uint8Array(count).fill(dir);
  if (count === 0) return { t, size, dir: dirs };
  const start = f.t[0];
  const span = f.t[n - 1] - start;
  // Given their number, the arrival times of a Poisson process are uniform order statistics.
  for (let k = 0; k < count; k++) t[k] = start + span * rng();
  t.sort();
  for (let k = 0; k < count; k++) {
    size[k] = sizes.length ? sizes[Math.floor(rng() * sizes.length)] : FALLBACK_SIZE;
  }
  return { t, size, dir: dirs };
}

function addChaff(f: Flow, direction: string, ratio: number, rng: Rng): Flow {
  let out = f;
  if (direction !== 'backward') out = mergePackets(out, chaffFor(f, DIR_FWD, ratio, rng));
  if (direction !== 'forward') out = mergePackets(out, chaffFor(f, DIR_BWD, ratio, rng));
  return out;
}

export default definePerturbation({
  name: 'chaff',
  description: 'Poisson chaff at a ratio to the real packets, dropped by the next hop',
  touches: 'both',
  params,
  isIdentity: (p) => p.ratio === 0,
  apply(pair, p, rng) {
    const incoming = p.hop === 'outgoing' ? pair.incoming : addChaff(pair.incoming, p.direction, p.ratio, rng);
    const outgoing = p.hop === 'incoming' ? pair.outgoing : addChaff(pair.outgoing, p.direction, p.ratio, rng);
    return { ...pair, incoming, outgoing };
  },
});
