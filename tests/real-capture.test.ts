/**
 * The committed real capture (fixtures/real-capture, made by the namespace testbed): the
 * reader finds every connection tcpdump counted, with tcpdump's packet counts, and the
 * classic detectors separate its labelled pairs until evasion is applied.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/index.js';
import { loadConfig } from '../src/config.js';
import { runConfig } from '../src/runner.js';
import { summarize } from '../src/summary.js';
import { root } from './helpers.js';

const fixture = join(root, 'fixtures', 'real-capture');

interface Counted {
  client: string;
  client_port: number;
  server: string;
  server_port: number;
  packets: number;
}

describe('the real-capture fixture', () => {
  it('holds every connection tcpdump counted, with its packet count', async () => {
    const { connections } = await readCapture(join(fixture, 'capture.pcap.gz'));
    const counted = (JSON.parse(readFileSync(join(fixture, 'counts.json'), 'utf8')) as { connections: Counted[] }).connections;
    expect(counted.length).toBeGreaterThanOrEqual(40);
    for (const c of counted) {
      const found = connections.filter((x) => x.client === c.client && x.clientPort === c.client_port && x.server === c.server && x.serverPort === c.server_port);
      expect(found, `${c.client}:${c.client_port} -> ${c.server}:${c.server_port}`).toHaveLength(1);
      expect(found[0].length, `${c.client}:${c.client_port} -> ${c.server}:${c.server_port}`).toBe(c.packets);
    }
  });

  it('lets the packet-count and IPD detectors find the relays, until chaff and delay are added', async () => {
    const c = await loadConfig(join(root, 'configs', 'real-capture.json'), { workers: 1 });
    c.detectors = c.detectors.filter((d) => d.name === 'blum-count' || d.name === 'wang-ipd');
    for (const s of c.scenarios) for (const p of s.perturbations) p.params = { ...p.params, ...(p.name === 'chaff' ? { ratio: [0, 1] } : { max: [0, 1.5] }) };
    c.bootstrap = 0;
    expect([c.datasets[0].positives, c.datasets[0].negatives]).toEqual([24, 789]);
    const summary = summarize(c, await runConfig(c));
    const auc = (scenario: string, level: string, detector: string) =>
      summary.cells.find((x) => x.scenario === scenario && x.level === level && x.detector === detector)?.auc as number;
    for (const d of ['blum-count', 'wang-ipd']) {
      expect(auc('chaff', 'ratio=0', d)).toBeGreaterThanOrEqual(0.9);
      expect(auc('chaff', 'ratio=1', d)).toBeLessThan(auc('chaff', 'ratio=0', d) - 0.3);
    }
    // Counting ignores timing; IPD correlation does not.
    expect(auc('delay', 'max=1.5', 'wang-ipd')).toBeLessThan(auc('delay', 'max=0', 'wang-ipd') - 0.3);
  });
});
