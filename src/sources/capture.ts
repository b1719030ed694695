/**
 * Pairs from a real capture: a pcap, pcapng or tshark CSV file (gzipped or not) and a
 * rule that pairs its connections.
 *
 * - labels mode: the pairs a labels file lists, relayed or not as it says;
 * - host mode: at the stepping stone's address, every incoming connection (S is its
 *   server) with every outgoing one (S is its client) that overlaps it in time; relayed
 *   where the labels file says so, not relayed otherwise.
 *
 * The capture is read once per worker and kept; every pair request picks from it.
 * Perturbations apply to captured pairs exactly as to generated ones. Recorded traffic
 * cannot be marked upstream, so active detectors are refused on these datasets.
 */
import { type CaptureResult, type Labels, hostPairs, pairsFromLabels, readCapture, readLabels } from '../capture/index.js';
import { UserError } from '../errors.js';
import type { Flow, FlowPair } from '../flow.js';
import type { ParamsOf } from '../params.js';
import { defineSource } from '../source.js';

const params = {
  file: { type: 'path', default: '', description: 'the capture: pcap, pcapng or tshark CSV (see src/capture/README.md), optionally gzipped' },
  labels: { type: 'path', default: '', description: 'labels file: (incoming 4-tuple, outgoing 4-tuple, relayed) rows; required in labels mode' },
  pairing: { type: 'enum', values: ['labels', 'host'], default: 'labels', description: 'labels: the pairs the labels file lists; host: every overlapping (incoming, outgoing) pair at `host`' },
  host: { type: 'string', default: '', description: 'host mode: the stepping stone address (IPv4 or IPv6)' },
  dropRetransmissions: { type: 'boolean', default: false, description: 'leave out packets recognised as retransmissions (a relay forwards each byte once)' },
  window: { type: 'number', default: 0, min: 0, unit: 's', description: 'cut every pair to this long a window from its first packet, as a monitor that watches fixed windows sees it (the synthetic source\'s `duration`); 0 = whole connections' },
} as const;

type P = ParamsOf<typeof params>;

interface Prepared {
  relayed: FlowPair[];
  other: FlowPair[];
}

/** One read per worker and parameter set; requests for the same data share it. */
const prepared = new Map<string, Promise<Prepared>>();

async function load(p: P): Promise<Prepared> {
  if (!p.file) throw new UserError('file: required: the capture to read');
  if (p.pairing === 'labels' && !p.labels) throw new UserError('labels: required in labels mode (or set "pairing": "host")');
  if (p.pairing === 'host' && !p.host) throw new UserError('host: required in host mode: the stepping stone address');
  const capture: CaptureResult = await readCapture(p.file);
  const labels: Labels | undefined = p.labels ? await readLabels(p.labels) : undefined;
  const opts = { dataset: 'capture', dropRetransmissions: p.dropRetransmissions };
  const pairs =
    p.pairing === 'host' ? hostPairs(capture.connections, p.host, { ...opts, labels }) : pairsFromLabels(capture.connections, labels as Labels, opts);
  const kept = p.window > 0 ? pairs.map((x) => windowed(x, p.window)) : pairs;
  return { relayed: kept.filter((x) => x.relayed), other: kept.filter((x) => !x.relayed) };
}

/**
 * The pair in a window of `length` seconds that opens with its first packet: what the
 * synthetic source gives, where the window opens as the first session starts and the
 * other may start later, or run past the window's end.
 */
function windowed(pair: FlowPair, length: number): FlowPair {
  const t0 = Math.min(pair.incoming.t[0] ?? Infinity, pair.outgoing.t[0] ?? Infinity);
  // Flows are sorted by time: the window is a prefix.
  const cut = (f: Flow): Flow => {
    let n = 0;
    while (n < f.t.length && f.t[n] <= t0 + length) n++;
    return { t: f.t.slice(0, n), size: f.size.slice(0, n), dir: f.dir.slice(0, n) };
  };
  return { ...pair, incoming: cut(pair.incoming), outgoing: cut(pair.outgoing) };
}

function preparedFor(p: P): Promise<Prepared> {
  const key = JSON.stringify(p);
  let got = prepared.get(key);
  if (!got) {
    got = load(p);
    prepared.set(key, got);
    got.catch(() => prepared.delete(key)); // a failed read is retried, not remembered
  }
  return got;
}

/** The prepared pairs of a parameter set that `prepare` has read; throws if it has not. */
const ready = new Map<string, Prepared>();

export default defineSource({
  name: 'capture',
  description: 'labelled pairs from a real capture (pcap, pcapng or tshark CSV), by labels file or by host',
  params,
  recorded: true,
  async count(p) {
    const got = await preparedFor(p);
    return { positives: got.relayed.length, negatives: got.other.length };
  },
  async prepare(p) {
    ready.set(JSON.stringify(p), await preparedFor(p));
  },
  pair(req, p): FlowPair {
    const got = ready.get(JSON.stringify(p));
    if (!got) throw new Error('capture source: pair() before prepare()');
    const list = req.relayed ? got.relayed : got.other;
    const rank = req.rank ?? req.index;
    const pair = list[rank];
    if (!pair) throw new UserError(`${p.file}: has ${list.length} ${req.relayed ? 'relayed' : 'non-relayed'} pairs; pair ${rank} was asked for`);
    // Flows are shared between requests and read-only; the pair's identity is the request's.
    return { ...pair, meta: { dataset: req.dataset, index: req.index, kind: pair.meta.kind } };
  },
});
