/**
 * Synthetic interactive SSH sessions seen at a stepping stone S.
 *
 * Positives: one user session relayed through a chain of stepping stones, S among them:
 * the same keystrokes appear on S's incoming and outgoing connections, re-encrypted,
 * with per-hop delays. A share of them may be bulk copies relayed through the chain.
 * Negatives: an incoming session and an unrelated outgoing connection at S that overlap
 * in time. The incoming one either ends at S (a local login) or is itself relayed
 * somewhere unobserved, so that its own statistics cannot give the label away; the
 * outgoing one is another interactive session by default, and by choice the same user's
 * second window, a bulk copy, a video stream or sporadic background exchanges.
 *
 * By default the window opens as the sessions start (each connection's handshake, and
 * what a relaying user types at S before the hop, are in it). The defaults are
 * calibrated to the committed real capture (src/sources/README.md);
 * tests/synthetic-source.test.ts holds a digest of the pairs they give.
 */
import { UserError } from '../errors.js';
import { DIR_BWD, DIR_FWD, type Flow, FlowBuilder, type FlowPair } from '../flow.js';
import type { ParamsOf } from '../params.js';
import { type Rng, lognormal, rngFor, uniform } from '../rng.js';
import { defineSource } from '../source.js';
import { ChainTimer, type SessionPath } from '../traffic/chain.js';
import { LossProcess } from '../traffic/loss.js';
import {
  CIPHER_NAMES,
  type Cipher,
  type ConnectionView,
  Framing,
  ScriptBuffer,
  type SessionScript,
  chunkBytes,
  chunkCount,
  type Tunnel,
  emitConnection,
  emitHandshake,
  firstPromptSize,
  preludeScriptInto,
  sessionScriptInto,
  splitCommands,
  thinkTime,
} from '../traffic/ssh-model.js';
import { bulkBytes, emitExchanges, emitMessages, emitRelayedBulk, emitStreaming, sshMessages } from '../traffic/transfers.js';

const share = (description: string) => ({ type: 'number', default: 0, min: 0, max: 1, description }) as const;

const params = {
  duration: { type: 'number', default: 60, min: 1, unit: 's', description: 'capture window length' },
  keystrokeMedian: { type: 'number', default: 0.18, min: 0.001, unit: 's', description: 'median inter-keystroke time (log-normal)' },
  keystrokeSigma: { type: 'number', default: 0.6, min: 0, description: 'log-space sd of inter-keystroke times' },
  commandLength: { type: 'number', default: 12, min: 1, description: 'mean characters typed per command (geometric)' },
  thinkAlpha: { type: 'number', default: 1, min: 0.1, description: 'Pareto shape of think times between commands' },
  thinkMin: { type: 'number', default: 0.5, min: 0, unit: 's', description: 'shortest think time' },
  thinkMax: { type: 'number', default: 10, min: 0.01, unit: 's', description: 'longest think time (truncation)' },
  outputProbability: { type: 'number', default: 1, min: 0, max: 1, description: 'share of commands that print output' },
  outputMedian: { type: 'number', default: 200, min: 1, unit: 'B', description: 'median output bytes of a command (log-normal)' },
  outputSigma: { type: 'number', default: 2.35, min: 0, description: 'log-space sd of output bytes' },
  outputMax: { type: 'integer', default: 200000, min: 1, unit: 'B', description: 'largest output of one command' },
  execMean: { type: 'number', default: 0.01, min: 0, unit: 's', description: 'mean command run time before output (exponential)' },
  enterEcho: { type: 'integer', default: 11, min: 2, unit: 'B', description: 'bytes echoed for Enter: "\\r\\n", and the 9 bytes with which bash 5.1+ leaves bracketed-paste mode' },
  promptBytes: { type: 'integer', default: 25, min: 0, unit: 'B', description: 'the prompt that ends every command\'s output, a packet of its own (bracketed-paste switch included)' },
  editProbability: { type: 'number', default: 0.036, min: 0, max: 1, description: 'share of commands that edit a file in vi: open it, append a line, save and quit' },
  editorScreen: { type: 'integer', default: 2000, min: 0, unit: 'B', description: 'bytes of the editor\'s first screen' },
  rttUpMedian: { type: 'number', default: 0.04, min: 0, unit: 's', description: 'median RTT between the user and S (split evenly over the hops up to S unless hopRttMedian is set)' },
  rttDownMedian: { type: 'number', default: 0.02, min: 0, unit: 's', description: 'median RTT from S to the end of the chain (split evenly over the hops after S unless hopRttMedian is set)' },
  rttSigma: { type: 'number', default: 0.1, min: 0, description: 'log-space sd of each hop RTT across sessions' },
  jitter: { type: 'number', default: 0.002, min: 0, unit: 's', description: 'per-packet network jitter per hop (|normal| sd), FIFO' },
  relayMean: { type: 'number', default: 0.0005, min: 0, unit: 's', description: 'mean forwarding time at a relay (exponential)' },
  serverMean: { type: 'number', default: 0.001, min: 0, unit: 's', description: 'mean time for a server to echo a key' },
  rateMbps: { type: 'number', default: 20, min: 0.01, unit: 'Mbit/s', description: 'bottleneck rate that paces output and transfers' },
  negativeStartSpread: { type: 'number', default: 45, min: 0, unit: 's', description: 'with sessionStart, the two interactive sessions of a negative start independently: either first, the other up to this much later (uniform; at most 3/4 of the window)' },
  hardNegativeShare: { type: 'number', default: 0.5, min: 0, max: 1, description: 'share of negatives whose incoming session is itself relayed elsewhere' },
  chain: { type: 'integer', default: 1, min: 1, max: 8, description: 'stepping stones in the attacker\'s chain (chain + 1 connections from the user to the target)' },
  monitor: { type: 'integer', default: 0, min: 0, max: 8, description: 'which stepping stone is S, the monitored one: 1 … chain, counted from the user; 0 = the last' },
  hopRttMedian: { type: 'number', default: 0, min: 0, unit: 's', description: 'median RTT of every hop of the chain; 0 = derive per-hop medians from rttUpMedian and rttDownMedian' },
  tunnel: { type: 'enum', values: ['nested', 'port-forward'], default: 'nested', description: 'nested interactive logins (a new SSH session per hop) or one end-to-end session through SSH port-forwarding tunnels' },
  loss: { type: 'number', default: 0, min: 0, max: 0.5, description: 'probability that a transmission of a data packet is lost, on every hop (recovered by retransmission timeout)' },
  coalesce: { type: 'number', default: 0, min: 0, unit: 's', description: 'S merges keystrokes that reach it within this window into one forwarded packet; 0 = never' },
  handshakeSigma: { type: 'number', default: 0.18, min: 0, description: 'with sessionStart, log-space sd of each SSH handshake step of 5 ms or more (key generation, host-key check, fork) across connections' },
  sessionStart: { type: 'boolean', default: true, description: 'the window opens as sessions start: every SSH connection begins with its handshake and login, and a nested relayed session with commands typed at S before the one that opens the next hop; false: windows open mid-session' },
  preludeCommands: { type: 'integer', default: 2, min: 0, description: 'most commands typed at S before the hop command (uniform 0 … preludeCommands)' },
  preludeLength: { type: 'number', default: 6, min: 1, description: 'mean characters of a command typed at S before the hop (geometric)' },
  hopLength: { type: 'integer', default: 10, min: 1, description: 'characters of the command that opens the next hop, e.g. "ssh target"' },
  cipherChacha: { type: 'number', default: 0.6, min: 0, max: 1, description: 'share of connections that negotiate chacha20-poly1305' },
  cipherGcm: { type: 'number', default: 0.3, min: 0, max: 1, description: 'share that negotiate AES-GCM; the rest AES-CTR with umac-64-etm' },
  bulkShare: share('share of positives that are bulk copies (scp) relayed through the chain'),
  negSameUser: share('share of negatives: the same user\'s two windows, one logged into S, one going through S elsewhere'),
  negBulk: share('share of negatives: an interactive incoming session beside an outgoing bulk copy (scp)'),
  negStreaming: share('share of negatives: an interactive incoming session beside an outgoing video stream over HTTPS'),
  negBackground: share('share of negatives: an interactive incoming session beside sporadic request/response exchanges'),
  bulkMedian: { type: 'number', default: 5e6, min: 1, unit: 'B', description: 'median size of a bulk copy (log-normal)' },
  bulkSigma: { type: 'number', default: 1.5, min: 0, description: 'log-space sd of bulk copy sizes' },
  streamMbps: { type: 'number', default: 1.5, min: 0.01, unit: 'Mbit/s', description: 'median video encoding rate of a stream (log-normal, sd 0.5)' },
  streamSegmentMin: { type: 'number', default: 2, min: 0.1, unit: 's', description: 'shortest media segment of a stream (uniform)' },
  streamSegmentMax: { type: 'number', default: 10, min: 0.1, unit: 's', description: 'longest media segment of a stream (uniform)' },
} as const;

type P = ParamsOf<typeof params>;

/** What the parameters imply for every pair, checked once per parameter set. */
interface Setup {
  /** Connections from the user to the end of the chain: chain + 1. */
  hops: number;
  /** S is stepping stone m: its incoming connection is hop m − 1, its outgoing one hop m. */
  m: number;
  /** Median RTT of each hop. */
  medians: Float64Array;
  tunnel: boolean;
  /** Cumulative shares of the negative kinds beyond the default two. */
  negCumulative: number[];
  rate: number;
  /** The chain's hops on either side of S, as views on the RTTs drawChain draws. */
  path: SessionPath;
}

const NEG_KINDS = ['same-user', 'bulk', 'streaming', 'background'] as const;
type NegKind = (typeof NEG_KINDS)[number] | 'unrelated';

const setups = new WeakMap<object, Setup>();

function setupOf(p: P): Setup {
  const known = setups.get(p);
  if (known) return known;
  const m = p.monitor === 0 ? p.chain : p.monitor;
  if (m > p.chain) throw new UserError(`synthetic-ssh: monitor ${p.monitor} is past the end of a chain of ${p.chain} stepping stones`);
  const negShares = [p.negSameUser, p.negBulk, p.negStreaming, p.negBackground];
  const total = negShares.reduce((a, b) => a + b, 0);
  if (total > 1 + 1e-9) {
    throw new UserError(`synthetic-ssh: negSameUser + negBulk + negStreaming + negBackground is ${total}; they are shares of the negatives and must sum to at most 1`);
  }
  if (p.cipherChacha + p.cipherGcm > 1 + 1e-9) {
    throw new UserError(`synthetic-ssh: cipherChacha + cipherGcm is ${p.cipherChacha + p.cipherGcm}; they are shares of the connections and must sum to at most 1`);
  }
  if (p.streamSegmentMin > p.streamSegmentMax) {
    throw new UserError(`synthetic-ssh: streamSegmentMin ${p.streamSegmentMin} is above streamSegmentMax ${p.streamSegmentMax}`);
  }
  const hops = p.chain + 1;
  const medians = new Float64Array(hops);
  for (let h = 0; h < hops; h++) {
    // Without a per-hop median, the hops up to S share rttUpMedian and those after it
    // rttDownMedian; with one stepping stone that is one hop each, as before.
    medians[h] = p.hopRttMedian > 0 ? p.hopRttMedian : h < m ? p.rttUpMedian / m : p.rttDownMedian / (hops - m);
  }
  let acc = 0;
  const setup: Setup = {
    hops,
    m,
    medians,
    tunnel: p.tunnel === 'port-forward',
    negCumulative: negShares.map((s) => (acc += s)),
    rate: (p.rateMbps * 1e6) / 8,
    path: { up: hopRtts.subarray(0, m), down: hopRtts.subarray(m, hops) },
  };
  setups.set(p, setup);
  return setup;
}

function pickCipher(rng: Rng, p: P): Cipher {
  const u = rng.next();
  return u < p.cipherChacha ? CIPHER_NAMES[0] : u < p.cipherChacha + p.cipherGcm ? CIPHER_NAMES[1] : CIPHER_NAMES[2];
}

/** When the first session of a pair starts, just after the window opens. */
function startTime(rng: Rng): number {
  return uniform(rng, 0, 2);
}

/**
 * Scratch storage, reused from pair to pair: a flow is copied out of its builder as soon
 * as it is complete, and generation is synchronous, so a few per thread suffice. Reuse
 * keeps a worker's allocation (and the GC work that competes for the other core) low.
 */
const scratch = [new FlowBuilder(4096), new FlowBuilder(4096)];
const scripts = [new ScriptBuffer(), new ScriptBuffer(), new ScriptBuffer(), new ScriptBuffer()];
const timer = new ChainTimer();
const hopRtts = new Float64Array(9);
const userRtt = new Float64Array(1);
const NO_HOPS = new Float64Array(0);
let chunkBase = new Int32Array(1024);
let chunkSeen = new Float64Array(1024);

/*
 * emitConnection's callbacks for output chunks, made once: they read the session being
 * emitted from the variables below, which each caller sets first. A closure made per
 * session would be a call V8 does not inline (see src/rng.ts), once per output chunk.
 */
let outputEnd: Float64Array = new Float64Array(0);
let outputExec: Float64Array = new Float64Array(0);
let forwardDelay = 0;
/** Output of key i is ready where the session ends: its echo plus the command's run time. */
function outputReadyAtEnd(i: number): number {
  return outputEnd[i] + outputExec[i];
}
function chunkSeenAtS(i: number, c: number, t: number): void {
  chunkSeen[chunkBase[i] + c] = t;
}
/** S forwards a chunk once it has seen all of it. */
function chunkForwarded(i: number, c: number): number {
  return chunkSeen[chunkBase[i] + c] + forwardDelay;
}

/**
 * When S, the client of its outgoing connection, ACKs what it receives: at once. Clients
 * ACK echoes at once too (Linux quick-ACK mode: a host that does not answer data within
 * the ACK timeout stays out of delayed-ACK mode); in the capture the client's ACK of an
 * echo follows it by a round trip on the incoming connection (median 37.8 ms, RTT 36 ms)
 * and by 0 ms at S on the outgoing one.
 */
const S_ACKS = 0.0001;

/** How many bytes of SSH framing an output chunk gains at most, for loss on hops beyond S. */
const CHUNK_FRAMING = 64;

/** RTTs of every hop of the chain, drawn in order from the user's side (valid until the next draw). */
function drawChain(rng: Rng, p: P, setup: Setup): SessionPath {
  for (let h = 0; h < setup.hops; h++) hopRtts[h] = lognormal(rng, setup.medians[h], p.rttSigma);
  return setup.path;
}

function script(rng: Rng, p: P, start: number, buf: ScriptBuffer): SessionScript {
  return sessionScriptInto(rng, p, start, p.duration, buf);
}

function capture(b: FlowBuilder, p: P): Flow {
  return b.build(0, p.duration);
}

/** Sizes on hop h of the chain: its own SSH framing, or the tunnel's (the last hop carries it bare). */
function tunnelOn(setup: Setup, e2e: Cipher | null, hop: number): Tunnel | null {
  return e2e === null ? null : { e2e, wrapped: hop < setup.hops - 1 };
}

const WANT_IN = 1;
const WANT_OUT = 2;

/**
 * An SSH connection's start from `t0`, emitted into `b` (when not null; its draws are
 * taken either way); returns when its first prompt is seen at S.
 */
function handshake(rng: Rng, p: P, b: FlowBuilder | null, t0: number, rtt: number, sIsServer: boolean, cipher: Cipher): number {
  return emitHandshake(b ?? discard.reset(), t0, rtt, sIsServer, cipher, { rng, computeSigma: p.handshakeSigma, jitter: p.jitter });
}


/**
 * Where packets nobody wants go: a builder like the others, emptied before each use, so
 * that every push site sees one class and stays inlined.
 */
const discard = new FlowBuilder(4096);

/**
 * Both connections at S of a session relayed through it, in capture windows; only those
 * `want` names are built (the other still takes its random draws). The session either
 * starts at `from` (a time: its connections' starts, and for nested logins what the user
 * types at S before the hop, fall in the window) or is `from` (a script under way).
 */
function relayedSession(
  rng: Rng,
  from: number | SessionScript,
  p: P,
  setup: Setup,
  path: SessionPath,
  want: number,
): { incoming: Flow | null; outgoing: Flow | null } {
  const outCipher = pickCipher(rng, p);
  const e2e = setup.tunnel ? pickCipher(rng, p) : null;
  const inCipher = pickCipher(rng, p);
  const rttIn = path.up[path.up.length - 1];
  const lossy = p.loss > 0;
  const incoming = scratch[1].reset();
  const outgoing = scratch[0].reset();
  let s: SessionScript;
  if (typeof from !== 'number') s = from;
  else if (!p.sessionStart || setup.tunnel) {
    // Through tunnels the session's own start is end to end [choice: not modelled].
    s = script(rng, p, from, scripts[0]);
  } else {
    // A login on S, and what the user types there, echoed by S, before the hop exists;
    // the hop command's answer is the next host's login, the outgoing connection's start.
    // The next host's first prompt goes back to the user on the incoming connection.
    const inReady = handshake(rng, p, want & WANT_IN ? incoming : null, from, rttIn, true, inCipher) + thinkTime(rng, p);
    const commands = Math.floor(rng.next() * (p.preludeCommands + 1));
    const local = preludeScriptInto(rng, p, inReady, p.duration, commands, p.preludeLength, p.hopLength, scripts[3]);
    shellOnS(want & WANT_IN ? incoming : null, rng, local, p, setup, path.up, inCipher);
    const k = local.length;
    const hop = k > 0 ? timer.inDelivered[k - 1] + p.relayMean : inReady;
    const prompt = handshake(rng, p, outgoing, hop, path.down[0], false, outCipher);
    if (want & WANT_IN) {
      const at = prompt + p.relayMean;
      incoming.push(at, firstPromptSize(inCipher), DIR_BWD);
      incoming.push(at + rttIn, 0, DIR_FWD);
    }
    s = script(rng, p, prompt + thinkTime(rng, p), scripts[0]);
  }

  // With only the outgoing connection wanted, nothing is drawn after it: the echoes S
  // would forward on the incoming one are left out.
  timer.run(rng, s, path, p, (want & WANT_IN) !== 0);
  const n = s.length;

  // Where each key's output chunks start in a flat array of chunk times.
  if (chunkBase.length < n + 1) chunkBase = new Int32Array(2 * n + 2);
  chunkBase[0] = 0;
  for (let i = 0; i < n; i++) chunkBase[i + 1] = chunkBase[i] + chunkCount(s, i);
  if (chunkSeen.length < chunkBase[n]) chunkSeen = new Float64Array(2 * chunkBase[n]);

  const bView: ConnectionView = {
    cipher: outCipher,
    sendAt: timer.outSend,
    replyAt: timer.outReply,
    clientAckLag: S_ACKS,
    clientQuickAckLag: S_ACKS,
    serverAcksAtS: false,
    rate: setup.rate,
    tunnel: tunnelOn(setup, e2e, setup.m),
    keyLead: timer.lead,
    echoLead: timer.lead,
    sendLost: timer.outSendLost,
    rto: timer.outRto,
    outputLoss: lossy ? new LossProcess(rng, p.loss) : null,
  };
  const replied = timer.replyDelivered;
  outputEnd = replied;
  outputExec = s.exec;
  const ready =
    lossy && path.down.length > 1
      ? (i: number, c: number) => timer.outputReady(replied[i] + s.exec[i], chunkBytes(s, i, c) + CHUNK_FRAMING)
      : outputReadyAtEnd;
  // Wanted or not, the outgoing connection is walked: S forwards output chunks when it
  // has them whole. Unwanted, its packets go nowhere.
  emitConnection(want & WANT_OUT ? outgoing : discard.reset(), s, bView, ready, chunkSeenAtS);
  const outFlow = want & WANT_OUT ? capture(outgoing, p) : null;

  if (!(want & WANT_IN)) return { incoming: null, outgoing: outFlow };
  const aView: ConnectionView = {
    cipher: inCipher,
    sendAt: timer.inSeen,
    replyAt: timer.inReply,
    clientAckLag: rttIn,
    clientQuickAckLag: rttIn,
    serverAcksAtS: true,
    rate: setup.rate,
    tunnel: tunnelOn(setup, e2e, setup.m - 1),
    echoLead: timer.lead,
    replyLost: timer.inReplyLost,
    rto: timer.inRto,
    outputLoss: lossy ? new LossProcess(rng, p.loss) : null,
  };
  forwardDelay = p.relayMean;
  emitConnection(incoming, s, aView, chunkForwarded);
  return { incoming: capture(incoming, p), outgoing: outFlow };
}

/**
 * An incoming session whose shell runs on S itself; its client is `rtt` away. It starts
 * at `from` (a time) or is `from` (a script under way), as in relayedSession.
 */
function localSession(rng: Rng, from: number | SessionScript, p: P, setup: Setup, rtt: number): Flow {
  const cipher = pickCipher(rng, p);
  const b = scratch[0].reset();
  let s: SessionScript;
  if (typeof from !== 'number') s = from;
  else s = script(rng, p, p.sessionStart ? handshake(rng, p, b, from, rtt, true, cipher) + thinkTime(rng, p) : from, scripts[0]);
  userRtt[0] = rtt;
  shellOnS(b, rng, s, p, setup, userRtt, cipher);
  return capture(b, p);
}

/**
 * Keys of `s` typed into a shell S runs itself, reached over the hops `up` (the last one
 * the incoming connection): timed, and emitted into `b` when it is not null (the draws
 * are taken either way). The timer keeps the keys' times until its next run.
 */
function shellOnS(b: FlowBuilder | null, rng: Rng, s: SessionScript, p: P, setup: Setup, up: ArrayLike<number>, cipher: Cipher): void {
  timer.run(rng, s, { up, down: NO_HOPS }, p);
  const rtt = up[up.length - 1];
  const reply = timer.inReply;
  const view: ConnectionView = {
    cipher,
    sendAt: timer.inSeen,
    replyAt: reply,
    clientAckLag: rtt,
    clientQuickAckLag: rtt,
    serverAcksAtS: true,
    rate: setup.rate,
    replyLost: timer.inReplyLost,
    rto: timer.inRto,
    outputLoss: p.loss > 0 ? new LossProcess(rng, p.loss) : null,
  };
  outputEnd = reply;
  outputExec = s.exec;
  if (b !== null) emitConnection(b, s, view, outputReadyAtEnd);
}

/** The RTT of a client one hop from S, distributed as the attacker's hop into S. */
function clientRtt(rng: Rng, p: P, setup: Setup): number {
  return lognormal(rng, setup.medians[setup.m - 1], p.rttSigma);
}

/** The RTT of a peer S connects to, distributed as the attacker's hop out of S. */
function peerRtt(rng: Rng, p: P, setup: Setup): number {
  return lognormal(rng, setup.medians[setup.m], p.rttSigma);
}

/** The same user's two windows: one logged into S, the other through S and the chain beyond. */
function sameUserPair(rng: Rng, p: P, setup: Setup): { incoming: Flow; outgoing: Flow } {
  const user = script(rng, p, startTime(rng), scripts[0]);
  const [here, there] = splitCommands(rng, user, SAME_USER_SWITCH, scripts[1], scripts[2]);
  // Both windows run on one client host: the same hop into S.
  const rtt = clientRtt(rng, p, setup);
  const incoming = localSession(rng, here, p, setup, rtt);
  const down = new Float64Array(setup.hops - setup.m);
  for (let h = setup.m; h < setup.hops; h++) down[h - setup.m] = lognormal(rng, setup.medians[h], p.rttSigma);
  userRtt[0] = rtt;
  const outgoing = relayedSession(rng, there, p, setup, { up: userRtt, down }, WANT_OUT).outgoing!;
  return { incoming, outgoing };
}

/** Chance that the user turns to the other window after a command. */
const SAME_USER_SWITCH = 0.5;

/** A connection S opened for a bulk copy to or from a peer (scp run on S). */
function bulkCopy(rng: Rng, p: P, setup: Setup): Flow {
  const rtt = peerRtt(rng, p, setup);
  const start = uniform(rng, 0, p.duration / 2);
  const bytes = bulkBytes(rng, p.bulkMedian, p.bulkSigma, setup.rate, p.duration - start);
  const upload = rng.next() < 0.5;
  const frame = new Framing(pickCipher(rng, p));
  const { data, count } = sshMessages(bytes);
  const b = scratch[0].reset();
  const link = {
    frame,
    rate: setup.rate,
    rtt,
    dataDir: upload ? DIR_FWD : DIR_BWD,
    sSends: upload,
    loss: p.loss > 0 ? new LossProcess(rng, p.loss) : null,
    end: p.duration,
  };
  emitMessages(b, link, new Float64Array(count).fill(start), data, count, null);
  return capture(b, p);
}

/** A video player on S streaming from a server over HTTPS. */
function streaming(rng: Rng, p: P, setup: Setup): Flow {
  const rtt = peerRtt(rng, p, setup);
  const bitrate = (lognormal(rng, p.streamMbps, 0.5) * 1e6) / 8;
  const segment = uniform(rng, p.streamSegmentMin, p.streamSegmentMax);
  const fresh = rng.next() < 0.5;
  const start = fresh ? startTime(rng) : uniform(rng, 0, segment);
  const b = scratch[0].reset();
  emitStreaming(b, rng, { rate: setup.rate, rtt, serverMean: 0.01, end: p.duration, start, bitrate, segment, fresh });
  return capture(b, p);
}

/** Sporadic request/response exchanges S makes on a persistent TLS connection. */
function background(rng: Rng, p: P, setup: Setup): Flow {
  const rtt = peerRtt(rng, p, setup);
  const start = uniform(rng, 0, 10);
  const b = scratch[0].reset();
  emitExchanges(b, rng, { rate: setup.rate, rtt, serverMean: 0.02, end: p.duration }, start);
  return capture(b, p);
}

/** A bulk copy relayed through the chain (scp through the stepping stones). */
function relayedBulk(rng: Rng, p: P, setup: Setup): { incoming: Flow; outgoing: Flow } {
  const path = drawChain(rng, p, setup);
  const start = uniform(rng, 0, p.duration / 2);
  const bytes = bulkBytes(rng, p.bulkMedian, p.bulkSigma, setup.rate, p.duration - start);
  const upload = rng.next() < 0.5;
  const outCipher = pickCipher(rng, p);
  const e2e = setup.tunnel ? pickCipher(rng, p) : null;
  const inCipher = pickCipher(rng, p);
  const lossy = p.loss > 0;
  const bIn = scratch[1].reset();
  const bOut = scratch[0].reset();
  emitRelayedBulk(bIn, bOut, rng, {
    start,
    bytes,
    upload,
    rate: setup.rate,
    rttIn: path.up[path.up.length - 1],
    rttOut: path.down[0],
    frameIn: new Framing(inCipher, tunnelOn(setup, e2e, setup.m - 1)),
    frameOut: new Framing(outCipher, tunnelOn(setup, e2e, setup.m)),
    relayMean: p.relayMean,
    lossIn: lossy ? new LossProcess(rng, p.loss) : null,
    lossOut: lossy ? new LossProcess(rng, p.loss) : null,
    end: p.duration,
  });
  return { incoming: capture(bIn, p), outgoing: capture(bOut, p) };
}

/**
 * One uniform draw per pair that picks its kind in a mix, from a stream of its own: the
 * pairs of the default kinds stay byte-identical to those of a run without the mix.
 */
function mixDraw(seed: number, dataset: string, index: number): number {
  return rngFor(seed, `source/${dataset}/mix`, index).next();
}

export default defineSource({
  name: 'synthetic-ssh',
  description: 'interactive SSH sessions relayed through a chain of stepping stones, and unrelated concurrent traffic',
  params,
  check(p) {
    setupOf(p);
  },
  pair(req, p): FlowPair {
    const setup = setupOf(p);
    const rng = rngFor(req.seed, `source/${req.dataset}`, req.index);
    const meta = (kind: string) => ({ dataset: req.dataset, index: req.index, kind });
    if (req.relayed) {
      if (p.bulkShare > 0 && mixDraw(req.seed, req.dataset, req.index) < p.bulkShare) {
        return { ...relayedBulk(rng, p, setup), relayed: true, meta: meta('relay-bulk') };
      }
      const { incoming, outgoing } = relayedSession(rng, startTime(rng), p, setup, drawChain(rng, p, setup), WANT_IN | WANT_OUT);
      return { incoming: incoming!, outgoing: outgoing!, relayed: true, meta: meta('relay') };
    }
    let kind: NegKind = 'unrelated';
    const cumulative = setup.negCumulative;
    if (cumulative[cumulative.length - 1] > 0) {
      const u = mixDraw(req.seed, req.dataset, req.index);
      const k = cumulative.findIndex((c) => u < c);
      if (k >= 0) kind = NEG_KINDS[k];
    }
    if (kind === 'same-user') return { ...sameUserPair(rng, p, setup), relayed: false, meta: meta('same-user') };
    const hard = rng.next() < p.hardNegativeShare;
    // Unrelated sessions start independently: either may open first, the other up to
    // negativeStartSpread later; the pair's window opens with the first. A pair is two
    // connections that overlap, so the later one keeps a quarter of the window at least.
    const spread = kind === 'unrelated' && p.sessionStart ? Math.min(p.negativeStartSpread, 0.75 * p.duration) : 0;
    const offset = spread > 0 ? uniform(rng, -spread, spread) : 0;
    const inStart = startTime(rng) + Math.max(0, -offset);
    const incoming = hard
      ? relayedSession(rng, inStart, p, setup, drawChain(rng, p, setup), WANT_IN).incoming!
      : localSession(rng, inStart, p, setup, clientRtt(rng, p, setup));
    let outgoing: Flow;
    if (kind === 'bulk') outgoing = bulkCopy(rng, p, setup);
    else if (kind === 'streaming') outgoing = streaming(rng, p, setup);
    else if (kind === 'background') outgoing = background(rng, p, setup);
    else {
      outgoing = relayedSession(rng, startTime(rng) + Math.max(0, offset), p, setup, drawChain(rng, p, setup), WANT_OUT).outgoing!;
    }
    return { incoming, outgoing, relayed: false, meta: meta(`${hard ? 'relayed-elsewhere' : 'local'}+${kind}`) };
  },
});
