/**
 * He & Tong (IEEE Trans. Signal Processing 2007): bounded-delay detection with chaff.
 * The keystrokes entering the stepping stone and those leaving it are matched under an
 * order-preserving bounded-delay model; the share left unmatched is the least chaff an
 * attacker would need for the pair to be a relay. See README.md for what is taken from
 * the paper and what is reconstructed.
 */
import { matchBoundedDelay } from '../../src/analysis/matching.js';
import { DIR_FWD, type FlowPair, payloadTimes } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';

const params = {
  maxDelay: {
    type: 'number',
    default: 0.5,
    min: 0,
    unit: 's',
    description: 'Δ: longest time the relay may hold a keystroke; a keystroke leaving S more than Δ after one arrived cannot be its copy',
  },
} as const;

/**
 * −(n_a + n_b − 2·matched) / (n_a + n_b) over the keystrokes (forward payload packets)
 * of the incoming (a, into S) and outgoing (b, out of S) connection. In [−1, 0]; 0 when
 * every keystroke is explained by the bounded-delay relay. −1 when both have none.
 */
export function heTongScore(pair: FlowPair, maxDelay: number): number {
  const a = payloadTimes(pair.incoming, DIR_FWD);
  const b = payloadTimes(pair.outgoing, DIR_FWD);
  const total = a.length + b.length;
  if (total === 0) return -1;
  const matched = matchBoundedDelay(a, b, maxDelay);
  return (2 * matched - total) / total; // written so that a full match is +0, not -0
}

export default defineDetector({
  name: 'he-tong',
  description: 'bounded-delay keystroke matching with chaff; score = −share of keystrokes left unmatched',
  citation: 'T. He, L. Tong. Detecting encrypted stepping-stone connections. IEEE Trans. Signal Processing 55(5), May 2007, p. 1612 ff.',
  params,
  score(pairs, p) {
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) out[k] = heTongScore(pairs[k], p.maxDelay);
    return out;
  },
});
