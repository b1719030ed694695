import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { DIR_BWD, DIR_FWD, type Flow, FlowBuilder, payloadTimes } from '../src/flow.js';
import { checkParams } from '../src/params.js';
import { rngFor } from '../src/rng.js';
import source from '../src/sources/synthetic-ssh.js';
import { ChainTimer } from '../src/traffic/chain.js';
import { LossProcess, retransmitDelay } from '../src/traffic/loss.js';
import { type SessionScript, chunkBytes, chunkCount, emitConnection, emitHandshake, firstPromptSize, sshChannelDataSize } from '../src/traffic/ssh-model.js';

type SourceParams = Parameters<typeof source.pair>[1];

function paramsWith(raw: Record<string, unknown> = {}): SourceParams {
  const r = checkParams(source.params, raw, false);
  if (!r.ok) throw new Error(`source params rejected: ${JSON.stringify(r.issues)}`);
  return r.value as SourceParams;
}

const P = paramsWith();
/**
 * Windows that open mid-session: no handshakes, no typing at S before the hop, so every
 * forward payload packet is a keystroke. What the relay and chain tests below look at.
 */
const MID = paramsWith({ sessionStart: false });

function bytes(f: Flow): Uint8Array[] {
  return [f.t, f.size, f.dir].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function sameFlow(a: Flow, b: Flow): boolean {
  const x = bytes(a);
  const y = bytes(b);
  return x.every((arr, k) => arr.length === y[k].length && arr.every((v, i) => v === y[k][i]));
}

describe('synthetic-ssh source: determinism', () => {
  it('rebuilds byte-identical flows from the same (seed, dataset, index)', () => {
    for (const relayed of [true, false]) {
      for (const index of [0, 1, 17]) {
        const a = source.pair({ seed: 5, dataset: 'ssh', index, relayed }, P);
        const b = source.pair({ seed: 5, dataset: 'ssh', index, relayed }, P);
        expect(a.incoming.t.length).toBeGreaterThan(0);
        expect(sameFlow(a.incoming, b.incoming)).toBe(true);
        expect(sameFlow(a.outgoing, b.outgoing)).toBe(true);
        expect(b.meta).toEqual(a.meta);
        expect(b.relayed).toBe(a.relayed);
      }
    }
  });

  it('gives different flows for a different index, seed or dataset', () => {
    const base = source.pair({ seed: 5, dataset: 'ssh', index: 3, relayed: true }, P);
    const others = [
      source.pair({ seed: 5, dataset: 'ssh', index: 4, relayed: true }, P),
      source.pair({ seed: 6, dataset: 'ssh', index: 3, relayed: true }, P),
      source.pair({ seed: 5, dataset: 'ssh2', index: 3, relayed: true }, P),
    ];
    for (const o of others) {
      expect(sameFlow(o.incoming, base.incoming)).toBe(false);
      expect(sameFlow(o.outgoing, base.outgoing)).toBe(false);
    }
  });
});

describe('synthetic-ssh source: flows', () => {
  it('has sorted timestamps inside the capture window [0, duration]', () => {
    for (const duration of [60, 20]) {
      const p = paramsWith(duration === 60 ? {} : { duration });
      for (let index = 0; index < 40; index++) {
        const pair = source.pair({ seed: 2, dataset: 'win', index, relayed: index % 2 === 0 }, p);
        for (const f of [pair.incoming, pair.outgoing]) {
          // In a 20 s window, a negative's outgoing connection may open after it: its
          // user is still typing at S.
          if (duration === 60 || f === pair.incoming) expect(f.t.length).toBeGreaterThan(0);
          if (f.t.length === 0) continue;
          expect(f.size.length).toBe(f.t.length);
          expect(f.dir.length).toBe(f.t.length);
          let sorted = true;
          for (let i = 1; i < f.t.length; i++) if (f.t[i] < f.t[i - 1]) sorted = false;
          expect(sorted).toBe(true);
          expect(f.t[0]).toBeGreaterThanOrEqual(0);
          expect(f.t[f.t.length - 1]).toBeLessThanOrEqual(duration);
          // Sizes are non-negative; directions are 0 or 1.
          expect(f.size.every((s) => s >= 0)).toBe(true);
          expect(f.dir.every((d) => d === 0 || d === 1)).toBe(true);
        }
      }
    }
  });

  it('relayed pairs: each keystroke leaves S after it arrived, shortly after', () => {
    for (let index = 0; index < 60; index++) {
      const pair = source.pair({ seed: 3, dataset: 'relay', index, relayed: true }, MID);
      expect(pair.relayed).toBe(true);
      expect(pair.meta).toEqual({ dataset: 'relay', index, kind: 'relay' });
      const a = payloadTimes(pair.incoming, DIR_FWD);
      const b = payloadTimes(pair.outgoing, DIR_FWD);
      // An interactive minute has dozens of keystrokes.
      expect(b.length).toBeGreaterThan(20);
      // The window can only cut keystrokes still inside S at its end: outgoing has at most
      // as many, and only a few fewer (relay time is ~0.5 ms).
      expect(b.length).toBeLessThanOrEqual(a.length);
      expect(a.length - b.length).toBeLessThanOrEqual(2);
      const lags = Array.from(b, (t, i) => t - a[i]);
      expect(lags.filter((l) => l < 0)).toEqual([]);
      // Forwarding time is exponential with mean relayMean = 0.5 ms (plus FIFO holding).
      expect(Math.max(...lags)).toBeLessThan(0.05);
      // Keystrokes are 1-byte SSH_MSG_CHANNEL_DATA packets: 36 (chacha20, aes-gcm) or 28 (aes-ctr).
      for (const f of [pair.incoming, pair.outgoing]) {
        const sizes = new Set<number>();
        for (let i = 0; i < f.t.length; i++) if (f.dir[i] === DIR_FWD && f.size[i] > 0) sizes.add(f.size[i]);
        expect(sizes.size).toBe(1);
        expect([36, 28]).toContain([...sizes][0]);
      }
    }
  });

  it('negatives are not relays and use both negative kinds', () => {
    const kinds = new Set<string>();
    for (let index = 0; index < 40; index++) {
      const pair = source.pair({ seed: 4, dataset: 'neg', index, relayed: false }, P);
      expect(pair.relayed).toBe(false);
      expect(pair.meta.kind).not.toBe('relay');
      expect(pair.meta.dataset).toBe('neg');
      expect(pair.meta.index).toBe(index);
      kinds.add(pair.meta.kind);
    }
    expect([...kinds].sort()).toEqual(['local+unrelated', 'relayed-elsewhere+unrelated']);
    // hardNegativeShare picks the kind.
    const easy = paramsWith({ hardNegativeShare: 0 });
    const hard = paramsWith({ hardNegativeShare: 1 });
    for (let index = 0; index < 10; index++) {
      expect(source.pair({ seed: 4, dataset: 'neg', index, relayed: false }, easy).meta.kind).toBe('local+unrelated');
      expect(source.pair({ seed: 4, dataset: 'neg', index, relayed: false }, hard).meta.kind).toBe(
        'relayed-elsewhere+unrelated',
      );
    }
  });
});

describe('sshChannelDataSize', () => {
  it('matches hand-computed SSH framing', () => {
    // chacha20, 1 byte: payload 9+1 = 10; padding_length byte + payload = 11; block 8 -> pad 5 (>= 4);
    // 4 (length) + 11 + 5 + 16 (tag) = 36.
    expect(sshChannelDataSize('chacha20', 1)).toBe(36);
    // aes-ctr with umac-64-etm, 1 byte: the length stays outside (encrypt-then-MAC):
    // 1+10 = 11; block 16 -> pad 5; 4 + 16 + 8 (MAC) = 28.
    expect(sshChannelDataSize('aesctr', 1)).toBe(28);
    // aes-gcm, 1 byte: 1+10 = 11; block 16 -> pad 5; 4 + 16 + 16 (tag) = 36.
    expect(sshChannelDataSize('aesgcm', 1)).toBe(36);
    // chacha20, 2 bytes ("\r\n"): 1+11 = 12, pad 4 -> 4 + 16 + 16 = 36.
    expect(sshChannelDataSize('chacha20', 2)).toBe(36);
    // aes-ctr, 2 bytes: 1+11 = 12, pad 4; 4 + 16 + 8 = 28.
    expect(sshChannelDataSize('aesctr', 2)).toBe(28);
    // aes-gcm, 6 bytes: 1+15 = 16, pad 0 < 4 -> 16; 4 + 32 + 16 = 52.
    expect(sshChannelDataSize('aesgcm', 6)).toBe(52);
    // chacha20, 4 bytes: 1+13 = 14, pad 2 < 4 -> 10; 4 + 24 + 16 = 44.
    expect(sshChannelDataSize('chacha20', 4)).toBe(44);
    // A full 4096-byte pty chunk: 1 + 4105 = 4106.
    //   aes-gcm: 4106 mod 16 = 10 -> pad 6; 4 + 4112 + 16 = 4132.
    //   chacha20: 4106 mod 8 = 2 -> pad 6; 4 + 4112 + 16 = 4132.
    //   aes-ctr: 4106 mod 16 = 10 -> pad 6; 4 + 4112 + 8 = 4124.
    expect(sshChannelDataSize('aesgcm', 4096)).toBe(4132);
    expect(sshChannelDataSize('chacha20', 4096)).toBe(4132);
    expect(sshChannelDataSize('aesctr', 4096)).toBe(4124);
  });
});

/** Times of the pure ACKs of one direction. */
function ackTimes(f: Flow, dir: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < f.t.length; i++) if (f.dir[i] === dir && f.size[i] === 0) out.push(f.t[i]);
  return out;
}

/** Sizes of the payload packets of one direction. */
function payloadSizes(f: Flow, dir: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < f.t.length; i++) if (f.dir[i] === dir && f.size[i] > 0) out.push(f.size[i]);
  return out;
}

/** Packets of size 1448 (full MSS segments) of one direction. */
function fullSegments(f: Flow, dir: number): number {
  return payloadSizes(f, dir).filter((s) => s === 1448).length;
}

function payloadBytes(f: Flow, dir: number): number {
  return payloadSizes(f, dir).reduce((a, b) => a + b, 0);
}

/** Every packet's columns, the meta kind and the label, hashed: what "byte-identical" means. */
function pairDigest(pairs: ReturnType<typeof source.pair>[]): string {
  const h = createHash('sha256');
  for (const pair of pairs) {
    for (const f of [pair.incoming, pair.outgoing]) for (const part of bytes(f)) h.update(part);
    h.update(pair.meta.kind);
  }
  return h.digest('hex');
}

/**
 * Network and server times all exact, mid-session windows, no output (not even a prompt):
 * every lag below is a sum of hop RTTs, and every payload packet a keystroke or an echo.
 */
// No editing either: vi answers some keys in two writes, and these tests pair each key with one echo.
const EXACT = { rttSigma: 0, jitter: 0, relayMean: 0, serverMean: 0, outputProbability: 0, promptBytes: 0, editProbability: 0, sessionStart: false };

describe('synthetic-ssh source: defaults', () => {
  it('makes, byte for byte, the pairs recorded for the calibrated defaults', () => {
    // Digest of pairs 0..24 (relayed) and 25..49 (not) of seed 7, dataset "digest", every
    // parameter at its default (the model calibrated to fixtures/real-capture: session
    // starts, one stepping stone, nested sessions, no loss, no coalescing, two negative
    // kinds). Any change to a default, a draw, its order, or the packet order of a flow
    // changes it: results made with the defaults are then no longer reproducible.
    const pairs = Array.from({ length: 50 }, (_, i) => source.pair({ seed: 7, dataset: 'digest', index: i, relayed: i < 25 }, P));
    expect(pairDigest(pairs)).toBe('b6eb88ec4ade22f343b54ce5c2c0823ba45f403621b5deae0c1fded1a58e340a');
  });

  it('keeps default-kind pairs identical when a mix adds other kinds', () => {
    // The kind is drawn from a stream of its own, so a pair that stays interactive is the
    // very pair the default parameters give at that index.
    const mixed = paramsWith({ bulkShare: 0.5, negSameUser: 0.2, negBulk: 0.2, negStreaming: 0.1, negBackground: 0.1, duration: 20 });
    const plain = paramsWith({ duration: 20 });
    let relays = 0;
    let unrelated = 0;
    for (let index = 0; index < 40; index++) {
      for (const relayed of [true, false]) {
        const m = source.pair({ seed: 9, dataset: 'mix', index, relayed }, mixed);
        if (m.meta.kind !== 'relay' && !m.meta.kind.endsWith('+unrelated')) continue;
        const d = source.pair({ seed: 9, dataset: 'mix', index, relayed }, plain);
        expect(m.meta.kind).toBe(d.meta.kind);
        expect(sameFlow(m.incoming, d.incoming)).toBe(true);
        expect(sameFlow(m.outgoing, d.outgoing)).toBe(true);
        if (relayed) relays++;
        else unrelated++;
      }
    }
    expect(relays).toBeGreaterThan(5);
    expect(unrelated).toBeGreaterThan(5);
  });
});

describe('synthetic-ssh source: chains of stepping stones', () => {
  /**
   * Lags S sees with exact times (no jitter, forwarding or server time, RTTs at their
   * medians, no output, so every backward payload packet is an echo):
   * - keystroke to echo, on either connection: the RTTs of all hops after S (S forwards
   *   the keystroke at once and the echo at once);
   * - echo to the client's delayed ACK on the incoming connection (when no keystroke
   *   comes first to carry it): the RTT of the incoming hop alone, plus the 40 ms timer.
   *   TCP ends at every relay, so the hops before it do not show.
   */
  function lags(raw: Record<string, unknown>) {
    const p = paramsWith({ ...EXACT, ...raw });
    const keyEcho: number[] = [];
    const ackGaps: number[] = [];
    const serverAcks: number[] = [];
    let keys = 0;
    for (let index = 0; index < 6; index++) {
      const pair = source.pair({ seed: 21, dataset: 'chain', index, relayed: true }, p);
      for (const f of [pair.incoming, pair.outgoing]) {
        const k = payloadTimes(f, DIR_FWD);
        const e = payloadTimes(f, DIR_BWD);
        for (let i = 0; i < Math.min(k.length, e.length); i++) keyEcho.push(e[i] - k[i]);
      }
      const k = payloadTimes(pair.incoming, DIR_FWD);
      const e = payloadTimes(pair.incoming, DIR_BWD);
      keys += k.length;
      ackGaps.push(...ackTimes(pair.incoming, DIR_FWD).map((a) => lagBehind(a, e)));
      serverAcks.push(...ackTimes(pair.incoming, DIR_BWD).map((a) => lagBehind(a, k)));
    }
    return { keyEcho, ackGaps, serverAcks, keys };
  }

  /**
   * How long after one of `times` the ACK at `a` comes, taking the one that makes the lag
   * closest to a whole number of milliseconds: the packet it acknowledges need not be the
   * last one before it (a keystroke may arrive while S's ACK timer for the one before runs).
   */
  function lagBehind(a: number, times: Float64Array): number {
    let best = Number.NaN;
    let bestErr = Infinity;
    for (const t of times) {
      if (t > a) break;
      const lag = a - t;
      const err = Math.abs(lag * 1000 - Math.round(lag * 1000));
      if (err < bestErr) {
        bestErr = err;
        best = lag;
      }
    }
    return best;
  }

  function expectAll(xs: number[], value: number): void {
    expect(xs.length).toBeGreaterThan(20);
    for (const x of xs) expect(x).toBeCloseTo(value, 9);
  }

  it('chain 4 monitored at the last: one hop after S, one hop into S', () => {
    // Hops of 20 ms each. After S4 only the hop to the target: keystroke to echo 20 ms.
    // Into S4 the hop from S3: its client ACKs the echo at once, seen 20 ms after it.
    // Echoes come within the 40 ms delayed-ACK timer of S, so S never ACKs a keystroke on
    // its own.
    const r = lags({ chain: 4, monitor: 4, hopRttMedian: 0.02 });
    expectAll(r.keyEcho, 0.02);
    expectAll(r.ackGaps, 0.02);
    expect(r.serverAcks).toEqual([]);
  });

  it('chain 4 monitored at the first: four hops after S', () => {
    // After S1: S1-S2, S2-S3, S3-S4 and S4-target, 20 ms each: 80 ms from keystroke to
    // echo. Into S1 the user's own hop: ACK lag 20 ms as before. The echo is later than
    // S's 40 ms timer, so S ACKs every keystroke itself 40 ms after it arrived.
    const r = lags({ chain: 4, monitor: 1, hopRttMedian: 0.02 });
    expectAll(r.keyEcho, 0.08);
    expectAll(r.ackGaps, 0.02);
    expectAll(r.serverAcks, 0.04);
    expect(r.serverAcks.length).toBeGreaterThan(r.keys / 2);
  });

  it('without a per-hop median, splits rttUpMedian and rttDownMedian over the hops', () => {
    // chain 4, S = S2: two hops up share 40 ms (20 ms each), three hops down share 20 ms.
    // Keystroke to echo: 20 ms, as with one stepping stone; ACK lag: the incoming hop's
    // 20 ms.
    const r = lags({ chain: 4, monitor: 2 });
    expectAll(r.keyEcho, 0.02);
    expectAll(r.ackGaps, 0.02);
    // One stepping stone: the whole 40 ms up is the incoming hop: ACK lag 40 ms.
    const one = lags({});
    expectAll(one.keyEcho, 0.02);
    expectAll(one.ackGaps, 0.04);
  });

  it('refuses a monitor past the end of the chain', () => {
    expect(() => source.pair({ seed: 1, dataset: 'x', index: 0, relayed: true }, paramsWith({ chain: 2, monitor: 3 }))).toThrow(UserError);
  });
});

describe('synthetic-ssh source: port-forwarding tunnels', () => {
  // A keystroke of the end-to-end session is 36 bytes (chacha20, AES-GCM) or 28 (AES-CTR)
  // (see sshChannelDataSize below). A hop that carries it as channel data of its own SSH
  // connection wraps it again:
  //   36 bytes of data: chacha20 1+45 = 46, pad 2 < 4 -> 10: 4+46+10+16 = 76;
  //                     AES-GCM 46 mod 16 = 14, pad 2 -> 18: 4+46+18+16 = 84;
  //                     AES-CTR the same alignment, 8-byte MAC: 4+46+18+8 = 76.
  //   28 bytes of data: chacha20 1+37 = 38, pad 2 < 4 -> 10: 4+38+10+16 = 68;
  //                     AES-GCM 38 mod 16 = 6, pad 10: 68; AES-CTR 4+38+10+8 = 60.
  const wrapped: Record<number, number[]> = { 36: [76, 84], 28: [68, 60] };

  function keystrokeSizes(f: Flow): number[] {
    return [...new Set(payloadSizes(f, DIR_FWD))];
  }

  it('keeps the end-to-end framing plus one channel layer per hop', () => {
    for (const [raw, inWrapped, outWrapped] of [
      // S the last stone: the forward from S to the target is a plain TCP connection.
      [{ tunnel: 'port-forward' }, true, false],
      // S in the middle of a chain: both its hops are SSH connections carrying the session.
      [{ tunnel: 'port-forward', chain: 3, monitor: 2 }, true, true],
    ] as const) {
      const p = paramsWith({ ...raw, outputProbability: 0 });
      for (let index = 0; index < 12; index++) {
        const pair = source.pair({ seed: 5, dataset: 'tunnel', index, relayed: true }, p);
        const a = keystrokeSizes(pair.incoming);
        const b = keystrokeSizes(pair.outgoing);
        expect(a.length).toBe(1);
        expect(b.length).toBe(1);
        // Which end-to-end size is inside: the one both hops are consistent with.
        const e2e = [36, 28].find((e) => (inWrapped ? wrapped[e].includes(a[0]) : a[0] === e))!;
        expect(e2e).toBeDefined();
        if (outWrapped) expect(wrapped[e2e]).toContain(b[0]);
        else expect(b[0]).toBe(e2e);
        // Each wrapped size is the hop cipher's framing of the inner packet.
        if (inWrapped) expect(['chacha20', 'aesgcm', 'aesctr'].map((c) => sshChannelDataSize(c as 'aesgcm', e2e))).toContain(a[0]);
      }
    }
  });

  it('nested logins frame each hop on its own', () => {
    const p = paramsWith({ chain: 3, monitor: 2, outputProbability: 0, sessionStart: false });
    for (let index = 0; index < 12; index++) {
      const pair = source.pair({ seed: 5, dataset: 'tunnel', index, relayed: true }, p);
      for (const f of [pair.incoming, pair.outgoing]) for (const s of keystrokeSizes(f)) expect([36, 28]).toContain(s);
    }
  });
});

describe('synthetic-ssh source: loss and retransmission', () => {
  /**
   * Splits times into first transmissions and retransmissions: a retransmission of a
   * packet at t leaves at t + rto·(2^j − 1), j = 1, 2, … (the timeout doubles).
   */
  function retransmissions(times: Float64Array, rto: number): { originals: number[]; duplicates: number } {
    const originals: number[] = [];
    let duplicates = 0;
    for (const t of times) {
      const dup = originals.some((o) => [1, 2, 3, 4].some((j) => Math.abs(t - o - retransmitDelay(j, rto)) < 1e-9));
      if (dup) duplicates++;
      else originals.push(t);
    }
    return { originals, duplicates };
  }

  function ties(xs: number[]): number {
    let n = 0;
    for (let i = 1; i < xs.length; i++) if (xs[i] === xs[i - 1]) n++;
    return n;
  }

  it('shows retransmitted duplicates where S sends and held-back keystrokes where it receives', () => {
    // Exact times, one stepping stone: incoming hop 40 ms (RTO 40 + 200 = 240 ms),
    // outgoing hop 20 ms (RTO 220 ms).
    const count = (loss: number) => {
      const p = paramsWith({ ...EXACT, loss });
      let outDup = 0;
      let inEchoDup = 0;
      let inKeyDup = 0;
      let held = 0;
      for (let index = 0; index < 10; index++) {
        const pair = source.pair({ seed: 8, dataset: 'loss', index, relayed: true }, p);
        const outKeys = retransmissions(payloadTimes(pair.outgoing, DIR_FWD), 0.22);
        const inKeys = retransmissions(payloadTimes(pair.incoming, DIR_FWD), 0.24);
        outDup += outKeys.duplicates;
        inKeyDup += inKeys.duplicates;
        inEchoDup += retransmissions(payloadTimes(pair.incoming, DIR_BWD), 0.24).duplicates;
        // S forwards each keystroke once, after it has it; the capture of the incoming
        // connection shows each keystroke once (only the copy that got through).
        expect(Math.abs(outKeys.originals.length - inKeys.originals.length)).toBeLessThanOrEqual(2);
        // A keystroke lost on the incoming hop holds back the ones typed after it: S gets
        // them all at once and forwards them at the same instant.
        held += ties(outKeys.originals);
      }
      return { outDup, inEchoDup, inKeyDup, held };
    };
    const lossy = count(0.1);
    expect(lossy.outDup).toBeGreaterThan(20);
    expect(lossy.inEchoDup).toBeGreaterThan(20);
    expect(lossy.held).toBeGreaterThan(3);
    expect(lossy.inKeyDup).toBe(0);
    expect(count(0)).toEqual({ outDup: 0, inEchoDup: 0, inKeyDup: 0, held: 0 });
  });

  it('LossProcess loses the transmissions the geometric gaps point at', () => {
    // rate 0.5: gap = floor(ln(1 − u) / ln 0.5). u = 0.6 -> ln 0.4 / ln 0.5 = 1.32 -> 1;
    // u = 0 -> 0; u = 0.9 -> ln 0.1 / ln 0.5 = 3.32 -> 3.
    const draws = [0.6, 0, 0.9, 0.9];
    let k = 0;
    const loss = new LossProcess({ next: () => draws[k++] }, 0.5);
    // Gap 1: the first packet gets through, the second's first try is lost; its retry
    // (gap 0) is lost too; after that 3 transmissions pass: its third try and the next
    // two packets. The fifth packet's first try is lost, and its retry passes (gap 3).
    expect(loss.next()).toBe(0);
    expect(loss.next()).toBe(2);
    expect([loss.next(), loss.next()]).toEqual([0, 0]);
    expect(k).toBe(3);
    expect(loss.next()).toBe(1);
    expect(k).toBe(4);
    // Retries after 1, 1+2 and 1+2+4 timeouts.
    expect([1, 2, 3].map((j) => retransmitDelay(j, 0.2))).toEqual([0.2, 0.2 * 3, 0.2 * 7]);
    // Rate 0 never draws.
    expect(new LossProcess({ next: () => Number.NaN }, 0).next()).toBe(0);
  });
});

describe('synthetic-ssh source: coalescing at S', () => {
  it('merges keystrokes that reach S within the window, by hand', () => {
    // Keys typed at 0, 0.05, 0.08, 0.50, 0.55 s (the last one Enter). Up 20 ms, down 40 ms,
    // no jitter, forwarding or server time; S merges within 100 ms.
    const s: SessionScript = {
      length: 5,
      t: new Float64Array([0, 0.05, 0.08, 0.5, 0.55]),
      echo: new Int32Array([1, 1, 1, 1, 2]),
      output: new Int32Array(5),
      exec: new Float64Array(5),
      ends: new Uint8Array([0, 0, 0, 0, 1]),
      prompt: 0,
    };
    const timer = new ChainTimer();
    const p = { jitter: 0, relayMean: 0, serverMean: 0, loss: 0, coalesce: 0.1 };
    timer.run(rngFor(1, 'coalesce', 0), s, { up: [0.02], down: [0.04] }, p);
    // At S (half the up RTT later): 0.01, 0.06, 0.09, 0.51, 0.56. The first window opens
    // at 0.01 and takes 0.06 and 0.09 (<= 0.11); 0.51 opens the next, which takes 0.56.
    expect(Array.from(timer.lead!.subarray(0, 5))).toEqual([0, 0, 0, 3, 3]);
    // Each merged packet leaves when its window closes: 0.11 and 0.61; echoes 40 ms later.
    const close = (xs: Float64Array, ys: number[]) => ys.forEach((y, i) => expect(xs[i]).toBeCloseTo(y, 12));
    close(timer.outSend, [0.11, 0.11, 0.11, 0.61, 0.61]);
    close(timer.outReply, [0.15, 0.15, 0.15, 0.65, 0.65]);
    close(timer.inReply, [0.15, 0.15, 0.15, 0.65, 0.65]);

    const b = new FlowBuilder(64);
    emitConnection(
      b,
      s,
      {
        cipher: 'chacha20',
        sendAt: timer.outSend,
        replyAt: timer.outReply,
        clientAckLag: 0.04,
        clientQuickAckLag: 0.0001,
        serverAcksAtS: false,
        rate: 2.5e6,
        keyLead: timer.lead,
        echoLead: timer.lead,
      },
      () => 0,
    );
    const out = b.build();
    // Outgoing: a packet of 3 keys (chacha20, 3 bytes: 1+12 = 13, pad 3 < 4 -> 11:
    // 4+13+11+16 = 44) and one of 2 keys (36); one echo each, of 1+1+1 and 1+2 bytes
    // (44 both); S's delayed ACK of each echo 40 ms later.
    expect(Array.from(out.size)).toEqual([44, 44, 0, 36, 44, 0]);
    expect(Array.from(out.dir)).toEqual([DIR_FWD, DIR_BWD, DIR_FWD, DIR_FWD, DIR_BWD, DIR_FWD]);
    close(out.t, [0.11, 0.15, 0.19, 0.61, 0.65, 0.69]);
    expect(sshChannelDataSize('chacha20', 3)).toBe(44);
    expect(sshChannelDataSize('chacha20', 2)).toBe(36);
  });

  it('in the source, every forwarded packet leaves one window after a keystroke reached S', () => {
    // Exact times and no forwarding time: a merged packet leaves exactly `coalesce` after
    // the first of its keys arrived, so each outgoing keystroke time is an incoming one
    // plus 0.3 s, and there are fewer of them.
    const p = paramsWith({ ...EXACT, coalesce: 0.3 });
    for (let index = 0; index < 8; index++) {
      const pair = source.pair({ seed: 4, dataset: 'coalesce', index, relayed: true }, p);
      const a = payloadTimes(pair.incoming, DIR_FWD);
      const b = payloadTimes(pair.outgoing, DIR_FWD);
      expect(b.length).toBeLessThan(a.length);
      for (const t of b) expect(a.some((x) => Math.abs(x + 0.3 - t) < 1e-9)).toBe(true);
      // One echo per forwarded packet, on both connections.
      expect(Math.abs(payloadTimes(pair.outgoing, DIR_BWD).length - b.length)).toBeLessThanOrEqual(1);
      expect(Math.abs(payloadTimes(pair.incoming, DIR_BWD).length - b.length)).toBeLessThanOrEqual(1);
    }
  });
});

describe('synthetic-ssh source: traffic mix', () => {
  it('draws each negative kind in its share and labels it', () => {
    // Mid-session windows: the interactive connections' only forward payload is keystrokes.
    const p = paramsWith({ duration: 20, negSameUser: 0.25, negBulk: 0.25, negStreaming: 0.2, negBackground: 0.1, sessionStart: false });
    const n = 400;
    const counts: Record<string, number> = {};
    const kindOf = (k: string) => (k === 'same-user' ? k : k.split('+')[1]);
    for (let index = 0; index < n; index++) {
      const pair = source.pair({ seed: 6, dataset: 'kinds', index, relayed: false }, p);
      expect(pair.relayed).toBe(false);
      const kind = kindOf(pair.meta.kind);
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (kind !== 'same-user') expect(['local', 'relayed-elsewhere']).toContain(pair.meta.kind.split('+')[0]);
      const out = pair.outgoing;
      if (kind === 'bulk') {
        // A copy runs at the bottleneck rate in full segments, data one way, ACKs the other.
        expect(Math.max(fullSegments(out, DIR_FWD), fullSegments(out, DIR_BWD))).toBeGreaterThan(20);
      } else if (kind === 'streaming') {
        // Media down, small requests up.
        expect(payloadSizes(out, DIR_FWD).length).toBeGreaterThan(0);
        expect(payloadBytes(out, DIR_BWD)).toBeGreaterThan(20 * payloadBytes(out, DIR_FWD));
      } else if (kind === 'background') {
        expect(payloadSizes(out, DIR_FWD).length).toBeGreaterThan(0);
        expect(payloadBytes(out, DIR_BWD)).toBeGreaterThan(payloadBytes(out, DIR_FWD));
      } else if (kind === 'unrelated') {
        // Interactive: one keystroke size per connection.
        expect(new Set(payloadSizes(out, DIR_FWD)).size).toBe(1);
      } else {
        // The user's second window: interactive too, though in 20 s the user may not
        // have turned to it.
        expect(new Set(payloadSizes(out, DIR_FWD)).size).toBeLessThanOrEqual(1);
      }
    }
    // Shares 0.25, 0.25, 0.2, 0.1 and the remaining 0.2 for the default kinds; each count
    // within 4 standard deviations of n·share.
    const expected: Record<string, number> = { 'same-user': 0.25, bulk: 0.25, streaming: 0.2, background: 0.1, unrelated: 0.2 };
    expect(Object.keys(counts).sort()).toEqual(Object.keys(expected).sort());
    for (const [kind, share] of Object.entries(expected)) {
      expect(Math.abs(counts[kind] - n * share)).toBeLessThan(4 * Math.sqrt(n * share * (1 - share)));
    }
  });

  it('the same user types into one window at a time', () => {
    // Exact times: both windows reach S one client hop away, and S forwards at once, so the
    // keystrokes of both connections are the user's one script shifted by half that RTT.
    // The script never puts two keys closer than 10 ms (the clamp on typing gaps), so the
    // merged keystrokes are at least 10 ms apart. Two unrelated users collide: over a
    // minute, about 160 × 160 × 0.02 / 60 ≈ 8 pairs of keys fall within 10 ms.
    const minGap = (pair: ReturnType<typeof source.pair>) => {
      const all = [...payloadTimes(pair.incoming, DIR_FWD), ...payloadTimes(pair.outgoing, DIR_FWD)].sort((a, b) => a - b);
      let m = Infinity;
      for (let i = 1; i < all.length; i++) m = Math.min(m, all[i] - all[i - 1]);
      return m;
    };
    const same = paramsWith({ ...EXACT, negSameUser: 1 });
    const other = paramsWith({ ...EXACT, hardNegativeShare: 0 });
    let collisions = 0;
    for (let index = 0; index < 10; index++) {
      const pair = source.pair({ seed: 3, dataset: 'user', index, relayed: false }, same);
      expect(pair.meta.kind).toBe('same-user');
      expect(payloadTimes(pair.incoming, DIR_FWD).length).toBeGreaterThan(10);
      expect(payloadTimes(pair.outgoing, DIR_FWD).length).toBeGreaterThan(10);
      expect(minGap(pair)).toBeGreaterThanOrEqual(0.01 - 1e-9);
      if (minGap(source.pair({ seed: 3, dataset: 'user', index, relayed: false }, other)) < 0.01) collisions++;
    }
    expect(collisions).toBeGreaterThan(5);
  });

  it('relays bulk copies in the share bulkShare', () => {
    const p = paramsWith({ duration: 20, bulkShare: 0.3 });
    let bulk = 0;
    const n = 100;
    for (let index = 0; index < n; index++) {
      const pair = source.pair({ seed: 2, dataset: 'bulk', index, relayed: true }, p);
      expect(pair.relayed).toBe(true);
      if (pair.meta.kind === 'relay') continue;
      expect(pair.meta.kind).toBe('relay-bulk');
      bulk++;
      // The data crosses S in one direction: full segments that way on both connections,
      // none the other way. S forwards what it received: a copy that ended inside the
      // window has as many full segments on both connections (same data, 32 KiB messages,
      // each cut the same way at the MSS); one still running has forwarded at most as
      // many as reached S (downloads reach S on the outgoing connection).
      const dir = fullSegments(pair.incoming, DIR_FWD) > 0 ? DIR_FWD : DIR_BWD;
      expect(fullSegments(pair.incoming, 1 - dir) + fullSegments(pair.outgoing, 1 - dir)).toBe(0);
      const [from, to] = dir === DIR_FWD ? [pair.incoming, pair.outgoing] : [pair.outgoing, pair.incoming];
      const a = fullSegments(from, dir);
      const b = fullSegments(to, dir);
      expect(a).toBeGreaterThan(20);
      const times = payloadTimes(to, dir);
      if (times[times.length - 1] < 19) expect(b).toBe(a);
      else expect(b).toBeLessThanOrEqual(a);
    }
    // 0.3 of 100: sd 4.6.
    expect(Math.abs(bulk - 30)).toBeLessThan(4 * Math.sqrt(n * 0.3 * 0.7));
  });

  it('refuses negative shares that sum past 1', () => {
    const p = paramsWith({ negBulk: 0.6, negStreaming: 0.6 });
    expect(() => source.pair({ seed: 1, dataset: 'x', index: 0, relayed: false }, p)).toThrow(UserError);
  });

  it('rebuilds identical pairs with every new parameter in use', () => {
    const p = paramsWith({
      duration: 20,
      chain: 3,
      monitor: 2,
      tunnel: 'port-forward',
      loss: 0.03,
      coalesce: 0.05,
      bulkShare: 0.3,
      negSameUser: 0.2,
      negBulk: 0.2,
      negStreaming: 0.2,
      negBackground: 0.2,
    });
    const kinds = new Set<string>();
    for (let index = 0; index < 30; index++) {
      for (const relayed of [true, false]) {
        const req = { seed: 12, dataset: 'det', index, relayed };
        const a = source.pair(req, p);
        const b = source.pair(req, p);
        expect(sameFlow(a.incoming, b.incoming)).toBe(true);
        expect(sameFlow(a.outgoing, b.outgoing)).toBe(true);
        expect(b.meta).toEqual(a.meta);
        kinds.add(a.meta.kind);
        for (const f of [a.incoming, a.outgoing]) {
          let sorted = true;
          for (let i = 1; i < f.t.length; i++) if (f.t[i] < f.t[i - 1]) sorted = false;
          expect(sorted).toBe(true);
          if (f.t.length) expect(f.t[f.t.length - 1]).toBeLessThanOrEqual(20);
        }
      }
    }
    expect(kinds.size).toBeGreaterThan(4);
  });
});

describe('synthetic-ssh source: session starts', () => {
  /** The packets a builder holds, as [time, size, dir] rows. */
  function rows(b: FlowBuilder): [number, number, number][] {
    const f = b.build();
    return Array.from(f.t, (t, i) => [t, f.size[i], f.dir[i]]);
  }

  it('emitHandshake: a round trip wherever S waits for the far end, by hand', () => {
    // RTT 100 ms, chacha20, from t = 1. S the server (incoming connection): the client's
    // version arrives at 1; S answers after 8.3 ms (version, 1.0083) and 34 ms more
    // (KEXINIT, 1.0423). The client's KEXINIT answers S's version: a round trip and 5 ms
    // later (1.1133), before S's KEXINIT could have reached it; its key answers S's
    // KEXINIT 100 + 76 ms later (1.2183); S replies 13 ms later in two segments (1.2313);
    // the client's NEWKEYS comes a round trip and 33 ms later (1.3643), its service
    // request 78 ms after that (1.4423), S's answer 0.1 ms later.
    const server = new FlowBuilder();
    const end = emitHandshake(server, 1, 0.1, true, 'chacha20');
    const a = rows(server);
    expect(a).toHaveLength(22);
    const head: [number, number, number][] = [
      [1, 41, DIR_FWD],
      [1.0083, 41, DIR_BWD],
      [1.0423, 1088, DIR_BWD],
      [1.1133, 1400, DIR_FWD],
      [1.2183, 1208, DIR_FWD],
      [1.2313, 1448, DIR_BWD],
      [1.2313, 116, DIR_BWD],
      [1.3643, 16, DIR_FWD],
      [1.4423, 44, DIR_FWD],
      [1.4424, 44, DIR_BWD],
    ];
    head.forEach(([t, size, dir], i) => {
      expect(a[i][0]).toBeCloseTo(t, 9);
      expect([a[i][1], a[i][2]]).toEqual([size, dir]);
    });
    // Ten client segments, twelve from the server, which ends with its first prompt.
    expect(a.filter((r) => r[2] === DIR_FWD)).toHaveLength(10);
    expect(a[21][0]).toBeCloseTo(end, 12);
    expect(a[21][1]).toBe(firstPromptSize('chacha20'));
    // The framing of the three ciphers: SERVICE_REQUEST (payload 17) is 44 bytes with
    // chacha20 (4 + 24 + 16), 52 with AES-GCM (4 + 32 + 16), 44 with AES-CTR (4 + 32 + 8).
    for (const [cipher, size] of [['aesgcm', 52], ['aesctr', 44]] as const) {
      const b = new FlowBuilder();
      emitHandshake(b, 0, 0.1, true, cipher);
      expect(rows(b)[8][1]).toBe(size);
    }
    // S the client (outgoing connection): the server's version answers S's a round
    // trip and 11.6 ms later (1.1116); S's KEXINIT follows 0.3 ms later as two segments
    // 10 µs apart; the server's KEXINIT follows its own version by 21 ms (1.1326), S's
    // key 65 ms after that (1.1976), the server's reply a round trip and 15 ms later.
    const client = new FlowBuilder();
    emitHandshake(client, 1, 0.1, false, 'chacha20');
    const b = rows(client);
    expect(b).toHaveLength(23);
    const times = [1, 1.1116, 1.1119, 1.11191, 1.1326, 1.1976, 1.3126];
    const sizes = [41, 41, 1448, 112, 1088, 1208, 1448];
    times.forEach((t, i) => {
      expect(b[i][0]).toBeCloseTo(t, 9);
      expect(b[i][1]).toBe(sizes[i]);
    });
  });

  it('emitHandshake varies compute steps of 5 ms or more, keeping each side in order', () => {
    const fixed = new FlowBuilder();
    emitHandshake(fixed, 0, 0.02, false, 'chacha20');
    const f = rows(fixed);
    let moved = 0;
    for (let k = 0; k < 50; k++) {
      const b = new FlowBuilder();
      emitHandshake(b, 0, 0.02, false, 'chacha20', { rng: rngFor(3, 'handshake', k), computeSigma: 0.18, jitter: 0.002 });
      const v = rows(b);
      expect(v.map((r) => [r[1], r[2]])).toEqual(f.map((r) => [r[1], r[2]]));
      // S's KEXINIT segments: 0.3 ms after the server's version and 10 µs apart, however
      // the rest moves (steps under 5 ms are fixed).
      expect(v[2][0] - v[1][0]).toBeCloseTo(0.0003, 12);
      expect(v[3][0] - v[2][0]).toBeCloseTo(0.00001, 12);
      for (const dir of [DIR_FWD, DIR_BWD]) {
        const t = v.filter((r) => r[2] === dir).map((r) => r[0]);
        for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]);
      }
      if (Math.abs(v[22][0] - f[22][0]) > 0.01) moved++;
    }
    expect(moved).toBeGreaterThan(25);
  });

  it('a relayed session starts at S: its login, typing there, then the hop', () => {
    for (let index = 0; index < 20; index++) {
      const pair = source.pair({ seed: 13, dataset: 'start', index, relayed: true }, P);
      const inKeys = payloadTimes(pair.incoming, DIR_FWD);
      const outKeys = payloadTimes(pair.outgoing, DIR_FWD);
      // Both connections open with the client's version string.
      expect([pair.incoming.size[0], pair.incoming.dir[0]]).toEqual([41, DIR_FWD]);
      expect([pair.outgoing.size[0], pair.outgoing.dir[0]]).toEqual([41, DIR_FWD]);
      // Before the outgoing connection opens, the incoming one has its own ten handshake
      // messages and at least the hop command: "ssh target" and Enter.
      const before = inKeys.filter((t) => t < outKeys[0]).length;
      expect(before).toBeGreaterThanOrEqual(10 + 11);
      // After its own handshake (eleven client segments: S's client sends its KEXINIT in
      // two), every keystroke on the outgoing connection is one that came in after the
      // hop (the window may cut the last one or two).
      const relayed = inKeys.filter((t) => t > outKeys[10]).length;
      expect(Math.abs(outKeys.length - 11 - relayed)).toBeLessThanOrEqual(2);
    }
  });

  it('relays the next host\'s first prompt to the user, who types a think time after each prompt', () => {
    // No jitter, every RTT its median: 40 ms into S, 20 ms out. The outgoing connection's
    // 23rd segment is the target's first prompt; S forwards it on the incoming connection
    // relayMean (0.5 ms) later, framed like S's own first prompt (the incoming
    // connection's 22nd segment), and the user's client ACKs it at once, one RTT (40 ms)
    // later as S sees it.
    const p = paramsWith({ jitter: 0, rttSigma: 0, handshakeSigma: 0 });
    for (let index = 0; index < 20; index++) {
      const pair = source.pair({ seed: 17, dataset: 'prompt', index, relayed: true }, p);
      const { incoming: a, outgoing: b } = pair;
      const prompt = b.t[22];
      expect(b.dir[22]).toBe(DIR_BWD);
      const at = a.t.findIndex((t, i) => a.dir[i] === DIR_BWD && Math.abs(t - (prompt + 0.0005)) < 1e-9);
      expect(at).toBeGreaterThan(21);
      expect(a.size[at]).toBe(a.size[21]);
      expect(a.t.some((t, i) => a.dir[i] === DIR_FWD && a.size[i] === 0 && Math.abs(t - (prompt + 0.0405)) < 1e-9)).toBe(true);
      // The first key on each connection comes at least thinkMin (0.5 s) after its prompt.
      const firstKey = (f: Flow, from: number) => payloadTimes(f, DIR_FWD).find((t) => t > from)!;
      expect(firstKey(b, prompt) - prompt).toBeGreaterThanOrEqual(0.5);
      expect(firstKey(a, a.t[21]) - a.t[21]).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('unrelated sessions of a negative start independently, either first', () => {
    let inFirst = 0;
    let outFirst = 0;
    let far = 0;
    for (let index = 0; index < 200; index++) {
      const pair = source.pair({ seed: 13, dataset: 'start', index, relayed: false }, P);
      const gap = pair.outgoing.t[0] - pair.incoming.t[0];
      if (gap > 0) inFirst++;
      else outFirst++;
      if (Math.abs(gap) > 20) far++;
    }
    expect(inFirst).toBeGreaterThan(60);
    expect(outFirst).toBeGreaterThan(60);
    expect(far).toBeGreaterThan(40);
    // Mid-session windows: both sessions under way when the window opens.
    for (let index = 0; index < 20; index++) {
      const pair = source.pair({ seed: 13, dataset: 'start', index, relayed: false }, MID);
      expect(Math.max(pair.outgoing.t[0], pair.incoming.t[0])).toBeLessThan(3);
    }
  });

  it('cuts output into pty reads and sends the prompt on its own', () => {
    const s: SessionScript = {
      length: 3,
      t: new Float64Array(3),
      echo: new Int32Array([1, 11, 11]),
      output: new Int32Array([0, 25, 25 + 5000]),
      exec: new Float64Array(3),
      ends: new Uint8Array([0, 1, 1]),
      prompt: 25,
    };
    expect([0, 1, 2].map((i) => chunkCount(s, i))).toEqual([0, 1, 3]);
    expect(chunkBytes(s, 1, 0)).toBe(25);
    // 5000 bytes of output: 4096 and 904, then the 25-byte prompt.
    expect([0, 1, 2].map((c) => chunkBytes(s, 2, c))).toEqual([4096, 904, 25]);
    // Without a prompt, output alone.
    const bare = { ...s, output: new Int32Array([0, 0, 5000]), prompt: 0 };
    expect(chunkCount(bare, 2)).toBe(2);
    expect([0, 1].map((c) => chunkBytes(bare, 2, c))).toEqual([4096, 904]);
    // On the wire (chacha20 or AES-GCM, 36-byte keystrokes): Enter's 11-byte echo is
    // 1+20 = 21, pad 11: 4+32+16 = 52; the 25-byte prompt 1+34 = 35, pad 5 (chacha20,
    // 4+40+16 = 60) or 13 (AES-GCM, 4+48+16 = 68).
    let seen = 0;
    for (let index = 0; index < 10; index++) {
      const f = source.pair({ seed: 13, dataset: 'prompt', index, relayed: true }, MID).incoming;
      if (payloadSizes(f, DIR_FWD)[0] !== 36) continue;
      const back = new Set(payloadSizes(f, DIR_BWD));
      expect(back.has(52)).toBe(true);
      expect(back.has(60) || back.has(68)).toBe(true);
      seen++;
    }
    expect(seen).toBeGreaterThan(3);
  });
});
