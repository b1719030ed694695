/**
 * Non-interactive TCP traffic at the stepping stone S: bulk copies over SSH (scp),
 * relayed through S or not, video streaming over HTTPS, and sporadic request/response
 * exchanges. All times are as S sees them.
 *
 * Sources of the defaults are listed in src/sources/README.md.
 */
import { DIR_BWD, DIR_FWD } from '../flow.js';
import { type Rng, clamp, exponential, lognormal, truncatedPareto } from '../rng.js';
import { type LossProcess, retransmitDelay, rtoFor } from './loss.js';
import type { PacketSink } from '../flow.js';
import { DELAYED_ACK, type Framing, MSS } from './ssh-model.js';

/** Initial congestion window in segments (RFC 6928, Linux's default). */
export const INITIAL_WINDOW = 10;
/** OpenSSH's maximum channel packet (CHAN_SES_PACKET_DEFAULT, channels.h): 32 KiB. */
export const SSH_MAX_PACKET = 32 * 1024;
/** The receiver refills OpenSSH's 2 MiB channel window once half of it is used. */
export const SSH_WINDOW_ADJUST = 1024 * 1024;
/** Largest TLS plaintext record (RFC 8446 §5.1). */
export const TLS_RECORD = 16384;
/** TLS 1.3 record overhead with an AEAD: 5-byte header, 1 content-type byte, 16-byte tag. */
export const TLS_OVERHEAD = 22;
/** Time for S's own stack to ACK what it received (no delayed-ACK wait: every second segment). */
export const QUICK_ACK = 0.0001;

/**
 * Departure of the segments of one TCP sender through its bottleneck: slow start from
 * an initial window of 10 segments, doubling every RTT, until the window covers the
 * path's bandwidth-delay product; then back to back at the bottleneck rate. A sender
 * idle for longer than its RTO starts slowly again (RFC 5681 §4.1; Linux's
 * tcp_slow_start_after_idle), which is what shapes a video player's bursts.
 */
export class Pacer {
  private busyUntil = -Infinity;
  private cwnd = INITIAL_WINDOW;
  private inRound = 0;
  private roundStart = -Infinity;
  private steady = false;
  private readonly bdpSegments: number;
  private readonly idle: number;

  constructor(
    private readonly secPerByte: number,
    private readonly rtt: number,
  ) {
    this.bdpSegments = rtt / (secPerByte * MSS);
    this.idle = rtoFor(rtt);
  }

  /** When a segment of `bytes`, ready at `ready`, has crossed the bottleneck. */
  next(ready: number, bytes: number): number {
    if (ready - this.busyUntil > this.idle) {
      this.cwnd = INITIAL_WINDOW;
      this.inRound = 0;
      this.roundStart = ready;
      this.steady = this.cwnd >= this.bdpSegments;
    }
    let t = Math.max(this.busyUntil, ready);
    if (!this.steady) {
      if (this.inRound >= this.cwnd) {
        // The window is out: the next round starts when the first ACK of this one is back.
        this.roundStart = Math.max(this.roundStart + this.rtt, t);
        t = this.roundStart;
        this.cwnd *= 2;
        this.inRound = 0;
        this.steady = this.cwnd >= this.bdpSegments;
      }
      this.inRound++;
    }
    t += bytes * this.secPerByte;
    this.busyUntil = t;
    return t;
  }
}

/** One direction of bulk data on one connection at S. */
export interface BulkLink {
  frame: Framing;
  /** Bottleneck rate (bytes/s). */
  rate: number;
  /** RTT of this connection (s). */
  rtt: number;
  /** Direction the data travels (DIR_FWD: from the client's side). */
  dataDir: number;
  /** S sends the data; otherwise S receives it. */
  sSends: boolean;
  loss: LossProcess | null;
  /** End of the capture window: nothing later is generated. */
  end: number;
}

/**
 * Emits SSH channel messages of `data[m]` bytes, each ready to leave at `ready[m]`,
 * segmented at the MSS and paced (`Pacer`). The receiver ACKs every second segment (S at
 * once; the far end's ACK reaches S one RTT after the segment left it) and a last odd
 * one after the delayed-ACK timer, and sends an SSH window adjust every 1 MiB. Where S
 * sends, a lost segment stays in the capture and its retransmissions are duplicates;
 * where S receives, it arrives late and a message is complete (`done[m]`) only when
 * every segment up to its end has arrived. Messages past the window get done = Infinity.
 */
export function emitMessages(
  b: PacketSink,
  link: BulkLink,
  ready: Float64Array,
  data: Int32Array,
  count: number,
  done: Float64Array | null,
): void {
  const pacer = new Pacer(1 / link.rate, link.rtt);
  const ackDir = 1 - link.dataDir;
  const ackLag = link.sSends ? link.rtt : QUICK_ACK;
  const rto = rtoFor(link.rtt);
  const adjustSize = link.frame.data(0);
  // Answers (ACKs, window adjusts) run an RTT behind the data when S sends: held in a
  // queue and pushed in time order among the data, so the flow needs next to no sorting.
  const answers = new AnswerQueue(b, ackDir);
  let pending = 0;
  let sinceAdjust = 0;
  let delivered = -Infinity;
  let m = 0;
  for (; m < count; m++) {
    let wire = link.frame.data(data[m]);
    let over = false;
    while (wire > 0) {
      const seg = Math.min(MSS, wire);
      wire -= seg;
      const t = pacer.next(ready[m], seg);
      if (t > link.end) {
        over = true;
        break;
      }
      answers.flush(t);
      let at = t;
      if (link.loss !== null) {
        const lost = link.loss.next();
        if (lost > 0) {
          if (link.sSends) for (let j = 1; j <= lost; j++) b.push(t + retransmitDelay(j, rto), seg, link.dataDir);
          else at = t + retransmitDelay(lost, rto);
        }
      }
      b.push(at, seg, link.dataDir);
      if (at > delivered) delivered = at;
      if (++pending === 2) {
        pending = 0;
        answers.add(delivered + ackLag, 0);
      }
    }
    if (over) break;
    if (done !== null) done[m] = delivered;
    sinceAdjust += data[m];
    if (sinceAdjust >= SSH_WINDOW_ADJUST) {
      sinceAdjust -= SSH_WINDOW_ADJUST;
      answers.add(delivered + ackLag, adjustSize);
    }
  }
  if (pending > 0) answers.add(delivered + ackLag + DELAYED_ACK, 0);
  answers.flush(Infinity);
  if (done !== null) for (; m < count; m++) done[m] = Infinity;
}

/** Packets of one direction, added in time order, pushed once the other side's time passes them. */
class AnswerQueue {
  private t: number[] = [];
  private size: number[] = [];
  private head = 0;

  constructor(
    private readonly b: PacketSink,
    private readonly dir: number,
  ) {}

  add(t: number, size: number): void {
    this.t.push(t);
    this.size.push(size);
  }

  /** Pushes every queued packet due before `until`. */
  flush(until: number): void {
    while (this.head < this.t.length && this.t[this.head] < until) {
      this.b.push(this.t[this.head], this.size[this.head], this.dir);
      this.head++;
    }
    if (this.head === this.t.length && this.head > 0) {
      this.t.length = 0;
      this.size.length = 0;
      this.head = 0;
    }
  }
}

/** A copy of `bytes` bytes cut into SSH channel messages of at most 32 KiB. */
export function sshMessages(bytes: number): { data: Int32Array; count: number } {
  const count = Math.max(1, Math.ceil(bytes / SSH_MAX_PACKET));
  const data = new Int32Array(count).fill(SSH_MAX_PACKET);
  data[count - 1] = bytes - (count - 1) * SSH_MAX_PACKET;
  return { data, count };
}

/** A bulk copy's size: log-normal, and no more than the link can carry in the window. */
export function bulkBytes(rng: Rng, median: number, sigma: number, rate: number, seconds: number): number {
  return Math.max(1, Math.round(clamp(lognormal(rng, median, sigma), 1, rate * Math.max(seconds, 0) + SSH_MAX_PACKET)));
}

export interface RelayedBulk {
  start: number;
  bytes: number;
  /** From the user to the target (keystroke direction) or back. */
  upload: boolean;
  rate: number;
  rttIn: number;
  rttOut: number;
  frameIn: Framing;
  frameOut: Framing;
  relayMean: number;
  lossIn: LossProcess | null;
  lossOut: LossProcess | null;
  end: number;
}

/**
 * A bulk copy relayed by S: the connection towards S delivers SSH messages; S forwards
 * each once it has it whole (it decrypts whole packets) after an exponential forwarding
 * time, in order, re-framed for the next connection.
 */
export function emitRelayedBulk(bIn: PacketSink, bOut: PacketSink, rng: Rng, o: RelayedBulk): void {
  const { data, count } = sshMessages(o.bytes);
  const ready = new Float64Array(count).fill(o.start);
  const done = new Float64Array(count);
  const dir = o.upload ? DIR_FWD : DIR_BWD;
  const inLink: BulkLink = { frame: o.frameIn, rate: o.rate, rtt: o.rttIn, dataDir: dir, sSends: !o.upload, loss: o.lossIn, end: o.end };
  const outLink: BulkLink = { frame: o.frameOut, rate: o.rate, rtt: o.rttOut, dataDir: dir, sSends: o.upload, loss: o.lossOut, end: o.end };
  const [first, second] = o.upload ? [inLink, outLink] : [outLink, inLink];
  emitMessages(o.upload ? bIn : bOut, first, ready, data, count, done);
  let last = -Infinity;
  for (let m = 0; m < count; m++) {
    const t = Math.max(done[m] + exponential(rng, o.relayMean), last);
    ready[m] = t;
    last = t;
  }
  emitMessages(o.upload ? bOut : bIn, second, ready, data, count, null);
}

/** A connection S opened as a TLS client; S sends requests, the server answers. */
export interface TlsClient {
  rate: number;
  rtt: number;
  serverMean: number;
  end: number;
}

/** TLS 1.3 wire bytes of `bytes` of application data, in records of at most 16 KiB. */
export function tlsWire(bytes: number): number {
  return bytes + Math.max(1, Math.ceil(bytes / TLS_RECORD)) * TLS_OVERHEAD;
}

/**
 * One request of `request` bytes sent by S at `t` and its response of `response` bytes:
 * the server answers after half an RTT plus its service time; the response's first
 * segment carries the ACK of the request unless the server's delayed-ACK timer fires
 * first; S ACKs every second response segment at once and a last odd one after the
 * delayed-ACK timer. Returns when the response was complete at S (Infinity past `end`).
 */
export function exchange(
  b: PacketSink,
  rng: Rng,
  pacer: Pacer,
  c: TlsClient,
  t: number,
  request: number,
  response: number,
): number {
  let wire = tlsWire(request);
  let sent = t;
  while (wire > 0) {
    const seg = Math.min(MSS, wire);
    wire -= seg;
    b.push(sent, seg, DIR_FWD);
    sent += seg / c.rate;
  }
  const service = exponential(rng, c.serverMean);
  // The request reaches the server half an RTT after it left S; its ACK is back half an RTT later.
  if (service > DELAYED_ACK) b.push(sent + c.rtt + DELAYED_ACK, 0, DIR_BWD);
  const first = sent + c.rtt + service;
  wire = tlsWire(response);
  let pending = 0;
  let at = first;
  while (wire > 0) {
    const seg = Math.min(MSS, wire);
    wire -= seg;
    at = pacer.next(first, seg);
    if (at > c.end) return Infinity;
    b.push(at, seg, DIR_BWD);
    if (++pending === 2) {
      pending = 0;
      b.push(at + QUICK_ACK, 0, DIR_FWD);
    }
  }
  if (pending > 0) b.push(at + DELAYED_ACK, 0, DIR_FWD);
  return at;
}

export interface Streaming extends TlsClient {
  start: number;
  /** Media bytes per second of video (the encoding rate). */
  bitrate: number;
  /** Seconds of video per media segment. */
  segment: number;
  /** The player starts in the window and fills its buffer first; else it is in steady state. */
  fresh: boolean;
}

/** Segments a player fetches back to back before it settles to one per segment duration. */
export const STREAM_BUFFER_SEGMENTS = 3;

/**
 * A video player on S streaming over HTTPS (DASH/HLS-like): it requests media segments
 * of `segment` seconds, back to back while it fills its buffer, then one per segment
 * duration (the ON-OFF steady state). Each response is a burst of bitrate·segment
 * bytes at the bottleneck rate, in slow start again after each idle period.
 */
export function emitStreaming(b: PacketSink, rng: Rng, s: Streaming): void {
  const pacer = new Pacer(1 / s.rate, s.rtt);
  let k = s.fresh ? 0 : STREAM_BUFFER_SEGMENTS;
  let t = s.start;
  while (t < s.end) {
    const request = Math.round(lognormal(rng, 450, 0.3));
    const media = Math.round(s.bitrate * s.segment * lognormal(rng, 1, 0.2));
    const done = exchange(b, rng, pacer, s, t, request, media);
    if (!(done < s.end)) break;
    k++;
    // Filling the buffer: the next request follows at once; full: one segment per duration.
    t = k < STREAM_BUFFER_SEGMENTS ? done + 0.001 : Math.max(done + 0.001, t + s.segment);
  }
}

/**
 * Sporadic request/response exchanges on one persistent TLS connection (an API client,
 * a monitoring agent, a browser tab): idle gaps from a Pareto law (α 1.5, 1 to 60 s),
 * requests of a few hundred bytes, responses log-normal (median 11.6 kB, σ 1.32).
 */
export function emitExchanges(b: PacketSink, rng: Rng, c: TlsClient, start: number): void {
  const pacer = new Pacer(1 / c.rate, c.rtt);
  let t = start;
  while (t < c.end) {
    const request = Math.round(clamp(lognormal(rng, 300, 0.5), 40, TLS_RECORD));
    const response = Math.round(clamp(lognormal(rng, 11_600, 1.32), 1, 4_000_000));
    const done = exchange(b, rng, pacer, c, t, request, response);
    if (!(done < c.end)) break;
    t = done + truncatedPareto(rng, 1.5, 1, 60);
  }
}
