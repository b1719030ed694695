import { describe, expect, it } from 'vitest';
import { DIR_FWD, type Flow, payloadTimes } from '../src/flow.js';
import { checkParams } from '../src/params.js';
import source from '../src/sources/synthetic-ssh.js';
import { sshChannelDataSize } from '../src/traffic/ssh-model.js';

type SourceParams = Parameters<typeof source.pair>[1];

function paramsWith(raw: Record<string, unknown> = {}): SourceParams {
  const r = checkParams(source.params, raw, false);
  if (!r.ok) throw new Error(`source params rejected: ${JSON.stringify(r.issues)}`);
  return r.value as SourceParams;
}

const P = paramsWith();

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
          expect(f.t.length).toBeGreaterThan(0);
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
      const pair = source.pair({ seed: 3, dataset: 'relay', index, relayed: true }, P);
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
      // Keystrokes are 1-byte SSH_MSG_CHANNEL_DATA packets: 36 (chacha20, aes-gcm) or 64 (aes-ctr).
      for (const f of [pair.incoming, pair.outgoing]) {
        const sizes = new Set<number>();
        for (let i = 0; i < f.t.length; i++) if (f.dir[i] === DIR_FWD && f.size[i] > 0) sizes.add(f.size[i]);
        expect(sizes.size).toBe(1);
        expect([36, 64]).toContain([...sizes][0]);
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
    // aes-ctr, 1 byte: length inside the aligned part: 4+1+10 = 15; pad 1 < 4 -> 17 (to 32);
    // 32 + 32 (hmac-sha2-256) = 64.
    expect(sshChannelDataSize('aesctr', 1)).toBe(64);
    // aes-gcm, 1 byte: 1+10 = 11; block 16 -> pad 5; 4 + 16 + 16 (tag) = 36.
    expect(sshChannelDataSize('aesgcm', 1)).toBe(36);
    // chacha20, 2 bytes ("\r\n"): 1+11 = 12, pad 4 -> 4 + 16 + 16 = 36.
    expect(sshChannelDataSize('chacha20', 2)).toBe(36);
    // aes-ctr, 2 bytes: 4+1+11 = 16, pad 0 < 4 -> 16; 32 + 32 = 64.
    expect(sshChannelDataSize('aesctr', 2)).toBe(64);
    // aes-gcm, 6 bytes: 1+15 = 16, pad 0 < 4 -> 16; 4 + 32 + 16 = 52.
    expect(sshChannelDataSize('aesgcm', 6)).toBe(52);
    // chacha20, 4 bytes: 1+13 = 14, pad 2 < 4 -> 10; 4 + 24 + 16 = 44.
    expect(sshChannelDataSize('chacha20', 4)).toBe(44);
    // A full 4096-byte pty chunk: 1 + 4105 = 4106.
    //   aes-gcm: 4106 mod 16 = 10 -> pad 6; 4 + 4112 + 16 = 4132.
    //   chacha20: 4106 mod 8 = 2 -> pad 6; 4 + 4112 + 16 = 4132.
    //   aes-ctr: 4 + 4106 = 4110, mod 16 = 14 -> pad 2 < 4 -> 18; 4128 + 32 = 4160.
    expect(sshChannelDataSize('aesgcm', 4096)).toBe(4132);
    expect(sshChannelDataSize('chacha20', 4096)).toBe(4132);
    expect(sshChannelDataSize('aesctr', 4096)).toBe(4160);
  });
});
