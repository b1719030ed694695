import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TcpConnection, readCapture, timestampSeconds } from '../src/capture/index.js';
import {
  ACK,
  FIN,
  PSH,
  SYN,
  block,
  columns,
  concat,
  epb,
  ethernet,
  framesOf,
  gzip,
  idb,
  ipPacket,
  pcapFile,
  session,
  shb,
  sll,
  sll2,
  spb,
} from './capture-helpers.js';

const SEC = 1700000000;
/** session(c, 40000, s, 22, SEC, 1): 9 packets, 10 ms apart (see capture-helpers). */
const ONE_KEY = session('10.0.0.1', 40000, '10.0.0.2', 22, SEC, 1);

/**
 * The nine packets of ONE_KEY as a connection:
 *   #  from    flags     len  raw seq  raw ack   relative seq/ack
 *   0  client  SYN        0   1000     -          0 / NaN
 *   1  server  SYN|ACK    0   5000     1001       0 / 1
 *   2  client  ACK        0   1001     5001       1 / 1
 *   3  client  PSH|ACK    1   1001     5001       1 / 1
 *   4  server  PSH|ACK    1   5001     1002       1 / 2
 *   5  client  ACK        0   1002     5002       2 / 2
 *   6  client  FIN|ACK    0   1002     5002       2 / 2
 *   7  server  FIN|ACK    0   5002     1003       2 / 3
 *   8  client  ACK        0   1003     5003       3 / 3
 * Relative numbers count from each side's ISN (1000 and 5000).
 */
function expectOneKey(c: TcpConnection, t0 = SEC): void {
  expect(c.client).toBe('10.0.0.1');
  expect(c.clientPort).toBe(40000);
  expect(c.server).toBe('10.0.0.2');
  expect(c.serverPort).toBe(22);
  expect(c.roleFrom).toBe('syn');
  expect(c.length).toBe(9);
  expect(Array.from(c.dir)).toEqual([0, 1, 0, 0, 1, 0, 0, 1, 0]);
  expect(Array.from(c.len)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0]);
  expect(Array.from(c.flags)).toEqual([SYN, SYN | ACK, ACK, PSH | ACK, PSH | ACK, ACK, FIN | ACK, FIN | ACK, ACK]);
  expect(Array.from(c.seq)).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 3]);
  expect(Array.from(c.ack)).toEqual([NaN, 1, 1, 1, 2, 2, 2, 3, 3]);
  expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  expect(Array.from(c.t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => t0 + (k * 10000) / 1e6));
  expect(c.first).toBe(t0);
  expect(c.last).toBe(t0 + 80000 / 1e6);
  expect(c.counts).toEqual({
    packets: [6, 3],
    payloadPackets: [1, 1],
    payloadBytes: [1, 1],
    retransmissions: [0, 0],
    syn: 2,
    fin: 2,
    rst: 0,
  });
}

const read = (bytes: Uint8Array, name = 'cap.pcap', chunkSize?: number) => readCapture({ name, bytes }, { chunkSize });

describe('pcap', () => {
  for (const le of [true, false]) {
    it(`reads microsecond files, ${le ? 'little' : 'big'}-endian`, async () => {
      const r = await read(pcapFile(framesOf(ONE_KEY), { le }));
      expect(r.format).toBe('pcap');
      expect(r.gzip).toBe(false);
      expect(r.connections).toHaveLength(1);
      expectOneKey(r.connections[0]);
      expect(r.stats.records).toBe(9);
      expect(r.stats.tcp).toBe(9);
      expect(r.warnings).toEqual([]);
    });

    it(`reads nanosecond files, ${le ? 'little' : 'big'}-endian, to the same times`, async () => {
      // The fraction field holds nanoseconds: 10 ms = 10,000,000 ns.
      const frames = framesOf(ONE_KEY).map((f) => ({ ...f, frac: f.frac * 1000 }));
      const r = await read(pcapFile(frames, { le, nanos: true }));
      // sec + ns/1e9 and sec + us/1e6 are the same double for the same instant.
      expectOneKey(r.connections[0]);
    });
  }

  it('keeps sub-microsecond nanoseconds', async () => {
    const frames = framesOf(ONE_KEY.slice(0, 1)).map((f) => ({ ...f, frac: 123456789 }));
    const r = await read(pcapFile(frames, { nanos: true }));
    expect(r.connections[0].t[0]).toBe(SEC + 123456789 / 1e9);
  });
});

describe('link types', () => {
  const base = async () => columns((await read(pcapFile(framesOf(ONE_KEY)))).connections[0]);
  const cases: Array<[string, number, (ip: Uint8Array) => Uint8Array]> = [
    ['Ethernet with an 802.1Q tag', 1, (ip) => ethernet(ip, [0x8100])],
    ['Ethernet with 802.1ad + 802.1Q tags (QinQ)', 1, (ip) => ethernet(ip, [0x88a8, 0x8100])],
    ['Linux cooked capture (SLL, 113)', 113, sll],
    ['Linux cooked capture v2 (SLL2, 276)', 276, sll2],
    ['raw IP (101)', 101, (ip) => ip],
    ['raw IP written as DLT 12', 12, (ip) => ip],
    ['raw IP written as DLT 14', 14, (ip) => ip],
    ['IPv4 (228)', 228, (ip) => ip],
  ];
  for (const [what, link, wrap] of cases) {
    it(`decodes ${what} like plain Ethernet`, async () => {
      const r = await read(pcapFile(framesOf(ONE_KEY, wrap), { link }));
      expect(r.connections.map(columns)).toEqual([await base()]);
    });
  }

  it('decodes IPv6 (229) and gives RFC 5952 addresses', async () => {
    const v6 = session('2001:0db8:0000:0000:0000:0000:0000:0001', 40000, '2001:db8::2', 22, SEC, 1);
    const r = await read(pcapFile(framesOf(v6, (ip) => ip), { link: 229 }));
    const c = r.connections[0];
    expect(c.family).toBe(6);
    expect(c.client).toBe('2001:db8::1');
    expect(c.server).toBe('2001:db8::2');
    expect(Array.from(c.seq)).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 3]);
  });

  it('masks the FCS bits above the 16-bit link type', async () => {
    // 0x10000000 | 1: bits 28-31 say "4-byte FCS present" (draft-ietf-opsawg-pcap).
    const r = await read(pcapFile(framesOf(ONE_KEY), { link: 0x10000001 }));
    expectOneKey(r.connections[0]);
  });
});

describe('IP and TCP headers', () => {
  const one = (spec: Parameters<typeof ipPacket>[0], wrap = (ip: Uint8Array) => ethernet(ip)) =>
    read(pcapFile([{ sec: SEC, frac: 0, data: wrap(ipPacket(spec)) }]));
  const spec = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 22, flags: PSH | ACK, seq: 7, ack: 9, payload: 100 };

  it('skips IPv4 and TCP options to find the payload length', async () => {
    // IP header 20 + 8, TCP header 20 + 12: the payload is still 100 bytes.
    const r = await one({ ...spec, ipOptions: 8, tcpOptions: 12 });
    expect(r.connections[0].len[0]).toBe(100);
  });

  it('walks IPv6 extension headers (hop-by-hop, destination, routing, AH)', async () => {
    const r = await one({ ...spec, src: 'fd00::1', dst: 'fd00::2', ext: [0, 60, 43, 51] });
    expect(r.stats.tcp).toBe(1);
    expect(r.connections[0].len[0]).toBe(100);
    expect(r.connections[0].client).toBe('fd00::1');
  });

  it('keeps first fragments, skips later ones, and counts both', async () => {
    const r = await read(
      pcapFile(
        [
          ipPacket({ ...spec, fragment: { offset: 0, more: true } }), // IPv4 first fragment
          ipPacket({ ...spec, fragment: { offset: 16, more: false } }), // IPv4 later fragment
          ipPacket({ ...spec, src: 'fd00::1', dst: 'fd00::2', ext: [44], v6fragment: { offset: 0, more: true } }),
          ipPacket({ ...spec, src: 'fd00::1', dst: 'fd00::2', ext: [44], v6fragment: { offset: 185, more: false } }),
        ].map((ip, k) => ({ sec: SEC, frac: k, data: ethernet(ip) })),
      ),
    );
    expect(r.stats).toMatchObject({ records: 4, tcp: 2, firstFragments: 2, laterFragments: 2 });
    expect(r.connections).toHaveLength(2);
    expect(r.warnings).toEqual([
      "cap.pcap: 2 IP fragments after the first were skipped; 2 first fragments were kept with that fragment's share of the payload",
    ]);
  });

  it('counts non-IP and non-TCP frames and skips them', async () => {
    const r = await read(
      pcapFile(
        [
          ethernet(new Uint8Array(28), [], 0x0806), // ARP
          ethernet(ipPacket({ ...spec, proto: 17 })), // UDP
          ethernet(ipPacket({ ...spec, src: 'fd00::1', dst: 'fd00::2', proto: 58 })), // ICMPv6
          ethernet(ipPacket(spec)),
        ].map((data, k) => ({ sec: SEC, frac: k, data })),
      ),
    );
    expect(r.stats).toMatchObject({ records: 4, tcp: 1, nonIp: 1, nonTcp: 2 });
  });

  it('reads the payload length from the IP header when the snap length cut the frame', async () => {
    // Only the 14 + 20 + 20 header bytes captured; the wire carried 100 more.
    const data = ethernet(ipPacket(spec));
    const r = await read(pcapFile([{ sec: SEC, frac: 0, data: data.subarray(0, 54), wire: data.length }], { snaplen: 54 }));
    expect(r.connections[0].len[0]).toBe(100);
  });

  it('skips and counts a frame whose TCP header the snap length cut', async () => {
    const data = ethernet(ipPacket(spec));
    const r = await read(pcapFile([{ sec: SEC, frac: 0, data: data.subarray(0, 40), wire: data.length }], { snaplen: 40 }));
    expect(r.stats).toMatchObject({ records: 1, tcp: 0, truncated: 1 });
    expect(r.warnings).toEqual(['cap.pcap: 1 TCP/IP headers were cut by the snap length and skipped (the first at byte 24)']);
  });

  it('skips and counts impossible headers', async () => {
    const bad = ipPacket(spec);
    bad[0] = 0x43; // IHL 3: shorter than the 20-byte minimum
    const longer = ipPacket(spec);
    longer[3] += 8; // total length 8 bytes beyond the frame
    const r = await read(pcapFile([bad, longer].map((ip, k) => ({ sec: SEC, frac: k, data: ethernet(ip) }))));
    expect(r.stats).toMatchObject({ records: 2, tcp: 0, malformed: 2 });
    expect(r.warnings[0]).toBe('cap.pcap: 2 frames had impossible IP or TCP header fields and were skipped (the first at byte 24)');
  });

  it('takes the wire length for an IPv4 total length of 0 (segmentation offload)', async () => {
    const ip = ipPacket(spec);
    ip[2] = 0;
    ip[3] = 0;
    const r = await one(spec, () => ethernet(ip));
    expect(r.connections[0].len[0]).toBe(100);
  });
});

/** pcapng timestamps for SEC + k * 10 ms in microseconds (the default resolution). */
const us = (sec: number, usec: number) => BigInt(sec) * 1000000n + BigInt(usec);

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads a ${le ? 'little' : 'big'}-endian section with enhanced packet blocks`, async () => {
      const bytes = concat(shb(le), idb(le, 1), ...framesOf(ONE_KEY).map((f) => epb(le, 0, us(f.sec, f.frac), f.data)));
      const r = await read(bytes, 'cap.pcapng');
      expect(r.format).toBe('pcapng');
      expectOneKey(r.connections[0]);
      expect(r.stats).toMatchObject({ sections: 1, records: 9, tcp: 9, otherBlocks: 0 });
    });
  }

  it('handles per-interface link types and resolutions, skips unknown blocks, reads several sections', async () => {
    const second = session('10.0.0.3', 41000, '10.0.0.4', 22, SEC + 1, 1);
    const third = session('10.0.0.5', 42000, '10.0.0.6', 22, SEC + 2, 1);
    const fA = framesOf(ONE_KEY);
    const fB = framesOf(second, (ip) => ip);
    const fC = framesOf(third, sll2);
    const bytes = concat(
      // Section 1, little-endian: interface 0 Ethernet at microseconds, interface 1 raw IP at nanoseconds.
      shb(true),
      idb(true, 1),
      block(true, 4, new Uint8Array(8)), // name resolution block: skipped
      idb(true, 101, { tsresol: 9 }),
      ...fA.map((f, k) => (k === 4 ? spb(true, f.data) : epb(true, 0, us(f.sec, f.frac), f.data))),
      ...fB.map((f) => epb(true, 1, BigInt(f.sec) * 1000000000n + BigInt(f.frac) * 1000n, f.data)),
      block(true, 0x40000bad, new Uint8Array(12)), // custom block: skipped
      // Section 2, big-endian: SLL2 at 2^-20 s with an offset of 100 s.
      shb(false),
      idb(false, 276, { tsresol: 0x80 | 20, tsoffset: 100n }),
      ...fC.map((f, k) => epb(false, 0, BigInt(f.sec - 100) * 1048576n + BigInt(k * 1024), f.data)),
    );
    const r = await read(bytes, 'cap.pcapng');
    expect(r.stats).toMatchObject({ sections: 2, otherBlocks: 2, untimed: 1, records: 27, tcp: 27 });
    expect(r.connections).toHaveLength(3);
    const [a, b, c] = r.connections;
    // Packet 4 of A came in a simple packet block: it takes packet 3's time.
    const tA = Array.from(a.t);
    expect(tA[4]).toBe(tA[3]);
    expect(tA[3]).toBe(SEC + 0.03);
    expect(Array.from(a.len)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0]);
    // Nanosecond interface: the same times as the microsecond one would give.
    expect(Array.from(b.t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => SEC + 1 + (k * 10000) / 1e6));
    expect(b.client).toBe('10.0.0.3');
    // Binary resolution: k/1024 s after SEC + 2 - 100, plus the 100 s offset.
    expect(Array.from(c.t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => SEC + 2 + k / 1024));
    expect(c.client).toBe('10.0.0.5');
    expect(r.warnings).toEqual([
      'cap.pcapng: 1 simple packet blocks carry no timestamp: each took the time of the packet before it (one before any timed packet is skipped)',
    ]);
  });

  it('skips packets of interfaces whose link type it does not decode, with a warning', async () => {
    const bytes = concat(
      shb(true),
      idb(true, 1),
      idb(true, 147), // a user-defined link type
      ...framesOf(ONE_KEY).map((f) => epb(true, 0, us(f.sec, f.frac), f.data)),
      epb(true, 1, us(SEC, 0), new Uint8Array(10)),
    );
    const r = await read(bytes, 'cap.pcapng');
    expectOneKey(r.connections[0]);
    expect(r.stats).toMatchObject({ records: 10, unsupportedLink: 1 });
    expect(r.warnings[0]).toMatch(/^cap\.pcapng: 1 packets on interfaces of link type 147 were skipped \(this reader decodes 1 \(Ethernet\)/);
  });
});

describe('timestampSeconds', () => {
  it('splits 64-bit timestamps exactly', () => {
    // 1700000000.123456789 s in nanoseconds, split into its two 32-bit words:
    const ns = 1700000000123456789n;
    const high = Number(ns >> 32n);
    const low = Number(ns & 0xffffffffn);
    expect(timestampSeconds(high, low, 1e9)).toBe(1700000000 + 123456789 / 1e9);
    // 2^-20 s units: 3 * 2^20 + 2^19 is 3.5 s.
    expect(timestampSeconds(0, 3 * 1048576 + 524288, 1048576)).toBe(3.5);
    // Seconds resolution (if_tsresol 0): the value itself.
    expect(timestampSeconds(1, 5, 1)).toBe(4294967301);
  });
});

describe('streaming', () => {
  const bytes = pcapFile(framesOf([...ONE_KEY, ...session('10.0.0.3', 41000, '10.0.0.4', 22, SEC + 1, 2)]));

  it('gives the same connections whatever the chunk size (records cut across chunks)', async () => {
    const whole = (await read(bytes)).connections.map(columns);
    expect(whole).toHaveLength(2);
    for (const chunk of [1, 3, 7, 16, 17, 100]) {
      expect((await read(bytes, 'cap.pcap', chunk)).connections.map(columns)).toEqual(whole);
    }
    const ng = concat(shb(false), idb(false, 1), ...framesOf(ONE_KEY).map((f) => epb(false, 0, us(f.sec, f.frac), f.data)));
    for (const chunk of [1, 5, 13]) expectOneKey((await read(ng, 'cap.pcapng', chunk)).connections[0]);
  });

  it('reads gzip input transparently, from memory and from a file', async () => {
    const plain = (await read(bytes)).connections.map(columns);
    const gz = await read(gzip(bytes), 'cap.pcap.gz', 5);
    expect(gz.gzip).toBe(true);
    expect(gz.connections.map(columns)).toEqual(plain);
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-capture-'));
    // A misleading name: the format comes from the bytes, never from the name.
    const file = join(dir, 'trace.bin');
    writeFileSync(file, gzip(bytes));
    const fromFile = await readCapture(file);
    expect(fromFile.file).toBe(file);
    expect(fromFile.gzip).toBe(true);
    expect(fromFile.connections.map(columns)).toEqual(plain);
    writeFileSync(file, bytes);
    expect((await readCapture(file, { chunkSize: 64 })).connections.map(columns)).toEqual(plain);
  });
});

describe('options', () => {
  it('refuses a chunk size below one byte', async () => {
    await expect(read(pcapFile(framesOf(ONE_KEY)), 'cap.pcap', 0)).rejects.toThrow('chunkSize must be at least 1, not 0');
  });
});
