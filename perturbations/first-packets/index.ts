/**
 * The monitor's window: only the first N packets of each connection are kept, as in
 * evaluations that fix the length of what a detector sees (Clausen, Gibson & Aspinall
 * 2020 used the first 1500 packets of connections longer than that). Placed last in a
 * scenario, it cuts the connections as the monitor captured them, evasion included.
 */
import type { Flow } from '../../src/flow.js';
import { definePerturbation } from '../../src/plugin.js';
import { hopParam, onHops } from '../../src/retime.js';

const params = {
  packets: { type: 'integer', default: 1500, min: 1, description: 'packets kept per connection, both directions and pure ACKs counted' },
  hop: hopParam('both', 'connection(s) cut to the window'),
} as const;

/** The first `n` packets of a flow (the flow itself when it has no more). */
export function firstPackets(f: Flow, n: number): Flow {
  if (f.t.length <= n) return f;
  return { t: f.t.slice(0, n), size: f.size.slice(0, n), dir: f.dir.slice(0, n) };
}

export default definePerturbation({
  name: 'first-packets',
  description: 'keeps the first N packets of each connection: the fixed window a monitor evaluates',
  touches: 'both',
  params,
  apply(pair, p) {
    return onHops(pair, p.hop, (f) => firstPackets(f, p.packets));
  },
});
