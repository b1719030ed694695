/**
 * Ground truth for captures: a labels file that names relayed (and known unrelated)
 * connection pairs at a stepping stone S, and the helpers that turn connections into
 * ssbench FlowPairs, from the labels alone or from every overlapping pair at a host.
 */
import { UserError } from '../errors.js';
import type { Flow, FlowPair } from '../flow.js';
import { canonicalAddress, endpoint } from './address.js';
import { type TcpConnection, connectionToFlow, describeConnection } from './connections.js';
import { csvRecords, headerColumns } from './csv.js';
import { CaptureError, quoted } from './errors.js';
import { type CaptureInput, openInput } from './input.js';

export const LABEL_COLUMNS = [
  'in_client',
  'in_client_port',
  'in_server',
  'in_server_port',
  'out_client',
  'out_client_port',
  'out_server',
  'out_server_port',
  'relayed',
] as const;

/** One connection as a labels row names it; addresses in canonical form. */
export interface LabelledConnection {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
}

export interface LabelRow {
  /** Line of the row in the labels file. */
  line: number;
  /** The connection into S (S is its server). */
  incoming: LabelledConnection;
  /** The connection S opened (S is its client). */
  outgoing: LabelledConnection;
  relayed: boolean;
}

export interface Labels {
  /** The name messages use. */
  file: string;
  rows: LabelRow[];
}

const PORT = /^\d{1,5}$/;

/** Reads a labels file (CSV with the LABEL_COLUMNS header; other columns are ignored). */
export async function readLabels(input: CaptureInput): Promise<Labels> {
  const rows: LabelRow[] = [];
  const opened = await openInput(input, {
    get records() {
      return rows.length;
    },
  });
  const file = opened.name;
  const seen = new Map<string, number>();
  let col: number[] | undefined;
  const fail = (line: number, column: string | undefined, problem: string): never => {
    throw new CaptureError(file, column ? `line ${line}, column ${column}` : `line ${line}`, problem, rows.length);
  };
  const address = (r: string[], k: number, line: number): string => {
    const v = r[(col as number[])[k]].trim();
    return canonicalAddress(v) ?? fail(line, LABEL_COLUMNS[k], `${quoted(v)} is not an IP address`);
  };
  const port = (r: string[], k: number, line: number): number => {
    const v = r[(col as number[])[k]].trim();
    const x = PORT.test(v) ? Number(v) : NaN;
    return x <= 65535 ? x : fail(line, LABEL_COLUMNS[k], `${quoted(v)} is not a port number (0 to 65535)`);
  };
  const record = (r: string[], line: number): void => {
    if (col === undefined) {
      col = headerColumns(r, LABEL_COLUMNS, file, line);
      return;
    }
    const incoming = { client: address(r, 0, line), clientPort: port(r, 1, line), server: address(r, 2, line), serverPort: port(r, 3, line) };
    const outgoing = { client: address(r, 4, line), clientPort: port(r, 5, line), server: address(r, 6, line), serverPort: port(r, 7, line) };
    const rel = r[col[8]].trim().toLowerCase();
    if (rel !== '1' && rel !== '0' && rel !== 'true' && rel !== 'false') fail(line, 'relayed', `${quoted(r[col[8]])} is not 1, 0, true or false`);
    const key = `${describeConnection(incoming)} | ${describeConnection(outgoing)}`;
    if (connectionKey(incoming) === connectionKey(outgoing)) fail(line, undefined, `incoming and outgoing are the same connection ${describeConnection(incoming)}`);
    const before = seen.get(key);
    if (before !== undefined) fail(line, undefined, `repeats the pair of line ${before}`);
    seen.set(key, line);
    rows.push({ line, incoming, outgoing, relayed: rel === '1' || rel === 'true' });
  };
  await csvRecords(opened.chunks, file, () => rows.length, record);
  return { file, rows };
}

/** The same string for both orientations of a 4-tuple. */
function connectionKey(c: LabelledConnection): string {
  const a = endpoint(c.client, c.clientPort);
  const b = endpoint(c.server, c.serverPort);
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

export interface PairOptions {
  /** Dataset name for the pairs' meta. */
  dataset: string;
  /** Leave out packets flagged as retransmissions. */
  dropRetransmissions?: boolean;
  /**
   * 'capture' (default): flow times count from the earliest packet of the connections
   * given, so every flow shares one origin and stays precise; 'epoch': Unix time.
   */
  time?: 'capture' | 'epoch';
}

interface Oriented {
  conn: TcpConnection;
  /** The labels make the capture's server the client (roles came from the port rule). */
  reverse: boolean;
}

/** Finds connections by 4-tuple and orients them as the labels say. */
class Finder {
  private readonly byKey = new Map<string, TcpConnection[]>();

  constructor(connections: readonly TcpConnection[]) {
    for (const c of connections) {
      const k = connectionKey(c);
      const list = this.byKey.get(k);
      if (list) list.push(c);
      else this.byKey.set(k, [c]);
    }
  }

  find(labels: Labels, row: LabelRow, which: 'incoming' | 'outgoing'): Oriented {
    const want = row[which];
    const fail = (problem: string): never => {
      throw new CaptureError(labels.file, `line ${row.line}`, `${which} connection ${describeConnection(want)} ${problem}`, 0);
    };
    const found = this.byKey.get(connectionKey(want)) ?? [];
    if (found.length === 0) fail('is not in the capture');
    if (found.length > 1) fail(`matches ${found.length} connections of the capture (its 4-tuple was reused); the labels cannot tell them apart`);
    const conn = found[0];
    if (conn.client === want.client && conn.clientPort === want.clientPort) return { conn, reverse: false };
    if (conn.roleFrom === 'syn' || conn.roleFrom === 'syn-ack') {
      fail(`has the roles the other way round in the capture: its handshake makes ${endpoint(conn.client, conn.clientPort)} the client`);
    }
    return { conn, reverse: true };
  }
}

interface Candidate {
  incoming: Oriented;
  outgoing: Oriented;
  relayed: boolean;
  kind: string;
}

function client(o: Oriented): string {
  return o.reverse ? o.conn.server : o.conn.client;
}

function server(o: Oriented): string {
  return o.reverse ? o.conn.client : o.conn.server;
}

function describeOriented(o: Oriented): string {
  const c = o.conn;
  return o.reverse ? describeConnection({ client: c.server, clientPort: c.serverPort, server: c.client, serverPort: c.clientPort }) : describeConnection(c);
}

/**
 * The deterministic order: relayed pairs first, then by the pair's first packet time,
 * then by the incoming and the outgoing 4-tuple (client -> server text), then by capture
 * order (for a reused 4-tuple).
 */
function finish(candidates: Candidate[], connections: readonly TcpConnection[], opts: PairOptions): FlowPair[] {
  let origin = 0;
  if ((opts.time ?? 'capture') === 'capture') {
    origin = Infinity;
    for (const c of connections) if (c.first < origin) origin = c.first;
    if (origin === Infinity) origin = 0;
  }
  const sortKey = candidates.map((c) => ({
    c,
    start: Math.min(c.incoming.conn.first, c.outgoing.conn.first),
    inKey: describeOriented(c.incoming),
    outKey: describeOriented(c.outgoing),
  }));
  const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  sortKey.sort(
    (a, b) =>
      Number(b.c.relayed) - Number(a.c.relayed) ||
      a.start - b.start ||
      cmpText(a.inKey, b.inKey) ||
      cmpText(a.outKey, b.outKey) ||
      a.c.incoming.conn.id - b.c.incoming.conn.id ||
      a.c.outgoing.conn.id - b.c.outgoing.conn.id,
  );
  // A connection in several pairs (host mode) becomes one Flow, shared: flows are read-only.
  const flows = new Map<string, Flow>();
  const flowOf = (o: Oriented): Flow => {
    const k = `${o.conn.id}:${o.reverse}`;
    let f = flows.get(k);
    if (!f) {
      f = connectionToFlow(o.conn, { dropRetransmissions: opts.dropRetransmissions, origin, reverse: o.reverse });
      flows.set(k, f);
    }
    return f;
  };
  return sortKey.map(({ c }, index) => ({
    incoming: flowOf(c.incoming),
    outgoing: flowOf(c.outgoing),
    relayed: c.relayed,
    meta: { dataset: opts.dataset, index, kind: c.kind },
  }));
}

function labelledKind(relayed: boolean): string {
  return relayed ? 'labelled-relay' : 'labelled-unrelated';
}

/** One pair per labels row; a row whose connection is not in the capture is an error. */
export function pairsFromLabels(connections: readonly TcpConnection[], labels: Labels, opts: PairOptions): FlowPair[] {
  const finder = new Finder(connections);
  const candidates = labels.rows.map((row) => ({
    incoming: finder.find(labels, row, 'incoming'),
    outgoing: finder.find(labels, row, 'outgoing'),
    relayed: row.relayed,
    kind: labelledKind(row.relayed),
  }));
  return finish(candidates, connections, opts);
}

function overlaps(a: TcpConnection, b: TcpConnection): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * Host mode: every connection into S (S its server) paired with every connection out of S
 * (S its client) that overlaps it in time; relayed where the labels say so, not relayed
 * otherwise. Labels rows whose incoming server is S must be found in the capture and
 * always make a pair, overlapping or not; rows for other hosts are ignored.
 */
export function hostPairs(
  connections: readonly TcpConnection[],
  host: string | readonly string[],
  opts: PairOptions & { labels?: Labels },
): FlowPair[] {
  const hosts = new Set<string>();
  for (const h of typeof host === 'string' ? [host] : host) {
    const a = canonicalAddress(h.trim());
    if (!a) throw new UserError(`host ${quoted(h)} is not an IP address`);
    hosts.add(a);
  }
  const reverse = new Map<number, boolean>();
  const candidates: Candidate[] = [];
  const labelled = new Set<string>();
  const labels = opts.labels;
  if (labels) {
    const finder = new Finder(connections);
    const rows = labels.rows.filter((r) => hosts.has(r.incoming.server));
    if (rows.length === 0 && labels.rows.length > 0) {
      throw new UserError(`${labels.file}: no row has ${[...hosts].join(' or ')} as in_server`);
    }
    for (const row of rows) {
      const incoming = finder.find(labels, row, 'incoming');
      const outgoing = finder.find(labels, row, 'outgoing');
      reverse.set(incoming.conn.id, incoming.reverse);
      reverse.set(outgoing.conn.id, outgoing.reverse);
      labelled.add(`${incoming.conn.id}:${outgoing.conn.id}`);
      candidates.push({ incoming, outgoing, relayed: row.relayed, kind: labelledKind(row.relayed) });
    }
  }
  const oriented = connections.map((conn) => ({ conn, reverse: reverse.get(conn.id) ?? false }));
  const into = oriented.filter((o) => hosts.has(server(o)));
  const out = oriented.filter((o) => hosts.has(client(o)));
  for (const i of into) {
    for (const o of out) {
      if (i.conn === o.conn || !overlaps(i.conn, o.conn) || labelled.has(`${i.conn.id}:${o.conn.id}`)) continue;
      candidates.push({ incoming: i, outgoing: o, relayed: false, kind: 'host-overlap' });
    }
  }
  return finish(candidates, connections, opts);
}
