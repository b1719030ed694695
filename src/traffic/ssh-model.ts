/**
 * Building blocks of the synthetic interactive-SSH model: what a user types, what SSH
 * puts on the wire for it, and how a TCP connection carries it past the stepping stone.
 *
 * Sources of the defaults are listed in src/sources/README.md.
 */
import { DIR_BWD, DIR_FWD } from '../flow.js';
import { type Rng, clamp, exponential, geometric, lognormal, normal, truncatedPareto } from '../rng.js';
import { type LossProcess, retransmitDelay } from './loss.js';
import type { PacketSink } from '../flow.js';

export interface SessionParams {
  keystrokeMedian: number;
  keystrokeSigma: number;
  commandLength: number;
  thinkAlpha: number;
  thinkMin: number;
  thinkMax: number;
  outputProbability: number;
  outputMedian: number;
  outputSigma: number;
  outputMax: number;
  execMean: number;
  enterEcho: number;
  promptBytes: number;
  editProbability: number;
  editorScreen: number;
}

/**
 * What a user did in one session: a keystroke per entry, times at the user's host. The
 * arrays may be longer than `length` (a script is a view on reused storage).
 */
export interface SessionScript {
  /** Keystrokes in the script. */
  length: number;
  /** Keystroke times (s). */
  t: Float64Array;
  /** Bytes the server echoes for the key: 1 for a character, more for Enter (isEnter). */
  echo: Int32Array;
  /**
   * Bytes the server sends after the echo: after Enter, the command's output and the next
   * prompt; for some keys in the editor, its second write; 0 for other keys.
   */
  output: Int32Array;
  /** Time from the echo to the output (s): the command's run time, or the editor's wait. */
  exec: Float64Array;
  /** 1 where the key ends a command: Enter at the shell, after which its prompt comes back. */
  ends: Uint8Array;
  /**
   * The shell's prompt: the last this many bytes of every output, written on their own
   * once the command has exited, so they leave as a packet of their own.
   */
  prompt: number;
}

/** Enter at the shell: the key that ends a command (keys in the editor echo more than one byte too). */
export function isEnter(s: SessionScript, i: number): boolean {
  return s.ends[i] === 1;
}

/** Bytes of key i's output that are the shell's prompt: only a command's output ends with one. */
function promptOf(s: SessionScript, i: number): number {
  return s.ends[i] === 1 ? Math.min(s.output[i], s.prompt) : 0;
}

/** Output chunks of key i: the command's output in pty reads of at most PTY_CHUNK, then the prompt. */
export function chunkCount(s: SessionScript, i: number): number {
  const out = s.output[i];
  const prompt = promptOf(s, i);
  return Math.ceil((out - prompt) / PTY_CHUNK) + (prompt > 0 ? 1 : 0);
}

/** Bytes of output chunk c of key i (c < chunkCount(s, i)). */
export function chunkBytes(s: SessionScript, i: number, c: number): number {
  const out = s.output[i];
  const prompt = promptOf(s, i);
  const body = out - prompt;
  const bodyChunks = Math.ceil(body / PTY_CHUNK);
  return c < bodyChunks ? Math.min(PTY_CHUNK, body - c * PTY_CHUNK) : prompt;
}

/**
 * Growable storage for a session script, reused from pair to pair: a script lives only
 * while its pair is generated, and a reused buffer spares a worker four allocations per
 * session and the collector's work on them.
 */
export class ScriptBuffer {
  private t: Float64Array;
  private echo: Int32Array;
  private output: Int32Array;
  private exec: Float64Array;
  private ends: Uint8Array;
  length = 0;
  prompt = 0;

  constructor(capacity = 512) {
    this.t = new Float64Array(capacity);
    this.echo = new Int32Array(capacity);
    this.output = new Int32Array(capacity);
    this.exec = new Float64Array(capacity);
    this.ends = new Uint8Array(capacity);
  }

  reset(prompt = 0): this {
    this.length = 0;
    this.prompt = prompt;
    return this;
  }

  push(t: number, echo: number, output: number, exec: number, ends: number): void {
    if (this.length === this.t.length) this.grow();
    const i = this.length++;
    this.t[i] = t;
    this.echo[i] = echo;
    this.output[i] = output;
    this.exec[i] = exec;
    this.ends[i] = ends;
  }

  private grow(): void {
    const cap = this.t.length * 2;
    const t = new Float64Array(cap);
    t.set(this.t);
    const echo = new Int32Array(cap);
    echo.set(this.echo);
    const output = new Int32Array(cap);
    output.set(this.output);
    const exec = new Float64Array(cap);
    exec.set(this.exec);
    const ends = new Uint8Array(cap);
    ends.set(this.ends);
    this.t = t;
    this.echo = echo;
    this.output = output;
    this.exec = exec;
    this.ends = ends;
  }

  /**
   * The script pushed so far, on the buffer's own arrays (valid until the next reset): a
   * subarray per column and script cost more than typing the script.
   */
  view(): SessionScript {
    return { length: this.length, t: this.t, echo: this.echo, output: this.output, exec: this.exec, ends: this.ends, prompt: this.prompt };
  }
}

/**
 * A user's pause after a prompt before the next command's first key (truncated Pareto),
 * after every prompt, the login's included: the testbed's driver thinks before every
 * command, its first too, and the capture's first keys follow the login prompt by 0.55
 * to 8.7 s (median 0.93 s).
 */
export function thinkTime(rng: Rng, p: SessionParams): number {
  return truncatedPareto(rng, p.thinkAlpha, p.thinkMin, p.thinkMax);
}

/** Types commands with think times in between, from `start` until `end`, into `buf`. */
export function sessionScriptInto(rng: Rng, p: SessionParams, start: number, end: number, buf: ScriptBuffer): SessionScript {
  buf.reset(p.promptBytes);
  let now = start;
  while (now < end) {
    now =
      p.editProbability > 0 && rng.next() < p.editProbability
        ? editFile(rng, p, now, end, buf)
        : typeCommand(rng, p, now, end, geometric(rng, p.commandLength), true, buf);
    if (now >= end) break;
    now += thinkTime(rng, p);
  }
  return buf.view();
}

/**
 * Types `chars` characters and Enter from `now` (stopping at `end`); returns when Enter
 * was pressed. With `runs`, the command prints output and the prompt after it; without,
 * nothing comes back but the echo (a command whose answer is another host's login).
 */
function typeCommand(rng: Rng, p: SessionParams, now: number, end: number, chars: number, runs: boolean, buf: ScriptBuffer): number {
  now = typeKeys(rng, p, now, end, chars, 1, buf);
  if (now >= end) return now;
  let output = 0;
  if (runs) {
    const hasOutput = rng.next() < p.outputProbability;
    output = p.promptBytes + (hasOutput ? Math.round(clamp(lognormal(rng, p.outputMedian, p.outputSigma), 1, p.outputMax)) : 0);
  }
  buf.push(now, p.enterEcho, output, exponential(rng, p.execMean), 1);
  return now;
}

function keyGap(rng: Rng, p: SessionParams): number {
  return clamp(lognormal(rng, p.keystrokeMedian, p.keystrokeSigma), 0.01, 5);
}

/** Types `n` characters, each echoed as `echo` bytes, from `now` (stopping at `end`); returns after the last. */
function typeKeys(rng: Rng, p: SessionParams, now: number, end: number, n: number, echo: number, buf: ScriptBuffer): number {
  for (let c = 0; c < n && now < end; c++) {
    buf.push(now, echo, 0, 0, 0);
    now += keyGap(rng, p);
  }
  return now;
}

/**
 * What vi writes back for each key of an edit, in bytes of channel data, read off the
 * capture's edits (fixtures/real-capture, the chacha20 connections, whose 8-byte blocks
 * pin the data to within 8 bytes): the screen update that answers a key, and for the
 * keys vi answers in two writes, the second one and the time between them.
 */
const EDITOR = {
  /** `G` (to the last line) and `o` (open a line below it): two writes each, about 1 ms apart. */
  motion: [
    { echo: 22, output: 22 },
    { echo: 22, output: 95 },
  ],
  splitWrite: 0.001,
  /** A character typed in insert mode: the character, and the cursor and ruler around it. */
  insertEcho: 30,
  /**
   * ESC: the mode line is cleared at once, the cursor moves back once the terminal's
   * escape timeout (vim's ttimeoutlen, 100 ms) rules out an escape sequence.
   */
  escape: { echo: 38, output: 46, wait: 0.1 },
  /** A key typed right after ESC within the timeout would be read as part of a sequence. */
  afterEscape: 0.3,
  /** `:` opens the command line; `w` and `q` are echoed as typed. */
  command: [46, 1, 1],
  /** Enter after `:wq`: the "written" message, then the shell's screen and prompt. */
  write: { echo: 62, output: 70 },
} as const;

/**
 * A command that edits a file in vi (an editor is the one full-screen program of an
 * everyday session): its command line and Enter, the editor's first screen
 * (`editorScreen` bytes), a think time, `G` `o` to open a line at the end, a line of text
 * (as many characters as a command), ESC, `:wq` and Enter, which brings the prompt back.
 * Returns when that Enter was pressed.
 */
function editFile(rng: Rng, p: SessionParams, now: number, end: number, buf: ScriptBuffer): number {
  now = typeKeys(rng, p, now, end, geometric(rng, p.commandLength), 1, buf);
  if (now >= end) return now;
  buf.push(now, p.enterEcho, p.editorScreen, exponential(rng, p.execMean), 0);
  now += thinkTime(rng, p);
  for (const k of EDITOR.motion) {
    if (now >= end) return now;
    buf.push(now, k.echo, k.output, EDITOR.splitWrite, 0);
    now += keyGap(rng, p);
  }
  now = typeKeys(rng, p, now, end, geometric(rng, p.commandLength), EDITOR.insertEcho, buf);
  if (now >= end) return now;
  buf.push(now, EDITOR.escape.echo, EDITOR.escape.output, EDITOR.escape.wait, 0);
  now += Math.max(EDITOR.afterEscape, keyGap(rng, p));
  for (const echo of EDITOR.command) {
    if (now >= end) return now;
    buf.push(now, echo, 0, 0, 0);
    now += keyGap(rng, p);
  }
  if (now >= end) return now;
  buf.push(now, EDITOR.write.echo, EDITOR.write.output + p.promptBytes, exponential(rng, p.execMean), 1);
  return now;
}

/**
 * What a user types at a stepping stone before going on: `commands` commands of mean
 * length `length` (geometric), then the `hop` characters of the command that opens the
 * next connection, from `start` until its Enter.
 */
export function preludeScriptInto(
  rng: Rng,
  p: SessionParams,
  start: number,
  end: number,
  commands: number,
  length: number,
  hop: number,
  buf: ScriptBuffer,
): SessionScript {
  buf.reset(p.promptBytes);
  let now = start;
  for (let k = 0; k < commands && now < end; k++) {
    now = typeCommand(rng, p, now, end, geometric(rng, length), true, buf);
    now += thinkTime(rng, p);
  }
  if (now < end) typeCommand(rng, p, now, end, hop, false, buf);
  return buf.view();
}

/**
 * Deals the commands of one user's script (each run of keys up to Enter, and a trailing
 * unfinished one) to two windows: the first to a random window, each next one to the
 * other window with probability `switchProb`. Both windows keep the user's one rhythm:
 * while the user types in one, the other is idle.
 */
export function splitCommands(
  rng: Rng,
  s: SessionScript,
  switchProb: number,
  a: ScriptBuffer,
  b: ScriptBuffer,
): [SessionScript, SessionScript] {
  a.reset(s.prompt);
  b.reset(s.prompt);
  let toA = rng.next() < 0.5;
  for (let i = 0; i < s.length; i++) {
    (toA ? a : b).push(s.t[i], s.echo[i], s.output[i], s.exec[i], s.ends[i]);
    if (isEnter(s, i) && rng.next() < switchProb) toA = !toA;
  }
  return [a.view(), b.view()];
}

/** SSH transport ciphers with their framing: block alignment and MAC/tag length. */
export const CIPHERS = {
  /** chacha20-poly1305@openssh.com: length field outside the 8-byte alignment, 16-byte tag. */
  chacha20: { block: 8, mac: 16, lengthAligned: false },
  /** aes128-gcm@openssh.com: 16-byte blocks, length as AAD, 16-byte tag. */
  aesgcm: { block: 16, mac: 16, lengthAligned: false },
  /**
   * aes128-ctr with umac-64-etm@openssh.com, the MAC OpenSSH prefers for a non-AEAD
   * cipher: encrypt-then-MAC leaves the length field in clear, outside the alignment.
   */
  aesctr: { block: 16, mac: 8, lengthAligned: false },
} as const;
export type Cipher = keyof typeof CIPHERS;
export const CIPHER_NAMES = Object.keys(CIPHERS) as Cipher[];

/**
 * Bytes on the wire of one SSH_MSG_CHANNEL_DATA packet carrying `data` bytes
 * (RFC 4253 section 6: padding >= 4 bytes, packet aligned to the cipher block).
 * With `data` 0 it is the size of any 9-byte channel message, e.g. a window adjust.
 */
export function sshChannelDataSize(cipher: Cipher, data: number): number {
  return framedSize(CIPHERS[cipher], data);
}

type CipherFraming = (typeof CIPHERS)[Cipher];

function framedSize(c: CipherFraming, data: number): number {
  const payload = 9 + data; // msg type, channel id, string length
  const aligned = (c.lengthAligned ? 4 : 0) + 1 + payload;
  let pad = (c.block - (aligned % c.block)) % c.block;
  if (pad < 4) pad += c.block;
  return (c.lengthAligned ? 0 : 4) + aligned + pad + c.mac;
}

/**
 * A session carried through SSH port forwarding: one end-to-end session with cipher
 * `e2e`, whose packets a hop either wraps as channel data of its own SSH connection
 * (`wrapped`) or carries bare (the plain TCP connection a forward opens to its target).
 */
export interface Tunnel {
  e2e: Cipher;
  wrapped: boolean;
}

/** Wire sizes on one connection, for nested sessions (own framing) or a tunnel. */
export class Framing {
  /** One keystroke; an echo of 1 and of 2 bytes: the sizes a session uses most. */
  readonly key1: number;
  readonly echo1: number;
  readonly echo2: number;
  private readonly e2eKey: number;
  // Looked up once: a lookup by cipher name per packet costs more than the arithmetic.
  private readonly own: CipherFraming;
  private readonly e2e: CipherFraming | null;

  constructor(
    readonly cipher: Cipher,
    readonly tunnel: Tunnel | null = null,
  ) {
    this.own = CIPHERS[cipher];
    this.e2e = tunnel ? CIPHERS[tunnel.e2e] : null;
    this.e2eKey = this.e2e ? framedSize(this.e2e, 1) : 0;
    this.key1 = this.keys(1);
    this.echo1 = this.data(1);
    this.echo2 = this.data(2);
  }

  /** Wire bytes of one message carrying `data` bytes of the user's session. */
  data(data: number): number {
    const t = this.tunnel;
    if (t === null) return framedSize(this.own, data);
    const inner = framedSize(this.e2e!, data);
    return t.wrapped ? framedSize(this.own, inner) : inner;
  }

  /**
   * Wire bytes of one packet carrying `k` keystrokes: k bytes of channel data in a
   * nested session; k end-to-end packets, back to back, in a tunnel.
   */
  keys(k: number): number {
    const t = this.tunnel;
    if (t === null) return framedSize(this.own, k);
    const inner = k * this.e2eKey;
    return t.wrapped ? framedSize(this.own, inner) : inner;
  }

  echo(bytes: number): number {
    return bytes === 1 ? this.echo1 : bytes === 2 ? this.echo2 : this.data(bytes);
  }
}

/**
 * One TCP segment of an SSH connection's start: who sends it (the client or the
 * server), its bytes on the wire for each cipher (in CIPHER_NAMES order: the same for
 * all three before NEWKEYS), and what sets it off: the segment `after`, plus `compute`
 * seconds of the sender's work (key generation, signing, forking the shell). An answer
 * to a segment of the other side also waits for that segment to cross the link.
 */
interface HandshakeSegment {
  client: boolean;
  bytes: readonly [chacha20: number, aesgcm: number, aesctr: number];
  after: number;
  compute: number;
}

const seg = (client: boolean, bytes: number | readonly [number, number, number], after: number, compute: number): HandshakeSegment => ({
  client,
  bytes: typeof bytes === 'number' ? [bytes, bytes, bytes] : bytes,
  after,
  compute,
});

/*
 * OpenSSH 9.2 (hybrid sntrup761x25519 key exchange, Ed25519 host and user keys,
 * public-key login as root, a shell with a pty), segment by segment, from the testbed's
 * capture (fixtures/real-capture): sizes as captured for each of the three ciphers, and
 * compute times the medians over its connections once the link's round trip is taken
 * out. Two clients: the testbed's own (SERVER_AT_S, S's incoming connections), which
 * names its cipher on the command line and so sends a shorter KEXINIT, and S's OpenSSH
 * client at its defaults (CLIENT_AT_S, the connections S opens), whose 1,560-byte
 * KEXINIT leaves as two segments back to back, and which sends its environment with the
 * shell request. The client's KEXINIT answers the server's version string, not the
 * server's KEXINIT: both sides send theirs at once.
 */
const SERVER_AT_S: readonly HandshakeSegment[] = [
  seg(true, 41, -1, 0), // version string
  seg(false, 41, 0, 0.0083),
  seg(false, 1088, 1, 0.034), // KEXINIT
  seg(true, [1400, 1384, 1360], 1, 0.005),
  seg(true, 1208, 2, 0.076), // KEX_ECDH_INIT (hybrid key)
  seg(false, 1448, 4, 0.013), // KEX_ECDH_REPLY and NEWKEYS, two segments
  seg(false, [116, 124, 116], 5, 0),
  seg(true, 16, 6, 0.033), // NEWKEYS
  seg(true, [44, 52, 44], 7, 0.078), // SERVICE_REQUEST ssh-userauth, after checking the host key
  seg(false, [44, 52, 44], 8, 0.0001), // SERVICE_ACCEPT
  seg(true, [60, 68, 60], 9, 0.002), // USERAUTH_REQUEST none
  seg(false, [44, 52, 44], 10, 0.0067), // USERAUTH_FAILURE
  seg(true, [140, 148, 140], 11, 0.0013), // USERAUTH_REQUEST publickey, query
  seg(false, [100, 100, 92], 12, 0.0009), // USERAUTH_PK_OK
  seg(true, [308, 308, 300], 13, 0.002), // USERAUTH_REQUEST publickey-hostbound, signed
  seg(false, [28, 36, 28], 14, 0.0067), // USERAUTH_SUCCESS
  seg(true, [112, 120, 104], 15, 0.0031), // CHANNEL_OPEN session, no-more-sessions
  seg(false, [444, 444, 420], 16, 0), // hostkeys-00@openssh.com
  seg(false, [44, 52, 44], 17, 0.08), // CHANNEL_OPEN_CONFIRMATION, once the session is forked
  seg(true, [232, 256, 224], 18, 0.0028), // pty-req, env, shell
  seg(false, [108, 108, 84], 19, 0.0007), // CHANNEL_SUCCESS, window adjust
  seg(false, [60, 68, 60], 20, 0.0054), // first prompt
];

const CLIENT_AT_S: readonly HandshakeSegment[] = [
  seg(true, 41, -1, 0),
  seg(false, 41, 0, 0.0116),
  seg(true, 1448, 1, 0.0003), // KEXINIT, two segments
  seg(true, 112, 2, 0.00001),
  seg(false, 1088, 1, 0.021),
  seg(true, 1208, 4, 0.065),
  seg(false, 1448, 5, 0.015),
  seg(false, [116, 124, 116], 6, 0.0001),
  seg(true, 16, 7, 0.027),
  seg(true, [44, 52, 44], 8, 0.063),
  seg(false, [44, 52, 44], 9, 0.0027),
  seg(true, [60, 68, 60], 10, 0.0001),
  seg(false, [44, 52, 44], 11, 0.0101),
  seg(true, [140, 148, 140], 12, 0.0001),
  seg(false, [100, 100, 92], 13, 0.0024),
  seg(true, [308, 308, 300], 14, 0.0008),
  seg(false, [28, 36, 28], 15, 0.0124),
  seg(true, [112, 120, 104], 16, 0.0001),
  seg(false, [444, 444, 420], 17, 0.0009),
  seg(false, [44, 52, 44], 18, 0.064),
  // The shell request with the environment S's client sends: 144 bytes more than the
  // testbed client's (measured with chacha20; the same added for the other ciphers).
  seg(true, [376, 400, 368], 19, 0.0001),
  seg(false, [108, 108, 84], 20, 0.0028),
  seg(false, [60, 68, 60], 21, 0.0068),
];

/** Wire bytes of a server's first prompt: what S relays to its client when the next hop's shell starts. */
export function firstPromptSize(cipher: Cipher): number {
  return SERVER_AT_S[SERVER_AT_S.length - 1].bytes[CIPHER_NAMES.indexOf(cipher)];
}

const handshakeTimes = new Float64Array(Math.max(SERVER_AT_S.length, CLIENT_AT_S.length));

/** How a connection's start varies from one connection to the next. */
export interface HandshakeVariation {
  rng: Rng;
  /** Log-space sd of each compute time of 5 ms or more. */
  computeSigma: number;
  /** Network jitter of each round trip (sd of |N(0, sd)|, s). */
  jitter: number;
}

/**
 * Emits an SSH connection's start into `b` from `t0` (the client's first segment, as S
 * sees it) and returns when its last segment (the first prompt) is seen. Times are as
 * S sees them: a segment S sends, or one the far end sends after another of its own,
 * follows its trigger after the sender's compute time; one the far end sends in answer
 * to S's follows a round trip (`rtt`) later. With `vary`, compute times of 5 ms or more
 * (key generation, checks, forks; the shorter ones are lost in the jitter) and round
 * trips vary, each side's segments staying in order.
 */
export function emitHandshake(b: PacketSink, t0: number, rtt: number, sIsServer: boolean, cipher: Cipher, vary: HandshakeVariation | null = null): number {
  const template = sIsServer ? SERVER_AT_S : CLIENT_AT_S;
  const c = CIPHER_NAMES.indexOf(cipher);
  const at = handshakeTimes;
  let lastClient = -Infinity;
  let lastServer = -Infinity;
  for (let i = 0; i < template.length; i++) {
    const m = template[i];
    const fromS = m.client !== sIsServer;
    let t = t0;
    if (m.after >= 0) {
      let compute = m.compute;
      if (vary !== null && compute >= 0.005) compute = lognormal(vary.rng, compute, vary.computeSigma);
      t = at[m.after] + compute;
      if (!fromS && template[m.after].client !== m.client) {
        t += rtt;
        if (vary !== null && vary.jitter > 0) t += Math.abs(normal(vary.rng, 0, vary.jitter));
      }
    }
    if (m.client) t = lastClient = Math.max(t, lastClient);
    else t = lastServer = Math.max(t, lastServer);
    at[i] = t;
    b.push(t, m.bytes[c], m.client ? DIR_FWD : DIR_BWD);
  }
  return at[template.length - 1];
}

/** Output is read from the pty and sent in SSH packets of at most this many bytes. */
export const PTY_CHUNK = 4096;
export const MSS = 1448;
/** Linux delayed-ACK timer for interactive flows (minimum ATO). */
export const DELAYED_ACK = 0.04;

/**
 * How one connection looks at the stepping stone S. All times are as S sees them:
 * `sendAt[i]` when keystroke i is seen, `replyAt[i]` when its echo is seen.
 */
export interface ConnectionView {
  cipher: Cipher;
  sendAt: Float64Array;
  replyAt: Float64Array;
  /**
   * Time from S seeing a reply to S seeing the client's ACK for it: the client side's RTT,
   * plus its delayed-ACK timer if it delays ACKs.
   */
  clientAckLag: number;
  /** The same for ACKs of every second output segment, which no receiver delays. */
  clientQuickAckLag: number;
  /**
   * S is the server of this connection: it receives the keystrokes, sends echoes and
   * output, and ACKs a keystroke itself if its echo is late.
   */
  serverAcksAtS: boolean;
  /** Output bottleneck rate (bytes/s) between the output's sender and S. */
  rate: number;
  /** Sizes of a tunnelled session; absent or null: a nested session framed by `cipher`. */
  tunnel?: Tunnel | null;
  /**
   * Keystrokes a relay merged: `keyLead[i]` is the first key of the packet that carries
   * key i (the keys of a packet are consecutive and share its time). Absent: one per key.
   */
  keyLead?: Int32Array | null;
  /** Keystrokes answered by one echo packet, as keyLead (the echo is at replyAt[lead]). */
  echoLead?: Int32Array | null;
  /** Lost transmissions of the keystroke of key i, on a connection where S sends keystrokes. */
  sendLost?: Uint8Array | null;
  /** Lost transmissions of the echo of key i, on a connection where S sends echoes. */
  replyLost?: Uint8Array | null;
  /** Retransmission timeout of this connection (s), for sendLost, replyLost and output loss. */
  rto?: number;
  /** Loss of output segments on this connection (S sends them when it is the server). */
  outputLoss?: LossProcess | null;
}

function pushRetransmissions(b: PacketSink, t: number, size: number, dir: number, lost: number, rto: number): void {
  for (let j = 1; j <= lost; j++) b.push(t + retransmitDelay(j, rto), size, dir);
}

/**
 * Emits the packets of one connection into `b`. `chunkReady(i, c)` gives when output
 * chunk c of key i may start to leave its sender; `chunkSeen(i, c, t)` learns when its
 * last byte was seen at S, so that a relay can forward it on the next connection.
 *
 * Where S sends, a lost packet stays in the capture and each retransmission appears as
 * a duplicate; where S receives, the capture sees only the transmission that got through
 * (`sendAt`/`replyAt` already hold it), and an output chunk is complete only once every
 * segment up to its end has arrived, since TCP delivers in order.
 */
export function emitConnection(
  b: PacketSink,
  s: SessionScript,
  v: ConnectionView,
  chunkReady: (key: number, chunk: number) => number,
  chunkSeen?: (key: number, chunk: number, t: number) => void,
): void {
  const n = s.length;
  const secPerByte = 1 / v.rate;
  const frame = new Framing(v.cipher, v.tunnel ?? null);
  const keyLead = v.keyLead ?? null;
  const echoLead = v.echoLead ?? null;
  const sendLost = v.sendLost ?? null;
  const replyLost = v.replyLost ?? null;
  const rto = v.rto ?? 0;
  const outputLoss = v.outputLoss ?? null;
  const sSendsOutput = v.serverAcksAtS;
  // Read once: views come in several shapes, and a load from one is not free in a loop.
  const sendAt = v.sendAt;
  const replyAt = v.replyAt;
  const clientAckLag = v.clientAckLag;
  const quickAckLag = v.clientQuickAckLag;
  for (let i = 0; i < n; i++) {
    const send = sendAt[i];
    const first = echoLead === null ? i : echoLead[i];
    const reply = replyAt[first];
    if (keyLead === null || keyLead[i] === i) {
      let size = frame.key1;
      if (keyLead !== null) {
        let k = 1;
        while (i + k < n && keyLead[i + k] === i) k++;
        if (k > 1) size = frame.keys(k);
      }
      b.push(send, size, DIR_FWD);
      if (sendLost !== null && sendLost[i] > 0) pushRetransmissions(b, send, size, DIR_FWD, sendLost[i], rto);
      if (sSendsOutput && reply - send > DELAYED_ACK) b.push(send + DELAYED_ACK, 0, DIR_BWD);
    }
    // One echo answers the keys first..i; it comes after the last of them.
    if (echoLead !== null && i + 1 < n && echoLead[i + 1] === first) continue;
    const nextSend = i + 1 < n ? sendAt[i + 1] : Infinity;
    let echoBytes = s.echo[i];
    for (let j = first; j < i; j++) echoBytes += s.echo[j];
    const echoSize = frame.echo(echoBytes);
    b.push(reply, echoSize, DIR_BWD);
    if (replyLost !== null && replyLost[first] > 0) pushRetransmissions(b, reply, echoSize, DIR_BWD, replyLost[first], rto);
    let lastSeen = reply;
    let pendingSegments = 0;
    let anyOutput = false;
    let link = reply;
    for (let j = first; j <= i; j++) {
      if (s.output[j] <= 0) continue;
      anyOutput = true;
      const chunks = chunkCount(s, j);
      for (let c = 0; c < chunks; c++) {
        let wire = frame.data(chunkBytes(s, j, c));
        link = Math.max(link, chunkReady(j, c));
        // In-order delivery: a chunk is not complete before the one ahead of it.
        let seen = Math.max(link, lastSeen);
        while (wire > 0) {
          const seg = Math.min(MSS, wire);
          wire -= seg;
          link += seg * secPerByte;
          let at = link;
          if (outputLoss !== null) {
            const lost = outputLoss.next();
            if (lost > 0) {
              if (sSendsOutput) pushRetransmissions(b, link, seg, DIR_BWD, lost, rto);
              else at = link + retransmitDelay(lost, rto);
            }
          }
          if (at > seen) seen = at;
          b.push(at, seg, DIR_BWD);
          // Receivers ACK every second full segment at once.
          if (++pendingSegments === 2) {
            pendingSegments = 0;
            b.push(at + quickAckLag, 0, DIR_FWD);
          }
        }
        if (chunkSeen) chunkSeen(j, c, seen);
        lastSeen = seen;
      }
    }
    // The last reply is ACKed on its own (after clientAckLag) unless the next keystroke carries it.
    if (pendingSegments > 0 || !anyOutput) {
      const ack = lastSeen + clientAckLag;
      if (ack < nextSend) b.push(ack, 0, DIR_FWD);
    }
  }
}
