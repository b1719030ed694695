/**
 * Blum, Song & Venkataraman (RAID 2004): DETECT-ATTACKS, a bounded random walk over
 * packet counts. See README.md for what is taken from the paper and what is reconstructed.
 */
import { DIR_BWD, DIR_FWD, type Flow } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  pDelta: {
    type: 'integer',
    default: 5,
    min: 0,
    description: 'p_Δ: most packets an attacker can send within the relay delay bound Δ',
  },
  delta: {
    type: 'number',
    default: 0.01,
    min: 1e-12,
    max: 0.5,
    description: 'δ: bound on the false-accusation probability; sets the packets observed',
  },
  chaffBound: {
    type: 'integer',
    default: 0,
    min: 0,
    description: 'x: chaff packets tolerated (DETECT-ATTACKS-CHAFF widens the band to p_Δ + x)',
  },
  direction: {
    type: 'enum',
    values: ['forward', 'backward'],
    default: 'forward',
    description: 'which packets are counted: keystrokes (forward) or echoes and output (backward)',
  },
} as const;

/** T = ⌈2 (p_Δ + x + 1)² ln(1/δ)⌉ packets of the merged stream are observed. */
export function packetsObserved(pDelta: number, chaffBound: number, delta: number): number {
  const band = pDelta + chaffBound + 1;
  return Math.ceil(2 * band * band * Math.log(1 / delta));
}

/**
 * The largest |D| reached over the first `limit` payload packets of direction `dir`,
 * where D = (packets of a so far) − (packets of b so far). At equal times a's packet
 * counts first: a relay cannot forward a packet before it has received it.
 */
export function maxCountDifference(a: Flow, b: Flow, dir: number, limit: number): number {
  let i = 0;
  let j = 0;
  let d = 0;
  let maxAbs = 0;
  let seen = 0;
  const na = a.t.length;
  const nb = b.t.length;
  while (seen < limit) {
    while (i < na && (a.size[i] === 0 || a.dir[i] !== dir)) i++;
    while (j < nb && (b.size[j] === 0 || b.dir[j] !== dir)) j++;
    if (i >= na && j >= nb) break;
    if (j >= nb || (i < na && a.t[i] <= b.t[j])) {
      d++;
      i++;
    } else {
      d--;
      j++;
    }
    seen++;
    const abs = d < 0 ? -d : d;
    if (abs > maxAbs) maxAbs = abs;
  }
  return maxAbs;
}

export default defineDetector({
  name: 'blum-count',
  description: 'packet-count random walk (DETECT-ATTACKS); score = −max |N_in − N_out|',
  citation:
    'A. Blum, D. Song, S. Venkataraman. Detection of interactive stepping stones: algorithms and confidence bounds. RAID 2004, LNCS 3224.',
  params,
  score(pairs, p) {
    const limit = packetsObserved(p.pDelta, p.chaffBound, p.delta);
    const dir = p.direction === 'forward' ? DIR_FWD : DIR_BWD;
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      out[k] = -maxCountDifference(pairs[k].incoming, pairs[k].outgoing, dir, limit);
    }
    return out;
  },
});
