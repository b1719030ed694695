/**
 * Random damage to valid inputs: every reader must either return a result that holds
 * together or refuse with a UserError; any other exception fails. A hang would exceed
 * the suite's timeout. The loop is seeded, so a failure names a case that replays.
 */
import { describe, expect, it } from 'vitest';
import { CaptureError, type CaptureResult, connectionToFlow, readCapture, readLabels } from '../src/capture/index.js';
import { UserError } from '../src/errors.js';
import { isSorted } from '../src/flow.js';
import { type Rng, rngFor } from '../src/rng.js';
import { bytesOf, concat, epb, ethernet, framesOf, gzip, idb, ipPacket, pcapFile, session, shb, sll2, spb, tsharkCsv } from './capture-helpers.js';

const SEC = 1700000000;
const CASES = 250;

const sent = [...session('10.0.0.1', 40000, '10.0.0.2', 22, SEC, 2), ...session('fd00::1', 50000, 'fd00::2', 22, SEC + 1, 1, 4294967290)];
const frames = framesOf(sent);
const v6ext = ethernet(ipPacket({ src: 'fd00::1', dst: 'fd00::2', sport: 1, dport: 2, flags: 0x18, payload: 9, ext: [0, 44, 60] }), [0x8100]);

const BASES: Record<string, Uint8Array> = {
  'pcap-le': pcapFile([...frames, { sec: SEC + 2, frac: 0, data: v6ext }]),
  'pcap-be-ns': pcapFile(
    frames.map((f) => ({ ...f, frac: f.frac * 1000 })),
    { le: false, nanos: true },
  ),
  pcapng: concat(
    shb(true),
    idb(true, 1),
    idb(true, 276, { tsresol: 9, tsoffset: 5n }),
    ...frames.slice(0, 10).map((f, k) => (k === 5 ? spb(true, f.data) : epb(true, 0, BigInt(f.sec) * 1000000n + BigInt(f.frac), f.data))),
    shb(false),
    idb(false, 276, { tsresol: 0x80 | 10 }),
    ...sent.slice(10).map((p, k) => epb(false, 0, BigInt(p.sec) * 1024n + BigInt(k), sll2(ipPacket(p.spec)))),
  ),
  'pcap-gz': gzip(pcapFile(frames)),
  csv: bytesOf(tsharkCsv(sent)),
};

const INTERESTING = [0, 1, 3, 4, 11, 12, 15, 16, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x0a0d0d0a, 0x1a2b3c4d, 0xa1b2c3d4];

/** One random mutation of `b`; returns the new bytes and what was done. */
function mutate(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const pick = (n: number) => Math.floor(rng.next() * n);
  const out = b.slice();
  switch (pick(6)) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) out[pick(out.length)] ^= 1 << pick(8);
      return [out, `${flips} bit flips`];
    }
    case 1: {
      const at = pick(out.length);
      out[at] = pick(256);
      return [out, `byte ${at} set`];
    }
    case 2: {
      if (out.length < 4) return [out, 'too short for a word'];
      const at = pick(out.length - 3) & ~3;
      const v = INTERESTING[pick(INTERESTING.length)];
      new DataView(out.buffer).setUint32(at, v >>> 0, rng.next() < 0.5);
      return [out, `word ${at} = ${v}`];
    }
    case 3: {
      const at = pick(out.length);
      return [out.slice(0, at), `truncated to ${at}`];
    }
    case 4: {
      const at = pick(out.length);
      const n = 1 + pick(16);
      return [concat(out.slice(0, at), out.slice(at - Math.min(at, n), at), out.slice(at)), `${n} bytes repeated at ${at}`];
    }
    default: {
      const at = pick(out.length);
      const n = 1 + pick(16);
      return [concat(out.slice(0, at), out.slice(at + n)), `${n} bytes removed at ${at}`];
    }
  }
}

/** What any accepted result must satisfy. */
function holdsTogether(r: CaptureResult): void {
  for (const c of r.connections) {
    for (const col of [c.t, c.len, c.flags, c.seq, c.ack, c.dir, c.retrans]) expect(col.length).toBe(c.length);
    expect(c.counts.packets[0] + c.counts.packets[1]).toBe(c.length);
    for (let i = 0; i < c.length; i++) {
      expect(Number.isFinite(c.t[i])).toBe(true);
      expect(c.len[i]).toBeGreaterThanOrEqual(0);
      expect(c.dir[i] === 0 || c.dir[i] === 1).toBe(true);
    }
    expect(isSorted(connectionToFlow(c).t)).toBe(true);
  }
  expect(r.stats.tcp).toBeLessThanOrEqual(r.stats.records);
  if (r.stopped) expect(r.stopped).toBeInstanceOf(CaptureError);
}

describe('damaged inputs give a result or a UserError, never another exception', () => {
  for (const [name, base] of Object.entries(BASES)) {
    it(name, async () => {
      // The undamaged input reads cleanly.
      expect((await readCapture({ name, bytes: base })).connections.length).toBeGreaterThan(0);
      let refused = 0;
      let accepted = 0;
      for (let i = 0; i < CASES; i++) {
        const rng = rngFor(2024, `capture-fuzz:${name}`, i);
        let [bytes, what] = mutate(base, rng);
        if (rng.next() < 0.3) [bytes, what] = [mutate(bytes, rng)[0], `${what} and more`];
        const chunkSize = 1 + Math.floor(rng.next() * 300);
        const onError = rng.next() < 0.5 ? 'throw' : 'stop';
        try {
          const r = await readCapture({ name, bytes }, { chunkSize, onError });
          holdsTogether(r);
          accepted++;
        } catch (e) {
          if (!(e instanceof UserError)) throw new Error(`case ${i} (${what}, chunk ${chunkSize}, ${onError}): ${(e as Error).stack}`);
          expect((e as Error).message).not.toContain('\n');
          refused++;
        }
      }
      // Both outcomes occur, so the loop exercises the checks and the decoding alike.
      expect(refused).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThan(0);
    });
  }

  it('labels files', async () => {
    const text = bytesOf(
      'in_client,in_client_port,in_server,in_server_port,out_client,out_client_port,out_server,out_server_port,relayed\n' +
        '10.0.0.1,40000,10.0.0.5,22,10.0.0.5,50000,10.0.0.9,22,1\nfd00::1,1,fd00::5,22,fd00::5,2,fd00::9,22,false\n',
    );
    for (let i = 0; i < CASES; i++) {
      const rng = rngFor(2024, 'capture-fuzz:labels', i);
      const [bytes, what] = mutate(text, rng);
      try {
        const l = await readLabels({ name: 'labels.csv', bytes });
        for (const r of l.rows) expect(r.incoming.clientPort).toBeLessThanOrEqual(65535);
      } catch (e) {
        if (!(e instanceof UserError)) throw new Error(`case ${i} (${what}): ${(e as Error).stack}`);
      }
    }
  });
});
