import { describe, expect, it } from 'vitest';
import { type TcpConnection, connectionToFlow, readCapture } from '../src/capture/index.js';
import { ACK, FIN, PSH, RST, SYN, type Sent, type TcpSpec, framesOf, pcapFile, session } from './capture-helpers.js';

const SEC = 1700000000;

/** Packets between A = 10.0.0.1:aport and B = 10.0.0.2:bport, k-th at SEC + k ms. */
function conversation(aport: number, bport: number, list: Array<[fromA: boolean, flags: number, seq: number, ack: number, payload?: number]>): Sent[] {
  return list.map(([fromA, flags, seq, ack, payload], k) => {
    const spec: TcpSpec = fromA
      ? { src: '10.0.0.1', dst: '10.0.0.2', sport: aport, dport: bport, flags, seq, ack, payload }
      : { src: '10.0.0.2', dst: '10.0.0.1', sport: bport, dport: aport, flags, seq, ack, payload };
    return { sec: SEC, usec: k * 1000, spec };
  });
}

/** A capture time minus SEC, as the flow computes it (SEC + x is rounded to 2^-22 s first). */
const since = (t: number) => t - SEC;

async function connections(sent: Sent[]): Promise<TcpConnection[]> {
  return (await readCapture({ name: 'c.pcap', bytes: pcapFile(framesOf(sent)) })).connections;
}

describe('who is the client', () => {
  it('is the sender of the SYN, even from a low port to a high one', async () => {
    // 10.0.0.1:22 opens a connection to 10.0.0.2:50000: the port rule would say the opposite.
    const [c] = await connections(conversation(22, 50000, [[true, SYN, 0, 0], [false, SYN | ACK, 0, 1], [true, ACK, 1, 1]]));
    expect([c.client, c.clientPort, c.server, c.serverPort, c.roleFrom]).toEqual(['10.0.0.1', 22, '10.0.0.2', 50000, 'syn']);
    expect(Array.from(c.dir)).toEqual([0, 1, 0]);
  });

  it('is the receiver of the SYN/ACK when the SYN was not captured', async () => {
    // B (port 60000) answers with SYN/ACK: B is the server although its port is higher.
    const [c] = await connections(conversation(80, 60000, [[false, SYN | ACK, 0, 1], [true, ACK, 1, 1]]));
    expect([c.client, c.clientPort, c.roleFrom]).toEqual(['10.0.0.1', 80, 'syn-ack']);
    expect(Array.from(c.dir)).toEqual([1, 0]);
  });

  it('falls back to the lower port being the server without a handshake', async () => {
    // Mid-stream: first packet from the server (port 22) to the client (port 40000).
    const [c] = await connections(conversation(40000, 22, [[false, PSH | ACK, 900, 300, 10], [true, ACK, 300, 910]]));
    expect([c.client, c.clientPort, c.server, c.serverPort, c.roleFrom]).toEqual(['10.0.0.1', 40000, '10.0.0.2', 22, 'port']);
    expect(Array.from(c.dir)).toEqual([1, 0]);
    // No SYN: each side's first sequence number counts as 0. The server's first seq 900 -> 0;
    // the client's first seq 300 -> 0; the client's ack 910 -> 10; the server's ack 300 -> 0.
    expect(Array.from(c.seq)).toEqual([0, 0]);
    expect(Array.from(c.ack)).toEqual([0, 10]);
  });

  it('takes the first sender as the client when both ports are equal', async () => {
    const [c] = await connections(conversation(5000, 5000, [[false, ACK, 1, 1], [true, ACK, 1, 1]]));
    expect([c.client, c.roleFrom]).toEqual(['10.0.0.2', 'first-packet']);
  });
});

describe('sequence numbers', () => {
  it('unwraps past 2^32, relative to the ISN', async () => {
    // Client ISN 2^32 - 6: the SYN is seq 0, data starts at relative 1 (raw 2^32 - 5), and
    // three 4-byte segments occupy 1..4, 5..8 (raw wraps inside), 9..12.
    const isn = 4294967290;
    const w = (x: number) => x % 4294967296;
    const [c] = await connections(
      conversation(40000, 22, [
        [true, SYN, isn, 0],
        [false, SYN | ACK, 77, w(isn + 1)],
        [true, PSH | ACK, w(isn + 1), 78, 4],
        [true, PSH | ACK, w(isn + 5), 78, 4],
        [true, PSH | ACK, w(isn + 9), 78, 4],
        [false, ACK, 78, w(isn + 13)],
      ]),
    );
    expect(Array.from(c.seq)).toEqual([0, 0, 1, 5, 9, 1]);
    expect(Array.from(c.ack)).toEqual([NaN, 1, 1, 1, 1, 13]);
    expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('does not let one stray sequence number move the unwrapping reference', async () => {
    // Client ISN 0, so raw = relative. Bytes 1..90 and 91..100, then a stray packet whose
    // raw seq is 91 + 2^31 - 5, then bytes 81..90 again. Measured from the stray number,
    // 81 lies 2^31 - 5 further on, and would land at 2^32 + 81 (a new range, unflagged).
    const [c] = await connections(
      conversation(40000, 22, [
        [true, SYN, 0, 0],
        [false, SYN | ACK, 0, 1],
        [true, PSH | ACK, 1, 1, 90],
        [true, PSH | ACK, 91, 1, 10],
        [true, ACK, 91 + 2 ** 31 - 5, 1],
        [true, PSH | ACK, 81, 1, 10],
      ]),
    );
    expect(c.seq[4]).toBe(91 + 2 ** 31 - 5);
    expect(c.seq[5]).toBe(81);
    expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 0, 1]);
  });
});

describe('retransmissions', () => {
  // Client ISN 0, server ISN 0: client data byte n has relative (and raw) sequence number n.
  const open: Array<[boolean, number, number, number, number?]> = [
    [true, SYN, 0, 0],
    [false, SYN | ACK, 0, 1],
    [true, ACK, 1, 1],
  ];

  it('flags a segment whose bytes were all sent before, and only that one', async () => {
    const [c] = await connections(
      conversation(40000, 22, [
        ...open,
        [true, PSH | ACK, 1, 1, 10], // bytes 1..10: new
        [true, PSH | ACK, 11, 1, 10], // 11..20: new
        [true, PSH | ACK, 1, 1, 10], // 1..10 again: retransmission
        [false, PSH | ACK, 1, 21, 10], // the server's own bytes 1..10: new, other direction
        [true, PSH | ACK, 1, 11, 20], // 1..20 in one segment (repacketised): all seen
      ]),
    );
    expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 0, 1, 0, 1]);
    expect(c.counts.retransmissions).toEqual([2, 0]);
  });

  it('does not flag out-of-order arrival or a segment carrying some new bytes', async () => {
    const [c] = await connections(
      conversation(40000, 22, [
        ...open,
        [true, PSH | ACK, 11, 1, 10], // 11..20 before 1..10 (reordered): new
        [true, PSH | ACK, 1, 1, 10], // 1..10 fills the hole: new
        [true, PSH | ACK, 16, 1, 10], // 16..25: 21..25 are new
        [true, PSH | ACK, 5, 1, 20], // 5..24: all seen
        [true, PSH | ACK, 40, 1, 5], // 40..44: new, leaves 26..39 open
        [true, PSH | ACK, 30, 1, 5], // 30..34: inside the hole, new
        [true, PSH | ACK, 30, 1, 5], // 30..34 again
      ]),
    );
    expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
  });

  it('flags a one-byte keep-alive, not an empty one, and repeated zero-window probes', async () => {
    const [c] = await connections(
      conversation(40000, 22, [
        ...open,
        [true, PSH | ACK, 1, 1, 10], // bytes 1..10
        [true, ACK, 10, 1, 1], // keep-alive with one garbage byte: seq = next - 1 = 10, already sent
        [true, ACK, 10, 1, 0], // keep-alive without data: a zero-length packet, never flagged
        [true, ACK, 11, 1, 1], // zero-window probe: byte 11 is new
        [true, ACK, 11, 1, 1], // the probe repeated: byte 11 again
      ]),
    );
    expect(Array.from(c.retrans)).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
  });

  it('treats the oldest of more than 64 open holes as seen', async () => {
    // One byte at 1, 3, 5, ..., 129: 65 separate ranges with holes at 2, 4, ..., 128.
    // The 65th range merges the two lowest, [1,2) and [3,4), so the hole at 2 closes.
    const bytes = Array.from({ length: 65 }, (_, k): [boolean, number, number, number, number] => [true, PSH | ACK, 1 + 2 * k, 1, 1]);
    const [c] = await connections(
      conversation(40000, 22, [
        ...open,
        ...bytes,
        [true, PSH | ACK, 2, 1, 1], // the oldest hole: counted as already seen
        [true, PSH | ACK, 128, 1, 1], // the newest hole: new data
      ]),
    );
    const n = c.length;
    expect(n).toBe(3 + 65 + 2);
    expect(Array.from(c.retrans.subarray(0, n - 2)).every((x) => x === 0)).toBe(true);
    expect([c.retrans[n - 2], c.retrans[n - 1]]).toEqual([1, 0]);
  });

  it('puts data on a SYN after the SYN sequence number', async () => {
    // TCP Fast Open: the SYN (seq 100) carries bytes 101..105; the same bytes sent again are flagged.
    const [c] = await connections(
      conversation(40000, 22, [
        [true, SYN, 100, 0, 5],
        [false, SYN | ACK, 0, 106],
        [true, PSH | ACK, 101, 1, 5],
      ]),
    );
    expect(Array.from(c.retrans)).toEqual([0, 0, 1]);
  });
});

describe('4-tuple reuse', () => {
  it('starts a new connection on a SYN with another ISN, not on a retransmitted SYN', async () => {
    const first = session('10.0.0.1', 40000, '10.0.0.2', 22, SEC, 1, 1000, 5000);
    const retransmittedSyn = { ...first[0], sec: SEC + 5 };
    const second = session('10.0.0.1', 40000, '10.0.0.2', 22, SEC + 10, 1, 900000, 5000);
    const cs = await connections([...first, retransmittedSyn, ...second]);
    expect(cs.map((c) => [c.id, c.length, c.first])).toEqual([
      [0, 10, SEC],
      [1, 9, SEC + 10],
    ]);
    // The retransmitted SYN, five seconds on, belongs to the first connection.
    expect(cs[0].t[9]).toBe(SEC + 5);
  });
});

describe('connectionToFlow', () => {
  const keyAndEcho = session('10.0.0.1', 40000, '10.0.0.2', 22, SEC, 1);

  it('keeps payload packets and pure ACKs, drops SYN/FIN/RST without payload', async () => {
    const [c] = await connections(keyAndEcho);
    // Packets: SYN, SYN/ACK, ACK, key, echo, ACK, FIN, FIN, ACK (see capture-formats).
    // Kept: ACK (2), key (3), echo (4), ACK (5), ACK (8).
    const f = connectionToFlow(c, { origin: SEC });
    expect(Array.from(f.size)).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(f.dir)).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(f.t)).toEqual([20000, 30000, 40000, 50000, 80000].map((u) => since(SEC + u / 1e6)));
  });

  it('keeps a FIN or RST that carries data, drops a bare RST', async () => {
    const [c] = await connections(
      conversation(40000, 22, [
        [true, SYN, 0, 0],
        [false, SYN | ACK, 0, 1],
        [true, FIN | PSH | ACK, 1, 1, 3], // data with the FIN: kept, size 3
        [false, RST, 1, 0], // bare reset: dropped
        [false, RST | ACK, 1, 5, 7], // reset with diagnostic text: kept, size 7
      ]),
    );
    const f = connectionToFlow(c);
    expect(Array.from(f.size)).toEqual([3, 7]);
    expect(Array.from(f.dir)).toEqual([0, 1]);
    expect(Array.from(f.t)).toEqual([SEC + 0.002, SEC + 0.004]);
  });

  it('drops retransmissions on request', async () => {
    const [c] = await connections(
      conversation(40000, 22, [
        [true, SYN, 0, 0],
        [false, SYN | ACK, 0, 1],
        [true, PSH | ACK, 1, 1, 10],
        [true, PSH | ACK, 1, 1, 10], // retransmission
        [false, ACK, 1, 11],
      ]),
    );
    expect(Array.from(connectionToFlow(c).size)).toEqual([10, 10, 0]);
    expect(Array.from(connectionToFlow(c, { dropRetransmissions: true }).size)).toEqual([10, 0]);
  });

  it('sorts packets that the capture holds out of time order, and can swap roles', async () => {
    const sent = conversation(40000, 22, [
      [true, PSH | ACK, 1, 1, 10],
      [false, PSH | ACK, 1, 11, 20],
      [true, ACK, 11, 21],
    ]);
    // The echo was written to the file first but happened last.
    sent[1] = { ...sent[1], usec: 9000 };
    const [c] = await connections([sent[1], sent[0], sent[2]]);
    expect(Array.from(c.t)).toEqual([SEC + 0.009, SEC, SEC + 0.002]);
    const f = connectionToFlow(c, { origin: SEC });
    expect(Array.from(f.t)).toEqual([0, since(SEC + 0.002), since(SEC + 0.009)]);
    expect(Array.from(f.size)).toEqual([10, 0, 20]);
    expect(Array.from(f.dir)).toEqual([0, 0, 1]);
    expect(Array.from(connectionToFlow(c, { origin: SEC, reverse: true }).dir)).toEqual([1, 1, 0]);
  });
});
