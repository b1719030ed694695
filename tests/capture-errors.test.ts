import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { CaptureError, SUPPORTED_LINK_TYPES, readCapture } from '../src/capture/index.js';
import {
  block,
  concat,
  epb,
  framesOf,
  gzip,
  idb,
  option,
  pcapFile,
  pcapHeader,
  pcapRecord,
  session,
  shb,
  spb,
} from './capture-helpers.js';

const SEC = 1700000000;
const ONE_KEY = session('10.0.0.1', 40000, '10.0.0.2', 22, SEC, 1);
const FRAMES = framesOf(ONE_KEY);
/**
 * pcap layout of ONE_KEY: 24-byte header, then records of 16 + 54 bytes (no payload) or
 * 16 + 55 (packets 3 and 4 carry one byte). Record k starts at 24 + 70k + (k > 3) + (k > 4).
 */
const GOOD = pcapFile(FRAMES);
const recordAt = (k: number) => 24 + 70 * k + (k > 3 ? 1 : 0) + (k > 4 ? 1 : 0);

async function refusal(bytes: Uint8Array, name = 'bad.pcap'): Promise<CaptureError> {
  try {
    await readCapture({ name, bytes });
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return e as CaptureError;
  }
  throw new Error('accepted');
}
const message = async (bytes: Uint8Array, name?: string) => (await refusal(bytes, name)).message;

const u32 = (b: Uint8Array, at: number, v: number, le = true) => {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, le);
  return b;
};

describe('malformed pcap files are refused with the file, the offset and the problem', () => {
  it('checks the layout this suite relies on', () => {
    expect(GOOD.length).toBe(24 + 9 * 70 + 2);
    expect(recordAt(8)).toBe(24 + 560 + 2);
  });

  it('an empty file', async () => {
    expect(await message(new Uint8Array(0))).toBe('bad.pcap: byte 0: the file is empty');
  });

  it('a file too short for any magic', async () => {
    expect(await message(GOOD.slice(0, 3))).toBe('bad.pcap: byte 0: not a pcap, pcapng or tshark CSV file (it starts with 0xd4c3b2)');
  });

  it('a truncated file header', async () => {
    expect(await message(GOOD.slice(0, 10))).toBe('bad.pcap: byte 0: file ends inside the pcap file header (10 of 24 bytes)');
  });

  it('a bad magic number', async () => {
    expect(await message(u32(GOOD.slice(), 0, 0x12345678))).toBe(
      'bad.pcap: byte 0: not a pcap, pcapng or tshark CSV file (it starts with 0x78563412)',
    );
  });

  it('an unsupported version', async () => {
    expect(await message(pcapFile(FRAMES, { major: 3 }))).toBe('bad.pcap: byte 0: pcap version 3.4 is not supported (2.x is)');
  });

  it('an unknown link type', async () => {
    expect(await message(pcapFile(FRAMES, { link: 147 }))).toBe(`bad.pcap: byte 0: unsupported link type 147 (this reader decodes ${SUPPORTED_LINK_TYPES})`);
  });

  it('a record longer than the snap length', async () => {
    // Record 2 says 70000 captured bytes in a file whose snap length is 65535.
    const b = u32(GOOD.slice(), recordAt(2) + 8, 70000);
    const e = await refusal(b);
    expect(e.message).toBe('bad.pcap: byte 164: packet record says 70000 captured bytes, more than the snap length 65535');
    expect(e.packetsRead).toBe(2);
  });

  it('a record larger than any block accepted, in a file without a snap length', async () => {
    const b = u32(pcapFile(FRAMES, { snaplen: 0 }), recordAt(0) + 8, 0xfffffff0);
    expect(await message(b)).toBe('bad.pcap: byte 24: packet record says 4294967280 captured bytes, more than the largest record accepted (16777216)');
  });

  it('a truncated record header', async () => {
    const b = concat(GOOD, new Uint8Array(10));
    expect(await message(b)).toBe(`bad.pcap: byte ${GOOD.length}: file ends inside a packet record header (10 of 16 bytes)`);
  });

  it('a truncated record, from memory, from a file (refused before reading on) and from gzip', async () => {
    // The last record (9th, at 586) holds 54 bytes; 5 are cut off.
    const b = GOOD.slice(0, GOOD.length - 5);
    const e = await refusal(b);
    expect(e.message).toBe('bad.pcap: byte 586: packet record says 54 captured bytes, only 49 remain');
    expect(e.packetsRead).toBe(8);
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-capture-'));
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, b);
    await expect(readCapture(file, { chunkSize: 100 })).rejects.toThrow(`${file}: byte 586: packet record says 54 captured bytes, only 49 remain`);
    expect(await message(gzip(b), 'cut.pcap.gz')).toBe('cut.pcap.gz: byte 586 (uncompressed): packet record says 54 captured bytes, only 49 remain');
  });

  it('a broken gzip stream', async () => {
    const z = gzip(GOOD);
    const e = await refusal(z.slice(0, z.length - 12), 'cut.pcap.gz');
    expect(e.message).toMatch(/^cut\.pcap\.gz: byte \d+ \(uncompressed\): the gzip stream is broken: unexpected end of file$/);
  });

  it('a file that cannot be opened', async () => {
    await expect(readCapture('/nonexistent/dir/x.pcap')).rejects.toThrow(/^\/nonexistent\/dir\/x\.pcap: byte 0: cannot open: ENOENT/);
  });
});

describe('malformed pcapng files are refused with the file, the offset and the problem', () => {
  // Layout: SHB 28 bytes (0..27), IDB 32 bytes (28..59), then packet blocks from 60.
  const head = () => concat(shb(true), idb(true, 1));
  const packets = FRAMES.map((f) => epb(true, 0, BigInt(f.sec) * 1000000n + BigInt(f.frac), f.data));
  const ng = (...blocks: Uint8Array[]) => message(concat(...blocks), 'bad.pcapng');

  it('checks the layout this suite relies on', () => {
    expect(shb(true).length).toBe(28);
    expect(idb(true, 1).length).toBe(32);
    // EPB: 12 + 20 fixed + 56 data (54 padded) + 8 comment + 4 end of options.
    expect(packets[0].length).toBe(100);
  });

  it('a block whose two length fields differ', async () => {
    const i = idb(true, 1);
    u32(i, i.length - 4, 36);
    expect(await ng(shb(true), i, ...packets)).toBe('bad.pcapng: byte 28: block length mismatch: the interface description block says 32 bytes at its start and 36 at its end');
  });

  it('a block length that is not a multiple of 4', async () => {
    const p = packets[0].slice();
    u32(p, 4, 98);
    expect(await ng(head(), p)).toBe('bad.pcapng: byte 60: enhanced packet block length 98 is not a multiple of 4');
  });

  it('a block shorter than its minimum', async () => {
    expect(await ng(head(), block(true, 6, new Uint8Array(12)))).toBe('bad.pcapng: byte 60: enhanced packet block is 24 bytes long, shorter than its 32-byte minimum');
  });

  it('a block larger than any accepted', async () => {
    const p = packets[0].slice();
    u32(p, 4, 0x40000000);
    expect(await ng(head(), p)).toBe('bad.pcapng: byte 60: enhanced packet block says 1073741824 bytes, more than the largest block accepted (16777216)');
  });

  it('a truncated block', async () => {
    const all = concat(head(), ...packets);
    // Every packet block is 100 bytes (54 or 55 data bytes pad to 56); the last loses 30.
    const last = all.length - packets[8].length;
    expect(await message(all.slice(0, all.length - 30), 'bad.pcapng')).toBe(`bad.pcapng: byte ${last}: enhanced packet block says 100 bytes, only 70 remain`);
  });

  it('a truncated block header', async () => {
    const all = concat(head(), ...packets, new Uint8Array(8));
    expect(await message(all, 'bad.pcapng')).toBe(`bad.pcapng: byte ${all.length - 8}: file ends inside a block header (8 of 12 bytes)`);
  });

  it('a packet block naming an interface the section does not have', async () => {
    const p = epb(true, 3, 0n, FRAMES[0].data);
    expect(await ng(head(), p)).toBe('bad.pcapng: byte 60: enhanced packet block names interface 3, but the section has 1');
  });

  it('a packet block whose captured length exceeds the block', async () => {
    const p = packets[0].slice();
    u32(p, 20, 80); // captured length: the block holds 100 - 32 = 68
    expect(await ng(head(), p)).toBe('bad.pcapng: byte 60: enhanced packet block says 80 captured bytes, more than the 68 its block holds');
  });

  it("a packet block whose captured length exceeds the interface's snap length", async () => {
    expect(await ng(shb(true), idb(true, 1, { snaplen: 40 }), packets[0])).toBe(
      'bad.pcapng: byte 60: enhanced packet block says 54 captured bytes, more than the snap length 40 of interface 0',
    );
  });

  it('a bad byte-order magic, at the start or in a later section', async () => {
    const s = shb(true);
    u32(s, 8, 0xdeadbeef);
    expect(await ng(s, idb(true, 1))).toBe('bad.pcapng: byte 0: section header block has byte-order magic 0xefbeadde, not 0x1a2b3c4d');
    expect(await ng(head(), packets[0], s)).toBe('bad.pcapng: byte 160: section header block has byte-order magic 0xefbeadde, not 0x1a2b3c4d');
  });

  it('an unsupported section version', async () => {
    expect(await ng(shb(false, 2), idb(false, 1))).toBe('bad.pcapng: byte 0: section header block version 2.0 is not supported (1.x is)');
  });

  it('an option running past its block', async () => {
    // if_tsresol claims 200 bytes in a 28-byte interface block (4 bytes left after its own header).
    const fixed = new Uint8Array(8);
    fixed[0] = 1;
    const opt = option(true, 9, Uint8Array.of(6));
    opt[2] = 200;
    expect(await ng(shb(true), block(true, 1, concat(fixed, opt)))).toBe(
      'bad.pcapng: byte 28: interface description block option 9 says 200 bytes, more than the 4 left in the block',
    );
  });

  it('an if_tsresol of the wrong size or too fine', async () => {
    const fixed = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);
    expect(await ng(shb(true), block(true, 1, concat(fixed, option(true, 9, Uint8Array.of(6, 6)))))).toBe(
      'bad.pcapng: byte 28: interface description block if_tsresol option has 2 bytes, not 1',
    );
    expect(await ng(shb(true), idb(true, 1, { tsresol: 40 }))).toBe('bad.pcapng: byte 28: interface description block if_tsresol 10^-40 is finer than this reader handles');
  });

  it('a simple packet block before any interface', async () => {
    expect(await ng(shb(true), spb(true, FRAMES[0].data))).toBe('bad.pcapng: byte 28: simple packet block before any interface description block');
  });
});

describe("onError 'stop'", () => {
  it('keeps every packet before the problem and reports it as a warning', async () => {
    // Record 5 (at 24 + 350 + 2 = 376) is cut: records 0..4 were whole.
    const cut = concat(GOOD.slice(0, recordAt(5)), pcapRecord(FRAMES[5]).slice(0, 30));
    const r = await readCapture({ name: 'cut.pcap', bytes: cut }, { onError: 'stop' });
    expect(r.stopped).toBeInstanceOf(CaptureError);
    expect(r.stopped?.message).toBe('cut.pcap: byte 376: packet record says 54 captured bytes, only 14 remain');
    expect(r.stopped?.packetsRead).toBe(5);
    expect(r.stats.records).toBe(5);
    expect(r.connections).toHaveLength(1);
    expect(Array.from(r.connections[0].len)).toEqual([0, 0, 0, 1, 1]);
    expect(r.warnings).toEqual(['cut.pcap: byte 376: packet record says 54 captured bytes, only 14 remain (the read stopped there; the 5 packets before it were kept)']);
  });

  it('throws by default, carrying the same count', async () => {
    const cut = concat(GOOD.slice(0, recordAt(5)), pcapRecord(FRAMES[5]).slice(0, 30));
    const e = await refusal(cut);
    expect(e.packetsRead).toBe(5);
  });

  it('keeps the packets of earlier sections of a pcapng file', async () => {
    const bad = shb(true);
    u32(bad, 8, 0);
    const r = await readCapture(
      { name: 'x.pcapng', bytes: concat(shb(false), idb(false, 1), ...FRAMES.map((f) => epb(false, 0, BigInt(f.sec) * 1000000n + BigInt(f.frac), f.data)), bad) },
      { onError: 'stop' },
    );
    expect(r.connections[0].length).toBe(9);
    expect(r.stopped?.packetsRead).toBe(9);
  });
});
