import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import {
  CaptureError,
  type TcpConnection,
  connectionToFlow,
  hostPairs,
  pairsFromLabels,
  readCapture,
  readLabels,
} from '../src/capture/index.js';
import { ACK, PSH, SYN, type Sent, bytesOf, framesOf, pcapFile, session } from './capture-helpers.js';

const SEC = 1700000000;
const S = '10.0.0.5';
const HEADER = 'in_client,in_client_port,in_server,in_server_port,out_client,out_client_port,out_server,out_server_port,relayed';

/**
 * A connection from c:cport to s:sport seen from `start` to `end` seconds after SEC:
 * SYN, SYN/ACK 1 ms later, one byte of data half-way, the ACK at `end`.
 */
function conn(c: string, cport: number, s: string, sport: number, start: number, end: number, handshake = true): Sent[] {
  const at = (x: number) => ({ sec: SEC + Math.floor(x), usec: Math.round((x - Math.floor(x)) * 1e6) });
  const fwd = { src: c, dst: s, sport: cport, dport: sport };
  const bwd = { src: s, dst: c, sport, dport: cport };
  const out: Sent[] = [];
  if (handshake) {
    out.push({ ...at(start), spec: { ...fwd, flags: SYN, seq: 0 } });
    out.push({ ...at(start + 0.001), spec: { ...bwd, flags: SYN | ACK, seq: 0, ack: 1 } });
  }
  out.push({ ...at((start + end) / 2), spec: { ...fwd, flags: PSH | ACK, seq: 1, ack: 1, payload: 1 } });
  out.push({ ...at(end), spec: { ...bwd, flags: ACK, seq: 1, ack: 2 } });
  return out;
}

/**
 * At the stepping stone S = 10.0.0.5 (times in seconds after SEC):
 *   A  10.0.0.1:40000 -> S:22           [0, 10]   into S
 *   B  S:50000 -> 10.0.0.9:22           [1, 9]    out of S (the relay of A)
 *   C  10.0.0.2:40001 -> S:22           [20, 30]  into S
 *   D  S:50001 -> 10.0.0.8:22           [21, 29]  out of S
 *   E  S:50002 -> 10.0.0.7:80           [5, 25]   out of S
 *   F  10.0.0.3:1234 -> 10.0.0.4:80     [0, 30]   not S's
 */
const SENT = [
  ...conn('10.0.0.1', 40000, S, 22, 0, 10),
  ...conn(S, 50000, '10.0.0.9', 22, 1, 9),
  ...conn('10.0.0.2', 40001, S, 22, 20, 30),
  ...conn(S, 50001, '10.0.0.8', 22, 21, 29),
  ...conn(S, 50002, '10.0.0.7', 80, 5, 25),
  ...conn('10.0.0.3', 1234, '10.0.0.4', 80, 0, 30),
].sort((a, b) => a.sec - b.sec || a.usec - b.usec);

async function capture(sent = SENT): Promise<TcpConnection[]> {
  return (await readCapture({ name: 's.pcap', bytes: pcapFile(framesOf(sent)) })).connections;
}

const labels = (...rows: string[]) => readLabels({ name: 'labels.csv', bytes: bytesOf(`${[HEADER, ...rows].join('\n')}\n`) });
const ROW_AB = `10.0.0.1,40000,${S},22,${S},50000,10.0.0.9,22,1`;
const ROW_CD = `10.0.0.2,40001,${S},22,${S},50001,10.0.0.8,22,false`;

const byTuple = (cs: TcpConnection[], client: string, port: number) => cs.find((c) => c.client === client && c.clientPort === port) as TcpConnection;

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('readLabels', () => {
  it('reads rows with canonical addresses, any relayed spelling, extra columns', async () => {
    const l = await readLabels({
      name: 'labels.csv',
      bytes: bytesOf(`note,${HEADER}\nfirst,2001:DB8:0:0::1,40000,2001:db8::5,22,2001:db8::5,50000,2001:db8::9,22,TRUE\nsecond,${ROW_CD}\n`),
    });
    expect(l.file).toBe('labels.csv');
    expect(l.rows).toEqual([
      {
        line: 2,
        incoming: { client: '2001:db8::1', clientPort: 40000, server: '2001:db8::5', serverPort: 22 },
        outgoing: { client: '2001:db8::5', clientPort: 50000, server: '2001:db8::9', serverPort: 22 },
        relayed: true,
      },
      {
        line: 3,
        incoming: { client: '10.0.0.2', clientPort: 40001, server: S, serverPort: 22 },
        outgoing: { client: S, clientPort: 50001, server: '10.0.0.8', serverPort: 22 },
        relayed: false,
      },
    ]);
  });

  it('refuses bad files, naming the file, line and column', async () => {
    expect(await refusal(readLabels({ name: 'labels.csv', bytes: bytesOf('in_client,in_server\n1,2\n') }))).toBe(
      'labels.csv: line 1: missing column in_client_port, in_server_port, out_client, out_client_port, out_server, out_server_port, relayed (the header has in_client, in_server)',
    );
    expect(await refusal(labels(ROW_AB.replace(/,1$/, ',yes')))).toBe('labels.csv: line 2, column relayed: "yes" is not 1, 0, true or false');
    expect(await refusal(labels(ROW_CD, ROW_AB.replace('50000', '70000')))).toBe(
      'labels.csv: line 3, column out_client_port: "70000" is not a port number (0 to 65535)',
    );
    expect(await refusal(labels(ROW_AB.replace('10.0.0.9', '10.0.9')))).toBe('labels.csv: line 2, column out_server: "10.0.9" is not an IP address');
    expect(await refusal(labels(ROW_AB, ROW_CD, ROW_AB.replace(/,1$/, ',0')))).toBe('labels.csv: line 4: repeats the pair of line 2');
    expect(await refusal(labels(`10.0.0.1,40000,${S},22,${S},22,10.0.0.1,40000,1`))).toBe(
      'labels.csv: line 2: incoming and outgoing are the same connection 10.0.0.1:40000 -> 10.0.0.5:22',
    );
  });
});

describe('pairsFromLabels', () => {
  it('makes one pair per row, relayed first, with flows on the capture clock', async () => {
    const cs = await capture();
    const pairs = pairsFromLabels(cs, await labels(ROW_CD, ROW_AB), { dataset: 'lab' });
    expect(pairs.map((p) => [p.relayed, p.meta])).toEqual([
      [true, { dataset: 'lab', index: 0, kind: 'labelled-relay' }],
      [false, { dataset: 'lab', index: 1, kind: 'labelled-unrelated' }],
    ]);
    // Times count from the capture's first packet (A's and F's SYN at SEC).
    expect(pairs[0].incoming).toEqual(connectionToFlow(byTuple(cs, '10.0.0.1', 40000), { origin: SEC }));
    expect(pairs[0].outgoing).toEqual(connectionToFlow(byTuple(cs, S, 50000), { origin: SEC }));
    expect(pairs[1].incoming).toEqual(connectionToFlow(byTuple(cs, '10.0.0.2', 40001), { origin: SEC }));
    // A's flow: the data at 5 s (client to server), the ACK at 10 s; SYN and SYN/ACK left out.
    expect(Array.from(pairs[0].incoming.t)).toEqual([5, 10]);
    expect(Array.from(pairs[0].incoming.size)).toEqual([1, 0]);
    expect(Array.from(pairs[0].incoming.dir)).toEqual([0, 1]);
    const epoch = pairsFromLabels(cs, await labels(ROW_AB), { dataset: 'lab', time: 'epoch' });
    expect(Array.from(epoch[0].incoming.t)).toEqual([SEC + 5, SEC + 10]);
  });

  it('puts a relayed pair first even when it starts later', async () => {
    const cs = await capture();
    // C-D (starts at 20 s) labelled relayed, A-B (starts at 0 s) labelled unrelated.
    const pairs = pairsFromLabels(cs, await labels(ROW_AB.replace(/,1$/, ',0'), ROW_CD.replace(/,false$/, ',1')), { dataset: 'lab' });
    expect(pairs.map((p) => [p.relayed, p.incoming.t[0]])).toEqual([
      [true, 25],
      [false, 5],
    ]);
  });

  it('refuses a row whose connection is not in the capture', async () => {
    const cs = await capture();
    expect(await refusal(async () => pairsFromLabels(cs, await labels(ROW_AB, ROW_AB.replace('40000', '40009')), { dataset: 'lab' }))).toBe(
      'labels.csv: line 3: incoming connection 10.0.0.1:40009 -> 10.0.0.5:22 is not in the capture',
    );
    expect(await refusal(async () => pairsFromLabels(cs, await labels(ROW_AB.replace('10.0.0.9,22', '10.0.0.9,23')), { dataset: 'lab' }))).toBe(
      'labels.csv: line 2: outgoing connection 10.0.0.5:50000 -> 10.0.0.9:23 is not in the capture',
    );
  });

  it('refuses roles that contradict the handshake, follows the labels over the port rule', async () => {
    const cs = await capture();
    // A's handshake makes 10.0.0.1:40000 its client.
    const reversed = `${S},22,10.0.0.1,40000,${S},50000,10.0.0.9,22,1`;
    expect(await refusal(async () => pairsFromLabels(cs, await labels(reversed), { dataset: 'lab' }))).toBe(
      'labels.csv: line 2: incoming connection 10.0.0.5:22 -> 10.0.0.1:40000 has the roles the other way round in the capture: its handshake makes 10.0.0.1:40000 the client',
    );
    // G: S opened a connection from its port 22 to 10.0.0.6:2000; no handshake captured, so
    // the port rule took S:22 for the server. The labels say S is the client.
    const g = await capture([...SENT, ...conn(S, 22, '10.0.0.6', 2000, 2, 8, false)]);
    const gConn = byTuple(g, '10.0.0.6', 2000);
    expect(gConn.roleFrom).toBe('port');
    const [pair] = pairsFromLabels(g, await labels(`10.0.0.1,40000,${S},22,${S},22,10.0.0.6,2000,1`), { dataset: 'lab' });
    // G's packets: S sends the data at 5 s, 10.0.0.6 the ACK at 8 s; as S's outgoing
    // connection the data is client to server (0).
    expect(Array.from(pair.outgoing.dir)).toEqual([0, 1]);
    expect(Array.from(pair.outgoing.size)).toEqual([1, 0]);
    expect(Array.from(connectionToFlow(gConn).dir)).toEqual([1, 0]);
  });

  it('refuses a 4-tuple that the capture holds twice', async () => {
    const twice = [...session('10.0.0.1', 40000, S, 22, SEC + 100, 1, 1000), ...session('10.0.0.1', 40000, S, 22, SEC + 200, 1, 777777)];
    const cs = await capture([...SENT, ...twice]);
    expect(await refusal(async () => pairsFromLabels(cs, await labels(ROW_AB), { dataset: 'lab' }))).toBe(
      'labels.csv: line 2: incoming connection 10.0.0.1:40000 -> 10.0.0.5:22 matches 3 connections of the capture (its 4-tuple was reused); the labels cannot tell them apart',
    );
  });
});

describe('hostPairs', () => {
  it('pairs every connection into S with every overlapping one out of S, labels deciding relayed', async () => {
    const cs = await capture();
    const pairs = hostPairs(cs, S, { dataset: 'host', labels: await labels(ROW_AB, ROW_CD) });
    // Into S: A, C. Out of S: B, D, E. Overlapping: A-B, A-E, C-D, C-E (A-D, C-B do not).
    // Relayed first (A-B), then by the pair's first packet: A-E at 0, C-E at 5, C-D at 20.
    const shape = pairs.map((p) => [p.meta.index, p.relayed, p.meta.kind, p.incoming.t[0], p.outgoing.t[0]]);
    expect(shape).toEqual([
      [0, true, 'labelled-relay', 5, 5], // A's data at 5 s, B's at 5 s
      [1, false, 'host-overlap', 5, 15], // A, E (data at 15 s)
      [2, false, 'host-overlap', 25, 15], // C, E
      [3, false, 'labelled-unrelated', 25, 25], // C, D
    ]);
    // One flow object per connection, shared across pairs.
    expect(pairs[1].incoming).toBe(pairs[0].incoming);
    expect(pairs[2].outgoing).toBe(pairs[1].outgoing);
  });

  it('without labels every pair is unrelated, ties broken by the 4-tuples', async () => {
    const cs = await capture();
    const pairs = hostPairs(cs, [S], { dataset: 'host' });
    const flow = (client: string, port: number) => connectionToFlow(byTuple(cs, client, port), { origin: SEC });
    const [a, b, c, d, e] = [flow('10.0.0.1', 40000), flow(S, 50000), flow('10.0.0.2', 40001), flow(S, 50001), flow(S, 50002)];
    // A-B and A-E both start at 0 with the same incoming connection: the outgoing
    // "10.0.0.5:50000 -> 10.0.0.9:22" sorts before "10.0.0.5:50002 -> 10.0.0.7:80".
    expect(pairs.map((p) => [p.incoming, p.outgoing])).toEqual([
      [a, b],
      [a, e],
      [c, e],
      [c, d],
    ]);
    expect(pairs.every((p) => !p.relayed && p.meta.kind === 'host-overlap')).toBe(true);
    // The order does not depend on the order of the connections handed in.
    const again = hostPairs([...cs].reverse(), S, { dataset: 'host' });
    expect(again.map((p) => [p.incoming, p.outgoing])).toEqual(pairs.map((p) => [p.incoming, p.outgoing]));
  });

  it('refuses a host that is not an address, and labels that never name it', async () => {
    const cs = await capture();
    expect(await refusal(() => hostPairs(cs, 'stepping-stone', { dataset: 'host' }))).toBe('host "stepping-stone" is not an IP address');
    expect(await refusal(async () => hostPairs(cs, '10.0.0.99', { dataset: 'host', labels: await labels(ROW_AB) }))).toBe(
      'labels.csv: no row has 10.0.0.99 as in_server',
    );
    const missing = await labels(ROW_AB.replace('10.0.0.1,40000', '10.0.0.1,40009'));
    const e = await refusal(async () => hostPairs(cs, S, { dataset: 'host', labels: missing }));
    expect(e).toBe('labels.csv: line 2: incoming connection 10.0.0.1:40009 -> 10.0.0.5:22 is not in the capture');
  });

  it('labels errors are CaptureErrors', async () => {
    await expect(labels('x')).rejects.toBeInstanceOf(CaptureError);
  });
});
