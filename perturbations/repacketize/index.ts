/**
 * Re-packetisation at the relay: small packets that arrive close together leave as one
 * (Nagle-like coalescing), and large ones are cut at a smaller MSS.
 */
import { type Flow, FlowBuilder } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { directionParam, directions, hopParam, onHops, propagatedTimes } from '../../src/retime.js';

const params = {
  mergeWindow: {
    type: 'number',
    default: 0.05,
    min: 0,
    unit: 's',
    description: 'payload packets within this time of the first of a group leave together, as one, with the last (0: no merging)',
  },
  mss: { type: 'integer', default: 0, min: 0, unit: 'B', description: 'cut payloads larger than this into segments of at most this size (0: no cutting)' },
  hop: hopParam('outgoing', 'connection(s) whose sender re-packetises'),
  direction: directionParam('forward', 'direction(s) re-packetised'),
} as const;

type P = ParamsOf<typeof params>;

/**
 * Groups payload packets of `dir`: a group starts at a packet and takes every following
 * one of that direction within `mergeWindow` of its start; it leaves at its last member's
 * time carrying all their bytes. Echoes of held-back keystrokes follow them;
 * then payloads over `mss` are cut into segments that leave back to back.
 */
export function repacketizeDirection(f: Flow, dir: number, p: P): Flow {
  const n = f.t.length;
  // groupEnd[i]: index of the last member of i's group (for payload packets of dir).
  const groupEnd = new Int32Array(n).fill(-1);
  const newT = new Float64Array(n);
  if (p.mergeWindow > 0) {
    let first = -1;
    let members: number[] = [];
    const close = () => {
      const last = members[members.length - 1];
      for (const m of members) {
        groupEnd[m] = last;
        newT[m] = f.t[last];
      }
      members = [];
    };
    for (let i = 0; i < n; i++) {
      if (f.size[i] === 0 || f.dir[i] !== dir) continue;
      if (members.length && f.t[i] - f.t[first] > p.mergeWindow) close();
      if (!members.length) first = i;
      members.push(i);
    }
    if (members.length) close();
  }
  const t = p.mergeWindow > 0 ? propagatedTimes(f, dir, newT) : f.t;
  const b = new FlowBuilder(n + 16);
  let carried = 0;
  for (let i = 0; i < n; i++) {
    let size = f.size[i];
    if (groupEnd[i] >= 0) {
      carried += size;
      if (groupEnd[i] !== i) continue;
      size = carried;
      carried = 0;
    }
    if (p.mss > 0 && f.dir[i] === dir && size > p.mss) {
      for (; size > 0; size -= p.mss) b.push(t[i], Math.min(p.mss, size), f.dir[i]);
    } else {
      b.push(t[i], size, f.dir[i]);
    }
  }
  return b.build();
}

export default definePerturbation({
  name: 'repacketize',
  description: 'Nagle-like merging of close packets and splitting at a smaller MSS',
  touches: 'both',
  params,
  isIdentity: (p) => p.mergeWindow === 0 && p.mss === 0,
  apply(pair, p) {
    return onHops(pair, p.hop, (f) => {
      let out = f;
      for (const d of directions(p.direction)) out = repacketizeDirection(out, d, p);
      return out;
    });
  },
});
