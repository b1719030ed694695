import { describe, expect, it } from 'vitest';
import { type Rng, normal } from '../../src/rng.js';
import { type LinkParams, LinkDirection } from '../link.js';

/** A stream that returns the given values in order and fails the test if asked for more. */
function scripted(values: number[]): Rng {
  let i = 0;
  return {
    next() {
      if (i >= values.length) throw new Error('unexpected draw');
      return values[i++];
    },
  };
}

/**
 * A uniform that normal() turns into about `target` in a single draw, and the value it
 * gives: the tests below script the jitter, whatever method normal() uses.
 */
function drawFor(target: number): { u: number[]; z: number } {
  for (let k = 1; k < 1 << 20; k++) {
    const u = [((k * 2654435761) >>> 0) / 2 ** 32];
    let z: number;
    try {
      z = normal(scripted(u));
    } catch {
      continue; // this one needed a second draw
    }
    if (Math.abs(z - target) < 0.05) return { u, z };
  }
  throw new Error(`no single draw gives ${target}`);
}

const PLUS = drawFor(2);
const MINUS = drawFor(-2);

// 8 Mbit/s is 1,000 bytes per ms: a 1,000-byte frame takes 1 ms to serialise, 100 bytes 0.1 ms.
const base: LinkParams = { delayMs: 10, jitterMs: 0, loss: 0, rateMbps: 8, queueKB: 2, reorder: false };

describe('LinkDirection', () => {
  it('serialises at the rate, adds the delay and tail-drops past the queue limit', () => {
    const l = new LinkDirection(base, scripted([]));
    // Idle link: leaves the serialiser at 1 ms, arrives 10 ms later.
    expect(l.admit(1000, 0)).toBeCloseTo(11, 9);
    // 1,000 bytes still wait (until 1 ms); 1,000 + 1,000 ≤ 2,048: queued, sent 1–2 ms.
    expect(l.admit(1000, 0)).toBeCloseTo(12, 9);
    // 2,000 waiting + 1,000 > 2,048: dropped.
    expect(l.admit(1000, 0)).toBeNull();
    // At 5 ms the serialiser is idle again (free since 2 ms): 5 + 0.5 + 10.
    expect(l.admit(500, 5)).toBeCloseTo(15.5, 9);
    expect(l.stats).toEqual({ framesIn: 4, bytesIn: 3500, lost: 0, queueDrops: 1 });
  });

  it('draws loss once per frame, before the queue', () => {
    const l = new LinkDirection({ ...base, loss: 0.5 }, scripted([0.3, 0.7]));
    // 0.3 < 0.5: lost, and it does not occupy the serialiser.
    expect(l.admit(1000, 0)).toBeNull();
    // 0.7 ≥ 0.5: kept; the link is idle, so 0 + 1 + 10.
    expect(l.admit(1000, 0)).toBeCloseTo(11, 9);
    expect(l.stats.lost).toBe(1);
  });

  it('keeps FIFO order under jitter unless reordering is allowed', () => {
    const p = { ...base, jitterMs: 1, queueKB: 64 };
    const fifo = new LinkDirection(p, scripted([...PLUS.u, ...MINUS.u]));
    // A: sent by 0.1 ms, delay 10 + z₊·1 (z₊ ≈ 2) → about 12.1.
    const a = 0.1 + 10 + PLUS.z;
    expect(fifo.admit(100, 0)).toBeCloseTo(a, 9);
    // B: sent by 0.2 ms, delay 10 + z₋ (z₋ ≈ −2) → about 8.2, but it may not pass A.
    expect(fifo.admit(100, 0.1)).toBeCloseTo(a, 9);

    const reorder = new LinkDirection({ ...p, reorder: true }, scripted([...PLUS.u, ...MINUS.u]));
    expect(reorder.admit(100, 0)).toBeCloseTo(a, 9);
    expect(reorder.admit(100, 0.1)).toBeCloseTo(0.2 + 10 + MINUS.z, 9);
  });

  it('never holds a frame for less than nothing', () => {
    const l = new LinkDirection({ ...base, delayMs: 1, jitterMs: 1 }, scripted(MINUS.u));
    // 1 + z₋ ≈ −1 ms of delay is clamped to 0: the frame arrives when it is sent, 0.1 ms.
    expect(l.admit(100, 0)).toBeCloseTo(0.1, 9);
  });
});
