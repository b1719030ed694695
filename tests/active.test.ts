import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMark, causalMarks } from '../src/active.js';
import { resolveConfig } from '../src/config.js';
import { DIR_BWD, DIR_FWD, type FlowPair, flowOf, payloadTimes } from '../src/flow.js';
import { runChunk } from '../src/pipeline.js';

const K = 36; // a keystroke's payload
const f64 = (a: number[]) => Float64Array.from(a);

/**
 * Keystrokes into S at 1, 2, 3, each echoed 50 ms later and ACKed by the client 10 ms
 * after the echo; S forwards each keystroke 1 ms after it arrives, and the target echoes
 * it 40 ms after that.
 */
function relayedPair(relayed = true): FlowPair {
  const incoming = flowOf([
    [1, K, DIR_FWD], [1.05, K, DIR_BWD], [1.06, 0, DIR_FWD],
    [2, K, DIR_FWD], [2.05, K, DIR_BWD], [2.06, 0, DIR_FWD],
    [3, K, DIR_FWD], [3.05, K, DIR_BWD], [3.06, 0, DIR_FWD],
  ]);
  const outgoing = flowOf([
    [1.001, K, DIR_FWD], [1.041, K, DIR_BWD],
    [2.001, K, DIR_FWD], [2.041, K, DIR_BWD],
    [3.001, K, DIR_FWD], [3.041, K, DIR_BWD],
  ]);
  return { incoming, outgoing, relayed, meta: { dataset: 'hand', index: 0, kind: 'hand' } };
}

describe('causalMarks', () => {
  it('never moves a keystroke earlier and keeps them in order', () => {
    // 0.5 asks for earlier than 1: stays 1. 1.5 < the held 2.4 before it: queues to 2.4.
    expect(Array.from(causalMarks(f64([1, 2, 3]), f64([0.5, 2.4, 1.5])))).toEqual([1, 2.4, 3]);
    expect(Array.from(causalMarks(f64([1, 2, 3]), f64([1, 3.2, 3])))).toEqual([1, 3.2, 3.2]);
  });

  it('refuses NaN', () => {
    expect(() => causalMarks(f64([1, 2]), f64([1, Number.NaN]))).toThrow(/NaN for keystroke 1/);
  });
});

describe('applyMark', () => {
  it('holds a keystroke, its echo and ACK, and its copy on the outgoing connection', () => {
    const p = applyMark(relayedPair(), f64([1, 2.5, 3]));
    // Keystroke 2 leaves the marker 0.5 s late; its echo keeps its 50 ms lag (2.55) and the
    // ACK its 10 ms lag behind the echo (2.56). Keystroke 3 is untouched.
    expect(Array.from(p.incoming.t)).toEqual([1, 1.05, 1.06, 2.5, 2.55, 2.56, 3, 3.05, 3.06].map((x) => expect.closeTo(x, 12)));
    // S forwards it 0.5 s late too (2.501), and the target's echo follows (2.541).
    expect(Array.from(p.outgoing.t)).toEqual([1.001, 1.041, 2.501, 2.541, 3.001, 3.041].map((x) => expect.closeTo(x, 12)));
  });

  it('queues later keystrokes behind a long hold, on both connections', () => {
    const p = applyMark(relayedPair(), f64([1, 3.2, 3]));
    // Keystroke 2 held to 3.2 holds keystroke 3 to 3.2 as well (FIFO marker).
    expect(Array.from(payloadTimes(p.incoming, DIR_FWD))).toEqual([1, 3.2, 3.2].map((x) => expect.closeTo(x, 12)));
    // Their copies: 2.001 + 1.2 and 3.001 + 0.2.
    expect(Array.from(payloadTimes(p.outgoing, DIR_FWD))).toEqual([1.001, 3.201, 3.201].map((x) => expect.closeTo(x, 12)));
  });

  it('leaves the outgoing connection of a pair that is not a relay alone', () => {
    const pair = relayedPair(false);
    const p = applyMark(pair, f64([1, 2.5, 3]));
    expect(p.outgoing).toBe(pair.outgoing);
    expect(payloadTimes(p.incoming, DIR_FWD)[1]).toBe(2.5);
  });

  it('a copy S merged from two keystrokes waits for the later one; the next copy keeps its own', () => {
    // Keystrokes reach S at 1 and 1 + 1/32; S merges them into one packet it sends at
    // 1 + 1/32 + 1/1024, and forwards the keystroke at 2 at 2 + 1/1024.
    const pair: FlowPair = {
      incoming: flowOf([[1, K, DIR_FWD], [1 + 1 / 32, K, DIR_FWD], [2, K, DIR_FWD]]),
      outgoing: flowOf([[1 + 1 / 32 + 1 / 1024, 2 * K, DIR_FWD], [2 + 1 / 1024, K, DIR_FWD]]),
      relayed: true,
      meta: { dataset: 'hand', index: 0, kind: 'hand' },
    };
    // The marker holds the second keystroke 1/2 s: it reaches S at 1.53125. The merged
    // packet was sent after the last keystroke it carries, the one at 1 + 1/32 (the last
    // to reach S before it): it leaves 1/2 s later, 1.5322265625. The copy at 2 + 1/1024
    // copies the keystroke at 2, not held: it stays. (A one-to-one matching paired the
    // merged packet with the first keystroke, left it at 1.0322265625, before the
    // keystroke it carries reached S, and moved the third copy by the second's hold.)
    const p = applyMark(pair, f64([1, 1.53125, 2]));
    expect(Array.from(payloadTimes(p.outgoing, DIR_FWD))).toEqual([1.5322265625, 2.0009765625]);
  });

  it('refuses a mark of the wrong length', () => {
    expect(() => applyMark(relayedPair(), f64([1, 2]))).toThrow(/2 times for 3 keystrokes/);
  });
});

describe('active detectors in a run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssbench-active-'));
  // Holds every keystroke 0.3 s; scores a pair by its first outgoing keystroke's time.
  const body = (mark: boolean) => `
    const firstKey = (f) => { for (let i = 0; i < f.t.length; i++) if (f.dir[i] === 0 && f.size[i] > 0) return f.t[i]; return -1; };
    export default { kind: 'detector', name: 'first-key', description: 'test', params: {},
      ${mark ? 'mark: (k) => k.map((t) => t + 0.3),' : ''}
      score: (pairs) => Float64Array.from(pairs, (p) => firstKey(p.outgoing)) };`;
  writeFileSync(join(dir, 'active.mjs'), body(true));
  writeFileSync(join(dir, 'passive.mjs'), body(false));

  it('marks only its own pairs: relays carry the hold to S’s outgoing copies, others do not', async () => {
    const c = await resolveConfig(
      {
        name: 'active',
        seed: 5,
        datasets: [{ name: 'ssh', source: 'synthetic-ssh', positives: 3, negatives: 3 }],
        scenarios: [{ name: 'none', perturbations: [] }],
        detectors: [{ name: './active.mjs', label: 'active' }, { name: './passive.mjs', label: 'passive' }],
      },
      join(dir, 'cfg.json'),
    );
    const r = await runChunk({ seed: 5, dataset: c.datasets[0], steps: [], detectors: c.detectors, start: 0, end: 6, threads: 1 });
    expect(r.errors).toEqual([null, null]);
    const [active, passive] = r.scores as Float64Array[];
    for (let i = 0; i < 6; i++) {
      if (i < 3) expect(active[i]).toBeCloseTo(passive[i] + 0.3, 9);
      else expect(active[i]).toBe(passive[i]);
    }
  });
});
