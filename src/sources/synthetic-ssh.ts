/**
 * Synthetic interactive SSH sessions seen at a stepping stone S.
 *
 * Positives: one user session relayed A (user -> S) then B (S -> target): the same
 * keystrokes appear on both connections, re-encrypted, with per-hop delays.
 * Negatives: an incoming session and an unrelated outgoing session at S that overlap in
 * time. The incoming one either ends at S (a local login) or is itself relayed somewhere
 * unobserved, so that its own statistics cannot give the label away.
 */
import { type Flow, type FlowPair, FlowBuilder } from '../flow.js';
import type { ParamsOf } from '../params.js';
import { type Rng, exponential, lognormal, rngFor, uniform } from '../rng.js';
import { defineSource } from '../source.js';
import {
  CIPHER_NAMES,
  type Cipher,
  type ConnectionView,
  DELAYED_ACK,
  PTY_CHUNK,
  type SessionScript,
  emitConnection,
  fifoJitter,
  sessionScript,
} from '../traffic/ssh-model.js';

const params = {
  duration: { type: 'number', default: 60, min: 1, unit: 's', description: 'capture window length' },
  keystrokeMedian: { type: 'number', default: 0.18, min: 0.001, unit: 's', description: 'median inter-keystroke time (log-normal)' },
  keystrokeSigma: { type: 'number', default: 0.6, min: 0, description: 'log-space sd of inter-keystroke times' },
  commandLength: { type: 'number', default: 8, min: 1, description: 'mean characters typed per command (geometric)' },
  thinkAlpha: { type: 'number', default: 1, min: 0.1, description: 'Pareto shape of think times between commands' },
  thinkMin: { type: 'number', default: 0.5, min: 0, unit: 's', description: 'shortest think time' },
  thinkMax: { type: 'number', default: 10, min: 0.01, unit: 's', description: 'longest think time (truncation)' },
  outputProbability: { type: 'number', default: 0.8, min: 0, max: 1, description: 'share of commands that print output' },
  outputMedian: { type: 'number', default: 400, min: 1, unit: 'B', description: 'median output bytes of a command (log-normal)' },
  outputSigma: { type: 'number', default: 1.6, min: 0, description: 'log-space sd of output bytes' },
  outputMax: { type: 'integer', default: 200000, min: 1, unit: 'B', description: 'largest output of one command' },
  execMean: { type: 'number', default: 0.03, min: 0, unit: 's', description: 'mean command run time before output (exponential)' },
  rttUpMedian: { type: 'number', default: 0.04, min: 0, unit: 's', description: 'median RTT between the user and S' },
  rttDownMedian: { type: 'number', default: 0.06, min: 0, unit: 's', description: 'median RTT from S to the end of the chain' },
  rttSigma: { type: 'number', default: 0.5, min: 0, description: 'log-space sd of RTTs across sessions' },
  jitter: { type: 'number', default: 0.002, min: 0, unit: 's', description: 'per-packet network jitter (|normal| sd), FIFO' },
  relayMean: { type: 'number', default: 0.0005, min: 0, unit: 's', description: 'mean forwarding time at a relay (exponential)' },
  serverMean: { type: 'number', default: 0.001, min: 0, unit: 's', description: 'mean time for a server to echo a key' },
  rateMbps: { type: 'number', default: 20, min: 0.01, unit: 'Mbit/s', description: 'bottleneck rate that paces output' },
  hardNegativeShare: { type: 'number', default: 0.5, min: 0, max: 1, description: 'share of negatives whose incoming session is itself relayed elsewhere' },
} as const;

type P = ParamsOf<typeof params>;

function pickCipher(rng: Rng): Cipher {
  // OpenSSH's default preference puts chacha20 first; servers and clients configured
  // otherwise negotiate AES.
  const u = rng();
  return u < 0.6 ? CIPHER_NAMES[0] : u < 0.9 ? CIPHER_NAMES[1] : CIPHER_NAMES[2];
}

function fifoAdd(base: Float64Array, extra: (i: number) => number): Float64Array {
  const out = new Float64Array(base.length);
  let last = -Infinity;
  for (let i = 0; i < base.length; i++) {
    last = Math.max(base[i] + extra(i), last);
    out[i] = last;
  }
  return out;
}

/** Packets before the first key of the window would belong to a session set-up we do not model. */
function startTime(rng: Rng): number {
  return uniform(rng, 0, 2);
}

/**
 * Scratch builders, reused from pair to pair: a flow is copied out of its builder as soon
 * as it is complete, and generation is synchronous, so two per thread suffice. Reuse
 * keeps a worker's allocation (and the GC work that competes for the other core) low.
 */
const scratch = [new FlowBuilder(4096), new FlowBuilder(4096)];

/** The incoming connection as S, its server, sees it: the user's client is an RTT away. */
function incomingView(rng: Rng, sendAt: Float64Array, replyAt: Float64Array, rttUp: number, p: P): ConnectionView {
  return {
    cipher: pickCipher(rng),
    sendAt,
    replyAt,
    clientAckLag: rttUp + DELAYED_ACK,
    clientQuickAckLag: rttUp,
    serverAcksAtS: true,
    rate: (p.rateMbps * 1e6) / 8,
  };
}

/** Both connections of a session relayed through S, as S sees them, in capture windows. */
function relayedSession(rng: Rng, s: SessionScript, p: P): { incoming: Flow; outgoing: Flow } {
  const rttUp = lognormal(rng, p.rttUpMedian, p.rttSigma);
  const rttDown = lognormal(rng, p.rttDownMedian, p.rttSigma);
  const rate = (p.rateMbps * 1e6) / 8;
  const aSend = fifoAdd(s.t, () => rttUp / 2);
  fifoJitter(aSend, p.jitter, rng);
  const bSend = fifoAdd(aSend, () => exponential(rng, p.relayMean));
  const bReply = fifoAdd(bSend, () => rttDown + exponential(rng, p.serverMean));
  fifoJitter(bReply, p.jitter, rng);
  const aReply = fifoAdd(bReply, () => exponential(rng, p.relayMean));

  // Where each key's output chunks start in a flat array of chunk times.
  const chunkBase = new Int32Array(s.t.length + 1);
  for (let i = 0; i < s.t.length; i++) chunkBase[i + 1] = chunkBase[i] + Math.ceil(s.output[i] / PTY_CHUNK);
  const seenOnB = new Float64Array(chunkBase[s.t.length]);

  const outgoing = scratch[0].reset();
  const bView: ConnectionView = {
    cipher: pickCipher(rng),
    sendAt: bSend,
    replyAt: bReply,
    clientAckLag: DELAYED_ACK,
    clientQuickAckLag: 0.0001,
    serverAcksAtS: false,
    rate,
  };
  emitConnection(
    outgoing,
    s,
    bView,
    (i) => bReply[i] + s.exec[i],
    (i, c, t) => {
      seenOnB[chunkBase[i] + c] = t;
    },
  );
  const incoming = scratch[1].reset();
  const relayOut = p.relayMean;
  emitConnection(incoming, s, incomingView(rng, aSend, aReply, rttUp, p), (i, c) => seenOnB[chunkBase[i] + c] + relayOut);
  return { incoming: capture(incoming, p), outgoing: capture(outgoing, p) };
}

/** An incoming session whose shell runs on S itself. */
function localSession(rng: Rng, s: SessionScript, p: P): Flow {
  const rttUp = lognormal(rng, p.rttUpMedian, p.rttSigma);
  const aSend = fifoAdd(s.t, () => rttUp / 2);
  fifoJitter(aSend, p.jitter, rng);
  const aReply = fifoAdd(aSend, () => exponential(rng, p.serverMean));
  const b = scratch[0].reset();
  emitConnection(b, s, incomingView(rng, aSend, aReply, rttUp, p), (i) => aReply[i] + s.exec[i]);
  return capture(b, p);
}

function capture(b: FlowBuilder, p: P): Flow {
  return b.build(0, p.duration);
}

export default defineSource({
  name: 'synthetic-ssh',
  description: 'interactive SSH sessions relayed through one stepping stone, and unrelated concurrent sessions',
  params,
  pair(req, p): FlowPair {
    const rng = rngFor(req.seed, `source/${req.dataset}`, req.index);
    if (req.relayed) {
      const s = sessionScript(rng, p, startTime(rng), p.duration);
      const { incoming, outgoing } = relayedSession(rng, s, p);
      return {
        incoming,
        outgoing,
        relayed: true,
        meta: { dataset: req.dataset, index: req.index, kind: 'relay' },
      };
    }
    const hard = rng() < p.hardNegativeShare;
    const sIn = sessionScript(rng, p, startTime(rng), p.duration);
    const incoming = hard ? relayedSession(rng, sIn, p).incoming : localSession(rng, sIn, p);
    const sOut = sessionScript(rng, p, startTime(rng), p.duration);
    const outgoing = relayedSession(rng, sOut, p).outgoing;
    return {
      incoming,
      outgoing,
      relayed: false,
      meta: { dataset: req.dataset, index: req.index, kind: hard ? 'relayed-elsewhere+unrelated' : 'local+unrelated' },
    };
  },
});
