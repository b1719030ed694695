import { describe, expect, it } from 'vitest';
import { DIR_BWD, DIR_FWD, type Flow, FlowBuilder } from '../src/flow.js';

const rows = (f: Flow) => Array.from(f.t, (t, i) => [t, f.size[i], f.dir[i]]);

describe('FlowBuilder', () => {
  it('sorts by time, keeps push order on ties, and cuts the window', () => {
    const b = new FlowBuilder(2);
    b.push(3, 30, DIR_FWD);
    b.push(1, 10, DIR_BWD);
    b.push(2, 20, DIR_FWD);
    b.push(1, 11, DIR_FWD);
    b.push(5, 50, DIR_BWD);
    expect(rows(b.build())).toEqual([
      [1, 10, DIR_BWD],
      [1, 11, DIR_FWD],
      [2, 20, DIR_FWD],
      [3, 30, DIR_FWD],
      [5, 50, DIR_BWD],
    ]);
    expect(rows(b.build(1.5, 3))).toEqual([
      [2, 20, DIR_FWD],
      [3, 30, DIR_FWD],
    ]);
    // Both ends are inclusive; a window beside the packets is empty.
    expect(b.build(1, 3).t).toEqual(new Float64Array([1, 1, 2, 3]));
    expect(b.build(5, 5).size).toEqual(new Int32Array([50]));
    expect(b.build(6, 9).t.length).toBe(0);
    expect(b.build(-5, 0.5).t.length).toBe(0);
    expect(b.build(3.5, 4.5).t.length).toBe(0);
  });

  it('gives every flow its own packets, across many shared buffers', () => {
    // 40 flows of 700 packets (about 9 KB each) fill several of the 64 KiB buffers
    // flows are cut from; each must still hold its own packets once all are built.
    const b = new FlowBuilder();
    const flows: Flow[] = [];
    for (let k = 0; k < 40; k++) {
      b.reset();
      for (let i = 0; i < 700; i++) b.push(k * 1000 + i, k * 7 + i, (k + i) & 1);
      flows.push(b.build());
    }
    flows.forEach((f, k) => {
      expect(f.t.length).toBe(700);
      for (let i = 0; i < 700; i++) {
        if (f.t[i] !== k * 1000 + i || f.size[i] !== k * 7 + i || f.dir[i] !== ((k + i) & 1)) {
          expect({ flow: k, packet: i, row: [f.t[i], f.size[i], f.dir[i]] }).toEqual({ flow: k, packet: i, row: [k * 1000 + i, k * 7 + i, (k + i) & 1] });
        }
      }
    });
    // Times are readable as doubles wherever a flow starts in its buffer.
    for (const f of flows) expect(f.t.byteOffset % 8).toBe(0);
    // A flow bigger than a buffer gets one of its own.
    b.reset();
    for (let i = 0; i < 10_000; i++) b.push(i, i, DIR_FWD);
    const big = b.build();
    expect(big.t[9_999]).toBe(9_999);
    expect(flows[39].t[699]).toBe(39_699);
  });
});
