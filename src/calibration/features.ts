/**
 * Traffic features that a synthetic source must reproduce to stand in for real captures,
 * taken from the connections of a set of pairs. Each feature is a sample of numbers
 * (one per packet, per gap, per period, per round trip or per connection), so that two
 * sets of pairs can be compared feature by feature with a two-sample test.
 *
 * Every connection counts once, however many pairs it is part of: in a real capture one
 * connection at S is paired with every connection that overlaps it (host-mode pairing),
 * and counting it per pair would weigh long connections by how busy the host was.
 */
import { onOffPeriods } from '../analysis/onoff.js';
import { matchRoundTrips } from '../analysis/rtt.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair } from '../flow.js';
import { Float64List } from '../float64-list.js';

export interface FeatureSpec {
  id: string;
  label: string;
  unit: string;
  /** Heavy-tailed: compared on a log x axis in the plots (the KS distance is the same either way). */
  log: boolean;
}

export const FEATURES: readonly FeatureSpec[] = [
  { id: 'size.in.fwd', label: 'payload size, incoming connection, forward (keystrokes)', unit: 'B', log: true },
  { id: 'size.in.bwd', label: 'payload size, incoming connection, backward (echoes, output)', unit: 'B', log: true },
  { id: 'size.out.fwd', label: 'payload size, outgoing connection, forward (keystrokes)', unit: 'B', log: true },
  { id: 'size.out.bwd', label: 'payload size, outgoing connection, backward (echoes, output)', unit: 'B', log: true },
  { id: 'ipd.in.fwd', label: 'inter-packet delay, incoming connection, forward payload packets', unit: 's', log: true },
  { id: 'ipd.in.bwd', label: 'inter-packet delay, incoming connection, backward payload packets', unit: 's', log: true },
  { id: 'ipd.out.fwd', label: 'inter-packet delay, outgoing connection, forward payload packets', unit: 's', log: true },
  { id: 'ipd.out.bwd', label: 'inter-packet delay, outgoing connection, backward payload packets', unit: 's', log: true },
  { id: 'pps', label: 'packets per second of a connection (payload and pure ACKs, first to last packet)', unit: '1/s', log: false },
  { id: 'on', label: 'ON period length (payload packets of both directions)', unit: 's', log: true },
  { id: 'off', label: 'OFF period length (payload packets of both directions)', unit: 's', log: true },
  { id: 'echo.in', label: 'echo delay, incoming connection (keystroke to first answer)', unit: 's', log: true },
  { id: 'echo.out', label: 'echo delay, outgoing connection (keystroke to first answer)', unit: 's', log: true },
];

/** The features every bar is checked on: payload sizes and inter-packet delays. */
export const CORE_FEATURES = FEATURES.filter((f) => f.id.startsWith('size.') || f.id.startsWith('ipd.')).map((f) => f.id);

export interface FeatureOptions {
  /**
   * A flow goes OFF after this long without payload (s). 0.5 s: Zhang & Paxson's T_idle,
   * the value the ON/OFF detectors of this harness use.
   */
  idle?: number;
  /**
   * A keystroke not answered within this long is given up (s): a key whose echo was
   * merged with another's, or lost, must not pair with a later command's output.
   */
  maxEcho?: number;
}

/** Payload sizes of one direction. */
export function payloadSizesInto(f: Flow, dir: number, out: Float64List): void {
  for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0 && f.dir[i] === dir) out.push(f.size[i]);
}

/** Gaps between consecutive payload packets of one direction (pure ACKs skipped). */
export function payloadGapsInto(f: Flow, dir: number, out: Float64List): void {
  let last = NaN;
  for (let i = 0; i < f.t.length; i++) {
    if (f.size[i] <= 0 || f.dir[i] !== dir) continue;
    if (!Number.isNaN(last)) out.push(f.t[i] - last);
    last = f.t[i];
  }
}

/**
 * Packets (payload and pure ACKs) per second from the first packet to the last; NaN for
 * fewer than two packets, whose span says nothing of a rate.
 */
export function packetRate(f: Flow): number {
  const n = f.t.length;
  if (n < 2) return NaN;
  const span = f.t[n - 1] - f.t[0];
  return span > 0 ? n / span : NaN;
}

/**
 * ON period lengths (first to last payload packet of a period) and OFF period lengths
 * (last payload packet of one period to the first of the next), both directions merged.
 */
export function onOffInto(f: Flow, idle: number, on: Float64List, off: Float64List): void {
  const p = onOffPeriods(f, 'both', idle);
  for (let k = 0; k < p.starts.length; k++) {
    on.push(p.ends[k] - p.starts[k]);
    if (k > 0) off.push(p.starts[k] - p.ends[k - 1]);
  }
}

/**
 * Echo delays: each forward payload packet (a keystroke) to the first backward payload
 * packet that answers it, matched first in, first out (src/analysis/rtt.ts, greedy).
 */
export function echoDelaysInto(f: Flow, maxEcho: number, out: Float64List): void {
  const rt = matchRoundTrips(f, { algorithm: 'greedy', maxRtt: maxEcho });
  for (let k = 0; k < rt.rtt.length; k++) out.push(rt.rtt[k]);
}

export type FeatureSamples = Record<string, Float64Array>;

/** Every feature of FEATURES over the distinct connections of `pairs`. */
export function extractFeatures(pairs: readonly FlowPair[], options: FeatureOptions = {}): FeatureSamples {
  const idle = options.idle ?? 0.5;
  const maxEcho = options.maxEcho ?? 1;
  const s: Record<string, Float64List> = {};
  for (const f of FEATURES) s[f.id] = new Float64List();
  const seen = new Set<Flow>();
  for (const pair of pairs) {
    for (const [side, f] of [['in', pair.incoming], ['out', pair.outgoing]] as const) {
      if (seen.has(f)) continue;
      seen.add(f);
      payloadSizesInto(f, DIR_FWD, s[`size.${side}.fwd`]);
      payloadSizesInto(f, DIR_BWD, s[`size.${side}.bwd`]);
      payloadGapsInto(f, DIR_FWD, s[`ipd.${side}.fwd`]);
      payloadGapsInto(f, DIR_BWD, s[`ipd.${side}.bwd`]);
      const rate = packetRate(f);
      if (!Number.isNaN(rate)) s.pps.push(rate);
      onOffInto(f, idle, s.on, s.off);
      echoDelaysInto(f, maxEcho, s[`echo.${side}`]);
    }
  }
  const out: FeatureSamples = {};
  for (const f of FEATURES) out[f.id] = s[f.id].values();
  return out;
}
