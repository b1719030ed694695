/**
 * Connections and host-mode pairs from a tcpdump listing of the capture at S.
 */

export interface PcapConn {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** 'in': S is the server; 'out': S is the client. */
  dir: 'in' | 'out';
  first: number;
  last: number;
  packets: number;
  payloadPackets: number;
}

export const connKey = (client: string, clientPort: number, server: string, serverPort: number): string =>
  `${client}:${clientPort}>${server}:${serverPort}`;

export const pairKey = (i: PcapConn, o: PcapConn): string =>
  `${connKey(i.client, i.clientPort, i.server, i.serverPort)}|${connKey(o.client, o.clientPort, o.server, o.serverPort)}`;

/** `tcpdump -nn -tt` line: "<epoch> IP a.b.c.d.port > e.f.g.h.port: Flags [..], …, length N". */
const LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): .*length (\d+)/;

/**
 * SSH connections at S, keyed client>server: the client is the side whose port is not
 * 22; a connection whose server is one of `stone`'s addresses is incoming, one whose
 * client is, outgoing. Other lines (not IPv4 TCP, or not touching S) are skipped.
 */
export function parseTcpdump(text: string, stone: Set<string>): Map<string, PcapConn> {
  const conns = new Map<string, PcapConn>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    const sport = Number(m[3]);
    const dport = Number(m[5]);
    const len = Number(m[6]);
    const fromClient = dport === 22;
    if (!fromClient && sport !== 22) continue;
    const [client, clientPort, server, serverPort] = fromClient ? [m[2], sport, m[4], dport] : [m[4], dport, m[2], sport];
    const k = connKey(client, clientPort, server, serverPort);
    let c = conns.get(k);
    if (!c) {
      const dir = stone.has(server) ? 'in' : stone.has(client) ? 'out' : null;
      if (!dir) continue;
      c = { client, clientPort, server, serverPort, dir, first: t, last: t, packets: 0, payloadPackets: 0 };
      conns.set(k, c);
    }
    c.last = t;
    c.packets++;
    if (len > 0) c.payloadPackets++;
  }
  return conns;
}

/**
 * Every (incoming, outgoing) pair whose [first, last] packet spans overlap for a
 * positive time, except those in `exclude` (pairKey), ordered by the incoming then the
 * outgoing connection's first packet.
 */
export function overlappingPairs(conns: Map<string, PcapConn>, exclude: Set<string>): [PcapConn, PcapConn][] {
  const byFirst = (a: PcapConn, b: PcapConn) => a.first - b.first;
  const incoming = [...conns.values()].filter((c) => c.dir === 'in').sort(byFirst);
  const outgoing = [...conns.values()].filter((c) => c.dir === 'out').sort(byFirst);
  const out: [PcapConn, PcapConn][] = [];
  for (const i of incoming) {
    for (const o of outgoing) {
      if (exclude.has(pairKey(i, o))) continue;
      if (Math.min(i.last, o.last) > Math.max(i.first, o.first)) out.push([i, o]);
    }
  }
  return out;
}
