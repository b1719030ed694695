/**
 * Packet loss with TCP retransmission on the link beyond the capture point.
 */
import { type Flow, FlowBuilder, mergePackets, withTimes } from '../../src/flow.js';
import type { ParamsOf } from '../../src/params.js';
import { definePerturbation } from '../../src/plugin.js';
import { directionParam, directions, forwardedDirection, hopParam, onHops, type Side, propagatedTimes } from '../../src/retime.js';
import type { Rng } from '../../src/rng.js';

const params = {
  rate: { type: 'number', default: 0.01, min: 0, max: 0.9, description: 'probability that a transmission of a payload packet is lost' },
  rto: { type: 'number', default: 0.2, min: 0.001, unit: 's', description: 'retransmission timeout of the first retry (Linux: at least 200 ms); doubles per retry' },
  maxRetries: { type: 'integer', default: 6, min: 1, description: 'retransmissions before the sender gives up on a packet (it is then delivered by the last)' },
  hop: hopParam('both', 'connection(s) whose link loses packets'),
  direction: directionParam('both', 'lose keystrokes (forward), echoes and output (backward), or both'),
} as const;

type P = ParamsOf<typeof params>;

/**
 * Loses payload packets of direction `dir` on one connection. When S sends in that
 * direction the capture saw the packet leave: it stays, and each retransmission appears as
 * a duplicate. When S receives, the capture only sees the transmission that got through.
 * The receiver delivers in order, so a lost packet holds back the ones after it; echoes
 * follow the delivery of the keystrokes they answer, and pure ACKs follow their data.
 */
export function loseDirection(f: Flow, side: Side, dir: number, p: P, rng: Rng): Flow {
  const sentByS = dir === forwardedDirection(side);
  const delivered = new Float64Array(f.t.length);
  const dup = new FlowBuilder(16);
  // Transmissions lost are a Bernoulli sequence; drawing the gap to the next loss
  // (geometric) costs one draw per loss instead of one per transmission.
  const logKeep = Math.log1p(-p.rate);
  const gap = () => Math.floor(Math.log(1 - rng.next()) / logKeep);
  let untilLoss = gap();
  let inOrder = -Infinity;
  for (let i = 0; i < f.t.length; i++) {
    if (f.size[i] === 0 || f.dir[i] !== dir) continue;
    let t = f.t[i];
    let rto = p.rto;
    // Each transmission, the first and every retry, is lost when the countdown hits zero.
    for (let tries = 0; tries < p.maxRetries && untilLoss-- === 0; tries++) {
      untilLoss = gap();
      t += rto;
      rto *= 2;
      if (sentByS) dup.push(t, f.size[i], dir);
    }
    inOrder = Math.max(inOrder, t);
    delivered[i] = sentByS ? inOrder : t;
  }
  const t = propagatedTimes(f, dir, delivered, { moveSelf: !sentByS });
  return mergePackets(withTimes(f, t), dup.build());
}

export default definePerturbation({
  name: 'loss',
  description: 'packet loss with retransmission after a doubling timeout (duplicates where S sends)',
  touches: 'both',
  params,
  isIdentity: (p) => p.rate === 0,
  apply(pair, p, rng) {
    return onHops(pair, p.hop, (f, side) => {
      let out = f;
      for (const d of directions(p.direction)) out = loseDirection(out, side, d, p, rng);
      return out;
    });
  },
});
