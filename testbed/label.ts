/**
 * Turns a run's capture and the driver's ground truth into the fixture's labels:
 *
 * - labels.csv: every relayed (incoming, outgoing) pair the monitor at S found, with
 *   relayed=1, then every other (incoming, outgoing) pair whose connections overlap in
 *   time in the capture, with relayed=0 (what host-mode pairing would also form);
 * - counts.json: for every labelled connection, the packets tcpdump reports for it with
 *   `tcp and host A and port P and host B and port Q`, its role and session;
 * - a summary on stdout (JSON) for the fixture's README.
 *
 * Connections and their time spans are read from the capture itself with tcpdump, so a
 * label never names a connection the capture does not hold.
 *
 * Usage: npx tsx testbed/label.ts --config C --truth truth.json --pcap capture.pcap --out DIR
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, stoneAddrs } from './config.js';
import { type PcapConn, connKey, overlappingPairs, pairKey, parseTcpdump } from './pairs.js';

interface Truth {
  sessions: { id: string; kind: string; ok: boolean }[];
  connections: { client: string; client_port: number; server: string; server_port: number; session: string | null }[];
  relayed: { session: string | null; incoming: Tuple; outgoing: Tuple }[];
}

interface Tuple {
  client: string;
  client_port: number;
  server: string;
  server_port: number;
}

const tupleKey = (t: Tuple) => connKey(t.client, t.client_port, t.server, t.server_port);
const key = connKey;

function readConnections(pcap: string, stone: Set<string>): Map<string, PcapConn> {
  const text = execFileSync('tcpdump', ['-nn', '-tt', '-r', pcap, 'tcp'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return parseTcpdump(text, stone);
}

function tcpdumpCount(pcap: string, c: PcapConn): number {
  const filter = `tcp and host ${c.client} and port ${c.clientPort} and host ${c.server} and port ${c.serverPort}`;
  const out = execFileSync('tcpdump', ['-nn', '-r', pcap, filter], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter((l) => l.length > 0).length;
}

function main(): void {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, truth: { type: 'string' }, pcap: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.config || !values.truth || !values.pcap || !values.out) {
    throw new Error('usage: label.ts --config C --truth truth.json --pcap capture.pcap --out DIR');
  }
  const cfg = loadConfig(values.config);
  const truth = JSON.parse(readFileSync(values.truth, 'utf8')) as Truth;
  const conns = readConnections(values.pcap, new Set(stoneAddrs(cfg)));
  const problems: string[] = [];

  const sessionOf = new Map<string, string | null>(truth.connections.map((c) => [key(c.client, c.client_port, c.server, c.server_port), c.session]));
  const kindOf = new Map(truth.sessions.map((s) => [s.id, s.kind]));

  const relayed: [PcapConn, PcapConn][] = [];
  const relayedKeys = new Set<string>();
  for (const r of truth.relayed) {
    const i = conns.get(tupleKey(r.incoming));
    const o = conns.get(tupleKey(r.outgoing));
    if (!i || !o) {
      problems.push(`relayed pair ${tupleKey(r.incoming)} / ${tupleKey(r.outgoing)} is not in the capture`);
      continue;
    }
    relayed.push([i, o]);
    relayedKeys.add(pairKey(i, o));
  }

  const incoming = [...conns.values()].filter((c) => c.dir === 'in');
  const outgoing = [...conns.values()].filter((c) => c.dir === 'out');
  const benign = overlappingPairs(conns, relayedKeys);
  relayed.sort((a, b) => a[0].first - b[0].first);

  const row = ([i, o]: [PcapConn, PcapConn], rel: number) =>
    [i.client, i.clientPort, i.server, i.serverPort, o.client, o.clientPort, o.server, o.serverPort, rel].join(',');
  const csv = [
    'in_client,in_client_port,in_server,in_server_port,out_client,out_client_port,out_server,out_server_port,relayed',
    ...relayed.map((p) => row(p, 1)),
    ...benign.map((p) => row(p, 0)),
  ];
  writeFileSync(join(values.out, 'labels.csv'), csv.join('\n') + '\n');

  const labelled = new Set<PcapConn>();
  for (const [i, o] of [...relayed, ...benign]) {
    labelled.add(i);
    labelled.add(o);
  }
  const relayIn = new Set(relayed.map((p) => p[0]));
  const relayOut = new Set(relayed.map((p) => p[1]));
  const counts = [...labelled]
    .sort((a, b) => a.first - b.first)
    .map((c) => {
      const packets = tcpdumpCount(values.pcap!, c);
      if (packets !== c.packets) problems.push(`${key(c.client, c.clientPort, c.server, c.serverPort)}: tcpdump filter counts ${packets}, the full read ${c.packets}`);
      const session = sessionOf.get(key(c.client, c.clientPort, c.server, c.serverPort)) ?? null;
      return {
        client: c.client,
        client_port: c.clientPort,
        server: c.server,
        server_port: c.serverPort,
        packets,
        payload_packets: c.payloadPackets,
        duration_s: Number((c.last - c.first).toFixed(3)),
        role: relayIn.has(c) ? 'relay-incoming' : relayOut.has(c) ? 'relay-outgoing' : c.dir === 'in' ? 'incoming' : 'outgoing',
        session,
        kind: session ? (kindOf.get(session) ?? null) : null,
      };
    });
  const pcapName = basename(values.pcap);
  writeFileSync(
    join(values.out, 'counts.json'),
    JSON.stringify(
      {
        command: `tcpdump -nn -r ${pcapName} 'tcp and host CLIENT and port CLIENT_PORT and host SERVER and port SERVER_PORT' | wc -l`,
        connections: counts,
      },
      null,
      1,
    ) + '\n',
  );

  const all = [...conns.values()];
  const summary = {
    connections: all.length,
    incoming: incoming.length,
    outgoing: outgoing.length,
    labelledConnections: labelled.size,
    packets: all.reduce((s, c) => s + c.packets, 0),
    payloadPackets: all.reduce((s, c) => s + c.payloadPackets, 0),
    relayedPairs: relayed.length,
    benignPairs: benign.length,
    overlappingPairs: relayed.length + benign.length,
    spanSeconds: Number((Math.max(...all.map((c) => c.last)) - Math.min(...all.map((c) => c.first))).toFixed(1)),
    problems,
  };
  process.stdout.write(JSON.stringify(summary, null, 1) + '\n');
  if (problems.length) process.exit(2);
}

main();
