import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicConfig, resolveConfig } from '../src/config.js';
import { runChunk } from '../src/pipeline.js';
import { ACK, PSH, SYN, type Sent, framesOf, pcapFile } from './capture-helpers.js';

const SEC = 1700000000;
const S = '10.0.0.5';

/** c:cport -> s:sport: handshake at `start`, one data byte from the client at `data`, the ACK 0.5 s later. */
function conn(c: string, cport: number, s: string, sport: number, start: number, data: number): Sent[] {
  const at = (x: number) => ({ sec: SEC + Math.floor(x), usec: Math.round((x - Math.floor(x)) * 1e6) });
  const fwd = { src: c, dst: s, sport: cport, dport: sport };
  const bwd = { src: s, dst: c, sport, dport: cport };
  return [
    { ...at(start), spec: { ...fwd, flags: SYN, seq: 0 } },
    { ...at(start + 0.001), spec: { ...bwd, flags: SYN | ACK, seq: 0, ack: 1 } },
    { ...at(data), spec: { ...fwd, flags: PSH | ACK, seq: 1, ack: 1, payload: 1 } },
    { ...at(data + 0.5), spec: { ...bwd, flags: ACK, seq: 1, ack: 2 } },
  ];
}

// Into S: A (data at 2 s) and C (data at 22 s); out of S: B (A's relay, data at 2.1 s) and
// D (data at 23 s). Overlapping in time: A-B and C-D only.
const dir = mkdtempSync(join(tmpdir(), 'ssbench-capture-source-'));
const sent = [
  ...conn('10.0.0.1', 40000, S, 22, 0, 2),
  ...conn(S, 50000, '10.0.0.9', 22, 1, 2.1),
  ...conn('10.0.0.2', 40001, S, 22, 20, 22),
  ...conn(S, 50001, '10.0.0.8', 22, 21, 23),
].sort((a, b) => a.sec - b.sec || a.usec - b.usec);
writeFileSync(join(dir, 'cap.pcap'), pcapFile(framesOf(sent)));
writeFileSync(
  join(dir, 'labels.csv'),
  'in_client,in_client_port,in_server,in_server_port,out_client,out_client_port,out_server,out_server_port,relayed\n' +
    `10.0.0.1,40000,${S},22,${S},50000,10.0.0.9,22,1\n`,
);
// Scores a pair by the time of its incoming connection's first data packet (s since the capture began).
writeFileSync(
  join(dir, 'first-data.mjs'),
  `export default { kind: 'detector', name: 'first-data', description: 'test', params: {},
     score: (pairs) => Float64Array.from(pairs, (p) => { const f = p.incoming; for (let i = 0; i < f.t.length; i++) if (f.size[i] > 0) return f.t[i]; return -1; }) };`,
);
// Scores a pair by its packet counts: 100 per incoming packet, 1 per outgoing one.
writeFileSync(
  join(dir, 'packets.mjs'),
  `export default { kind: 'detector', name: 'packets', description: 'test', params: {},
     score: (pairs) => Float64Array.from(pairs, (p) => 100 * p.incoming.t.length + p.outgoing.t.length) };`,
);
writeFileSync(join(dir, 'marker.mjs'), `export default { kind: 'detector', name: 'marker', description: 'test', params: {}, mark: (k) => k, score: (p) => new Float64Array(p.length) };`);

const config = (over: Record<string, unknown> = {}, detectors: unknown[] = [{ name: './first-data.mjs' }]) => ({
  seed: 1,
  datasets: [{ name: 'real', source: 'capture', params: { file: 'cap.pcap', labels: 'labels.csv', pairing: 'host', host: S }, ...over }],
  scenarios: [{ name: 'none', perturbations: [] }],
  detectors,
});

describe('capture datasets', () => {
  it('takes its pairs and their counts from the capture, relayed first', async () => {
    const c = await resolveConfig(config(), join(dir, 'cfg.json'));
    expect([c.datasets[0].positives, c.datasets[0].negatives]).toEqual([1, 1]);
    const r = await runChunk({ seed: 1, dataset: c.datasets[0], steps: [], detectors: c.detectors, start: 0, end: 2, threads: 1 });
    // A's data at 2 s (relayed, with B), then C's at 22 s (with D, not labelled: unrelated).
    expect(Array.from(r.scores[0] as Float64Array)).toEqual([2, 22]);
    // The results' config keeps the paths as the config wrote them.
    expect((publicConfig(c) as { datasets: { params: { file: string } }[] }).datasets[0].params.file).toBe('cap.pcap');
  });

  it('cuts each pair to a window that opens with its first packet', async () => {
    const counts = async (params: Record<string, unknown>) => {
      const c = await resolveConfig(
        config({ params: { file: 'cap.pcap', labels: 'labels.csv', pairing: 'host', host: S, ...params } }, [{ name: './packets.mjs' }]),
        join(dir, 'cfg.json'),
      );
      const r = await runChunk({ seed: 1, dataset: c.datasets[0], steps: [], detectors: c.detectors, start: 0, end: 2, threads: 1 });
      return Array.from(r.scores[0] as Float64Array);
    };
    // Whole connections: a data packet and its ACK each (flows leave the SYNs out).
    expect(await counts({})).toEqual([202, 202]);
    // A-B opens with A's data at 2 s: until 2.55 s A keeps its data and ACK (2.5 s), B
    // its data (2.1 s) but not its ACK (2.6 s). C-D opens with C's data at 22 s: C keeps
    // both, D nothing (data at 23 s).
    expect(await counts({ window: 0.55 })).toEqual([201, 200]);
  });

  it('refuses more pairs than the capture holds, a missing file, and an active detector', async () => {
    const cfg = join(dir, 'cfg.json');
    const refused = (raw: unknown) => resolveConfig(raw, cfg).then(() => 'accepted', (e: Error) => e.message);
    expect(await refused(config({ positives: 2 }))).toBe(`${cfg}: datasets[0].positives: the dataset has 1 relayed pairs; expected at most that`);
    expect(await refused(config({ params: { file: 'nope.pcap', pairing: 'host', host: S } }))).toMatch(
      `${cfg}: datasets[0].params: ${join(dir, 'nope.pcap')}: byte 0: cannot open: ENOENT`,
    );
    expect(await refused(config({}, [{ name: './marker.mjs' }]))).toBe(
      `${cfg}: detectors[0].name: detector "./marker.mjs" is active: it marks traffic upstream of the stepping stone, which dataset "real" (datasets[0], recorded by capture) cannot have; run it on generated datasets only`,
    );
  });
});
