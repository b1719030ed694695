/**
 * Building blocks of the synthetic interactive-SSH model: what a user types, what SSH
 * puts on the wire for it, and how a TCP connection carries it past the stepping stone.
 *
 * Sources of the defaults are listed in src/sources/README.md.
 */
import { DIR_BWD, DIR_FWD, FlowBuilder } from '../flow.js';
import { type Rng, clamp, exponential, geometric, lognormal, normal, truncatedPareto } from '../rng.js';

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
}

/** What a user did in one session: a keystroke per entry, times at the user's host. */
export interface SessionScript {
  /** Keystroke times (s). */
  t: Float64Array;
  /** Bytes the server echoes for the key (1 for a character, 2 for Enter's "\r\n"). */
  echo: Int32Array;
  /** Output bytes the command prints after Enter (0 for other keys). */
  output: Int32Array;
  /** Command run time before output starts (s). */
  exec: Float64Array;
}

/** Types commands with think times in between, from `start` until `end`. */
export function sessionScript(rng: Rng, p: SessionParams, start: number, end: number): SessionScript {
  const t: number[] = [];
  const echo: number[] = [];
  const output: number[] = [];
  const exec: number[] = [];
  let now = start;
  while (now < end) {
    const chars = geometric(rng, p.commandLength);
    for (let c = 0; c < chars && now < end; c++) {
      t.push(now);
      echo.push(1);
      output.push(0);
      exec.push(0);
      now += clamp(lognormal(rng, p.keystrokeMedian, p.keystrokeSigma), 0.01, 5);
    }
    if (now >= end) break;
    t.push(now);
    echo.push(2);
    const hasOutput = rng() < p.outputProbability;
    output.push(hasOutput ? Math.round(clamp(lognormal(rng, p.outputMedian, p.outputSigma), 1, p.outputMax)) : 0);
    exec.push(exponential(rng, p.execMean));
    now += truncatedPareto(rng, p.thinkAlpha, p.thinkMin, p.thinkMax);
  }
  return {
    t: new Float64Array(t),
    echo: new Int32Array(echo),
    output: new Int32Array(output),
    exec: new Float64Array(exec),
  };
}

/** SSH transport ciphers with their framing: block alignment and MAC/tag length. */
export const CIPHERS = {
  /** chacha20-poly1305@openssh.com: length field outside the 8-byte alignment, 16-byte tag. */
  chacha20: { block: 8, mac: 16, lengthAligned: false },
  /** aes128-gcm@openssh.com: 16-byte blocks, length as AAD, 16-byte tag. */
  aesgcm: { block: 16, mac: 16, lengthAligned: false },
  /** aes128-ctr with hmac-sha2-256 (not EtM): the length field is inside the aligned part. */
  aesctr: { block: 16, mac: 32, lengthAligned: true },
} as const;
export type Cipher = keyof typeof CIPHERS;
export const CIPHER_NAMES = Object.keys(CIPHERS) as Cipher[];

/**
 * Bytes on the wire of one SSH_MSG_CHANNEL_DATA packet carrying `data` bytes
 * (RFC 4253 section 6: padding >= 4 bytes, packet aligned to the cipher block).
 */
export function sshChannelDataSize(cipher: Cipher, data: number): number {
  const c = CIPHERS[cipher];
  const payload = 9 + data; // msg type, channel id, string length
  const aligned = (c.lengthAligned ? 4 : 0) + 1 + payload;
  let pad = (c.block - (aligned % c.block)) % c.block;
  if (pad < 4) pad += c.block;
  return (c.lengthAligned ? 0 : 4) + aligned + pad + c.mac;
}

/** Output is read from the pty and sent in SSH packets of at most this many bytes. */
export const PTY_CHUNK = 4096;
export const MSS = 1448;
/** Linux delayed-ACK timer for interactive flows (minimum ATO). */
export const DELAYED_ACK = 0.04;

/** Applies a per-packet delay of |N(0, sd)| while keeping FIFO order, in place. */
export function fifoJitter(times: Float64Array, sd: number, rng: Rng): void {
  let last = -Infinity;
  for (let i = 0; i < times.length; i++) {
    let t = times[i] + (sd > 0 ? Math.abs(normal(rng, 0, sd)) : 0);
    if (t < last) t = last;
    times[i] = t;
    last = t;
  }
}

/**
 * How one connection looks at the stepping stone S. All times are as S sees them.
 * `replyAt[i]` is when the echo of keystroke i is seen, `outputReady[i]` when the first
 * output chunk of that key is ready to leave its sender (NaN when it prints nothing).
 */
export interface ConnectionView {
  cipher: Cipher;
  sendAt: Float64Array;
  replyAt: Float64Array;
  /** Time from S seeing a reply to S seeing the client's ACK for it (client side RTT + ack timer). */
  clientAckLag: number;
  /** Extra lag for ACKs of output segments (no delayed-ACK timer on every second segment). */
  clientQuickAckLag: number;
  /** S is the server of this connection and ACKs a keystroke itself if its echo is late. */
  serverAcksAtS: boolean;
  /** Output bottleneck rate (bytes/s) between the output's sender and S. */
  rate: number;
}

/**
 * Emits the packets of one connection into `b`. `chunkReady(i, c)` gives when output
 * chunk c of key i may start to leave its sender; `chunkSeen(i, c, t)` learns when its
 * last byte was seen at S, so that a relay can forward it on the next connection.
 */
export function emitConnection(
  b: FlowBuilder,
  s: SessionScript,
  v: ConnectionView,
  chunkReady: (key: number, chunk: number) => number,
  chunkSeen?: (key: number, chunk: number, t: number) => void,
): void {
  const n = s.t.length;
  const secPerByte = 1 / v.rate;
  for (let i = 0; i < n; i++) {
    const send = v.sendAt[i];
    const nextSend = i + 1 < n ? v.sendAt[i + 1] : Infinity;
    b.push(send, sshChannelDataSize(v.cipher, 1), DIR_FWD);
    const reply = v.replyAt[i];
    if (v.serverAcksAtS && reply - send > DELAYED_ACK) b.push(send + DELAYED_ACK, 0, DIR_BWD);
    b.push(reply, sshChannelDataSize(v.cipher, s.echo[i]), DIR_BWD);
    let lastSeen = reply;
    let pendingSegments = 0;
    const out = s.output[i];
    if (out > 0) {
      let remaining = out;
      let link = reply;
      for (let c = 0; remaining > 0; c++) {
        const data = Math.min(PTY_CHUNK, remaining);
        remaining -= data;
        let wire = sshChannelDataSize(v.cipher, data);
        link = Math.max(link, chunkReady(i, c));
        while (wire > 0) {
          const seg = Math.min(MSS, wire);
          wire -= seg;
          link += seg * secPerByte;
          b.push(link, seg, DIR_BWD);
          // Receivers ACK every second full segment at once.
          if (++pendingSegments === 2) {
            pendingSegments = 0;
            b.push(link + v.clientQuickAckLag, 0, DIR_FWD);
          }
        }
        if (chunkSeen) chunkSeen(i, c, link);
      }
      lastSeen = link;
    }
    // The last reply is ACKed by the delayed-ACK timer unless the next keystroke carries it.
    if (pendingSegments > 0 || out === 0) {
      const ack = lastSeen + v.clientAckLag;
      if (ack < nextSend) b.push(ack, 0, DIR_FWD);
    }
  }
}
