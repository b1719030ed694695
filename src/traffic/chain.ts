/**
 * Timing of one interactive session through a chain of stepping stones, as the
 * monitored stepping stone S sees it.
 *
 * A keystroke leaves the user's host, crosses the hops up to S (each a one-way trip of
 * half the hop's RTT plus FIFO jitter, and a forwarding time at every relay on the way),
 * is forwarded by S, crosses the hops down to the end of the session, is echoed there,
 * and the echo comes back the same way to S, which forwards it upstream. Everything
 * upstream of S's incoming connection only shifts when keystrokes reach S; everything
 * downstream of its outgoing connection shows as the time from a keystroke leaving S to
 * its echo coming back.
 *
 * All per-key arrays are scratch storage, reused from session to session and longer than
 * the session (a view per array and session cost more than the steps that fill them):
 * read entries 0 to n-1, n the session's keys, before the next `run`.
 */
import { type Rng, exponential, normal } from '../rng.js';
import { LossProcess, retransmitDelay, rtoFor } from './loss.js';
import { MSS, type SessionScript } from './ssh-model.js';

export interface TimingParams {
  /** Per-hop network jitter (sd of |N(0, sd)|, s), FIFO. */
  jitter: number;
  /** Mean forwarding time at a relay (exponential, s). */
  relayMean: number;
  /** Mean time for the session's server to echo a key (exponential, s). */
  serverMean: number;
  /** Probability that a transmission of a data packet is lost, on every hop. */
  loss: number;
  /** S merges keystrokes that reach it within this window into one packet (s); 0: never. */
  coalesce: number;
}

/**
 * Where one session runs: the RTTs of the hops from the user to S (the last one is the
 * incoming connection) and from S to where the session ends (the first one is the
 * outgoing connection; none when the session's shell runs on S itself).
 */
export interface SessionPath {
  up: ArrayLike<number>;
  down: ArrayLike<number>;
}

/** In-order step: dst[i] = max(src[i] + c, dst[i-1]); keys merged into a packet copy its lead. */
function fifoConst(dst: Float64Array, src: Float64Array, n: number, c: number, lead: Int32Array | null): void {
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    if (lead !== null && lead[i] !== i) {
      dst[i] = dst[lead[i]];
      continue;
    }
    let v = src[i] + c;
    if (v < last) v = last;
    dst[i] = v;
    last = v;
  }
}

/**
 * In-order step with an exponential delay per key: dst[i] = max(src[i] + (c + Exp(mean)), …).
 * A draw is made for every key, merged or not, so that merging keys at S leaves the
 * random stream of the rest of the session where it was.
 */
function fifoExp(dst: Float64Array, src: Float64Array, n: number, c: number, mean: number, rng: Rng, lead: Int32Array | null): void {
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    const e = exponential(rng, mean);
    if (lead !== null && lead[i] !== i) {
      dst[i] = dst[lead[i]];
      continue;
    }
    let v = c === 0 ? src[i] + e : src[i] + (c + e);
    if (v < last) v = last;
    dst[i] = v;
    last = v;
  }
}

/** Per-packet jitter |N(0, sd)|, FIFO, in place (one draw per key, as fifoExp). */
function jitterFifo(t: Float64Array, n: number, sd: number, rng: Rng, lead: Int32Array | null): void {
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = sd > 0 ? Math.abs(normal(rng, 0, sd)) : 0;
    if (lead !== null && lead[i] !== i) {
      t[i] = t[lead[i]];
      continue;
    }
    let v = t[i] + d;
    if (v < last) v = last;
    t[i] = v;
    last = v;
  }
}

/**
 * Loss on a hop S does not touch: a lost packet arrives an RTO (or more) late and, TCP
 * delivering in order, holds back the packets after it. In place.
 */
function holdBack(t: Float64Array, n: number, loss: LossProcess, rto: number, lead: Int32Array | null): void {
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    if (lead !== null && lead[i] !== i) {
      t[i] = t[lead[i]];
      continue;
    }
    let v = t[i] + retransmitDelay(loss.next(), rto);
    if (v < last) v = last;
    t[i] = v;
    last = v;
  }
}

/**
 * Loss on a hop where S receives: `seen` is when the copy that got through arrived (what
 * the capture shows), `delivered` when TCP hands it on in order (what S acts on).
 */
function arriveAtS(
  seen: Float64Array,
  delivered: Float64Array,
  arrival: Float64Array,
  n: number,
  loss: LossProcess,
  rto: number,
  lead: Int32Array | null,
): void {
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    if (lead !== null && lead[i] !== i) {
      seen[i] = seen[lead[i]];
      delivered[i] = delivered[lead[i]];
      continue;
    }
    const v = arrival[i] + retransmitDelay(loss.next(), rto);
    seen[i] = v;
    last = v > last ? v : last;
    delivered[i] = last;
  }
}

/** Lost transmissions per packet on a hop where S sends (duplicates in the capture). */
function lossCounts(out: Uint8Array, n: number, loss: LossProcess, lead: Int32Array | null): void {
  for (let i = 0; i < n; i++) out[i] = lead !== null && lead[i] !== i ? 0 : loss.next();
}

export class ChainTimer {
  private cap = 0;
  private bufs: Float64Array[] = [];
  private leadBuf = new Int32Array(0);
  private lostBufs: Uint8Array[] = [];

  /** Keystroke seen arriving at S on the incoming connection. */
  inSeen!: Float64Array;
  /** Keystroke handed to S in order (inSeen unless the incoming hop lost some). */
  inDelivered!: Float64Array;
  /** Keystroke sent by S on the outgoing connection. */
  outSend!: Float64Array;
  /** Echo seen arriving at S on the outgoing connection. */
  outReply!: Float64Array;
  /** Echo handed to S in order; a command's output follows it. */
  replyDelivered!: Float64Array;
  /** Echo sent by S on the incoming connection. */
  inReply!: Float64Array;
  /** Coalescing at S: the first key of the packet that carries key i; null when S merges nothing. */
  lead: Int32Array | null = null;
  /** Lost transmissions of the keystroke S sends on the outgoing connection (null: no loss). */
  outSendLost: Uint8Array | null = null;
  /** Lost transmissions of the echo S sends on the incoming connection (null: no loss). */
  inReplyLost: Uint8Array | null = null;
  /** Retransmission timeouts of the incoming and outgoing connections. */
  inRto = 0;
  outRto = 0;

  private remote: LossProcess[] = [];
  private remoteRto: number[] = [];
  private remoteHeld = -Infinity;

  private ensure(n: number): void {
    if (n <= this.cap && this.bufs.length > 0) return;
    let cap = Math.max(256, this.cap);
    while (cap < n) cap *= 2;
    this.cap = cap;
    this.bufs = Array.from({ length: 8 }, () => new Float64Array(cap));
    this.leadBuf = new Int32Array(cap);
    this.lostBufs = [new Uint8Array(cap), new Uint8Array(cap)];
  }

  /**
   * Times of session `s` on `path`, as S sees them. The random draws come in a fixed
   * order: upstream hops, S's forwarding, downstream hops out and back, S's forwarding
   * of the echo; draws for loss only when `p.loss` > 0. Without `echoUpstream` the last
   * step (S forwarding echoes on the incoming connection) is only skipped over, for a
   * caller that needs the outgoing connection alone.
   */
  run(rng: Rng, s: SessionScript, path: SessionPath, p: TimingParams, echoUpstream = true): void {
    const n = s.length;
    this.ensure(n);
    const bufs = this.bufs;
    const b0 = bufs[0];
    const b1 = bufs[1];
    const b2 = bufs[2];
    const b3 = bufs[3];
    const b4 = bufs[4];
    const b5 = bufs[5];
    const b6 = bufs[6];
    const b7 = bufs[7];
    const U = path.up.length;
    const D = path.down.length;
    const lossy = p.loss > 0;
    this.lead = null;
    this.outSendLost = null;
    this.inReplyLost = null;
    this.remote = [];
    this.remoteRto = [];
    this.remoteHeld = -Infinity;
    this.inRto = rtoFor(path.up[U - 1]);
    this.outRto = D > 0 ? rtoFor(path.down[0]) : 0;

    // Up to S.
    const inSeen = b0;
    let inDelivered = b0;
    const hop = b1;
    for (let u = 0; u < U; u++) {
      const last = u === U - 1;
      const dst = last ? inSeen : hop;
      fifoConst(dst, u === 0 ? s.t : hop, n, path.up[u] / 2, null);
      jitterFifo(dst, n, p.jitter, rng, null);
      if (lossy) {
        const loss = new LossProcess(rng, p.loss);
        if (last) {
          inDelivered = b2;
          arriveAtS(inSeen, inDelivered, inSeen, n, loss, this.inRto, null);
        } else {
          holdBack(hop, n, loss, rtoFor(path.up[u]), null);
        }
      }
      if (!last) fifoExp(hop, hop, n, 0, p.relayMean, rng, null);
    }
    this.inSeen = inSeen;
    this.inDelivered = inDelivered;

    if (D === 0) {
      // The session's shell runs on S: S echoes.
      const inReply = b3;
      fifoExp(inReply, inDelivered, n, 0, p.serverMean, rng, null);
      this.inReply = inReply;
      this.outSend = this.outReply = this.replyDelivered = inReply;
      if (lossy) {
        this.inReplyLost = this.lostBufs[1];
        lossCounts(this.inReplyLost, n, new LossProcess(rng, p.loss), null);
      }
      return;
    }

    // S forwards, merging keystrokes that reach it within the coalescing window.
    const outSend = b3;
    let lead: Int32Array | null = null;
    if (p.coalesce > 0) {
      lead = this.leadBuf;
      let last = -Infinity;
      let start = -Infinity;
      let g = -1;
      for (let i = 0; i < n; i++) {
        const e = exponential(rng, p.relayMean);
        if (g < 0 || inDelivered[i] > start + p.coalesce) {
          g = i;
          start = inDelivered[i];
          let v = start + p.coalesce + e;
          if (v < last) v = last;
          outSend[i] = v;
          last = v;
        } else {
          outSend[i] = outSend[g];
        }
        lead[i] = g;
      }
    } else {
      fifoExp(outSend, inDelivered, n, 0, p.relayMean, rng, null);
    }
    this.lead = lead;
    this.outSend = outSend;
    if (lossy) {
      this.outSendLost = this.lostBufs[0];
      lossCounts(this.outSendLost, n, new LossProcess(rng, p.loss), lead);
    }
    const sentLate = (cur: Float64Array) => {
      // Keystrokes S had to resend reach the next host late, and hold back the rest.
      const lost = this.outSendLost!;
      let last = -Infinity;
      for (let i = 0; i < n; i++) {
        if (lead !== null && lead[i] !== i) {
          cur[i] = cur[lead[i]];
          continue;
        }
        let v = cur[i] + retransmitDelay(lost[i], this.outRto);
        if (v < last) v = last;
        cur[i] = v;
        last = v;
      }
    };

    // Down to the end of the session: one-way legs to each relay, then the round trip
    // over the last hop (one jitter draw for it, as for a direct session).
    const cur = b4;
    for (let d = 0; d < D - 1; d++) {
      fifoConst(cur, d === 0 ? outSend : cur, n, path.down[d] / 2, lead);
      jitterFifo(cur, n, p.jitter, rng, lead);
      if (lossy) {
        if (d === 0) sentLate(cur);
        else holdBack(cur, n, new LossProcess(rng, p.loss), rtoFor(path.down[d]), lead);
      }
      fifoExp(cur, cur, n, 0, p.relayMean, rng, lead);
    }
    const lastHop = D - 1;
    const before = lastHop === 0 ? outSend : cur;
    if (lossy) {
      if (lastHop === 0) {
        for (let i = 0; i < n; i++) cur[i] = outSend[i];
        sentLate(cur);
      } else {
        holdBack(cur, n, new LossProcess(rng, p.loss), rtoFor(path.down[lastHop]), lead);
      }
      fifoExp(cur, cur, n, path.down[lastHop], p.serverMean, rng, lead);
    } else {
      fifoExp(cur, before, n, path.down[lastHop], p.serverMean, rng, lead);
    }
    jitterFifo(cur, n, p.jitter, rng, lead);
    let outReply = cur;
    let replyDelivered = cur;
    const echoBack = (d: number) => {
      if (!lossy) return;
      const loss = new LossProcess(rng, p.loss);
      if (d === 0) {
        outReply = b5;
        replyDelivered = b6;
        arriveAtS(outReply, replyDelivered, cur, n, loss, this.outRto, lead);
      } else {
        holdBack(cur, n, loss, rtoFor(path.down[d]), lead);
      }
    };
    echoBack(lastHop);
    for (let d = lastHop - 1; d >= 0; d--) {
      fifoExp(cur, cur, n, path.down[d] / 2, p.relayMean, rng, lead);
      jitterFifo(cur, n, p.jitter, rng, lead);
      echoBack(d);
    }
    this.outReply = outReply;
    this.replyDelivered = replyDelivered;
    if (lossy) {
      // Output crosses the hops beyond S too (see outputReady).
      for (let d = 1; d < D; d++) {
        this.remote.push(new LossProcess(rng, p.loss));
        this.remoteRto.push(rtoFor(path.down[d]));
      }
    }

    // S forwards the echo upstream.
    const inReply = b7;
    this.inReply = inReply;
    if (!echoUpstream && !lossy) {
      // The stream still moves past those draws (one uniform per exponential): the
      // outgoing connection's own draws that follow must not depend on the caller's need.
      for (let i = 0; i < n; i++) rng.next();
      return;
    }
    fifoExp(inReply, replyDelivered, n, 0, p.relayMean, rng, lead);
    if (lossy) {
      this.inReplyLost = this.lostBufs[1];
      lossCounts(this.inReplyLost, n, new LossProcess(rng, p.loss), lead);
    }
  }

  /**
   * When an output chunk of `wire` bytes, ready at the end of the session at `ready` (as
   * if no hop beyond S lost anything), can reach S's outgoing connection: each hop
   * beyond it may lose segments of the chunk, which then waits for the retransmission,
   * and holds back the chunks after it. Call once per chunk, in order.
   */
  outputReady(ready: number, wire: number): number {
    const hops = this.remote.length;
    if (hops === 0) return ready;
    const segs = Math.ceil(wire / MSS);
    let delay = 0;
    for (let h = 0; h < hops; h++) {
      let worst = 0;
      for (let k = 0; k < segs; k++) worst = Math.max(worst, retransmitDelay(this.remote[h].next(), this.remoteRto[h]));
      delay += worst;
    }
    const t = Math.max(ready + delay, this.remoteHeld);
    this.remoteHeld = t;
    return t;
  }
}
