import { describe, expect, it } from 'vitest';
import { DIR_BWD, DIR_FWD, FlowBuilder } from '../src/flow.js';
import { rngFor } from '../src/rng.js';
import {
  type ConnectionView,
  type SessionParams,
  ScriptBuffer,
  chunkBytes,
  chunkCount,
  emitConnection,
  isEnter,
  sessionScriptInto,
  splitCommands,
} from '../src/traffic/ssh-model.js';

// Every command edits a file; one character per command line and per typed line
// (geometric of mean 1), keys exactly 0.1 s apart, think times exactly 1 s.
const EDIT_ALWAYS: SessionParams = {
  keystrokeMedian: 0.1,
  keystrokeSigma: 0,
  commandLength: 1,
  thinkAlpha: 1,
  thinkMin: 1,
  thinkMax: 1,
  outputProbability: 1,
  outputMedian: 200,
  outputSigma: 0,
  outputMax: 1000,
  execMean: 0,
  enterEcho: 11,
  promptBytes: 25,
  editProbability: 1,
  editorScreen: 2000,
};

function editScript(end: number) {
  return sessionScriptInto(rngFor(1, 'editor', 0), EDIT_ALWAYS, 0, end, new ScriptBuffer());
}

describe('ssh-model: editing a file in vi', () => {
  it('types the command, waits on the screen, opens a line, types it, and leaves with :wq', () => {
    const s = editScript(3.5);
    // "v" Enter | 1 s | G o x ESC | 0.3 s | : w q Enter, 0.1 s apart otherwise.
    const t = [0, 0.1, 1.1, 1.2, 1.3, 1.4, 1.7, 1.8, 1.9, 2.0];
    expect(s.length).toBeGreaterThanOrEqual(t.length);
    for (let i = 0; i < t.length; i++) expect(s.t[i]).toBeCloseTo(t[i], 12);
    const keys = Array.from({ length: t.length }, (_, i) => [s.echo[i], s.output[i], s.exec[i], s.ends[i]]);
    expect(keys).toEqual([
      [1, 0, 0, 0], // v
      [11, 2000, 0, 0], // Enter: the editor's first screen, not the end of a command
      [22, 22, 0.001, 0], // G: two writes 1 ms apart
      [22, 95, 0.001, 0], // o: the new line in a second write
      [30, 0, 0, 0], // a character in insert mode
      [38, 46, 0.1, 0], // ESC: the cursor moves back once the escape timeout has passed
      [46, 0, 0, 0], // :
      [1, 0, 0, 0], // w
      [1, 0, 0, 0], // q
      [62, 70 + 25, 0, 1], // Enter: "written", the shell's screen and its prompt
    ]);
    // The next command starts a think time later.
    expect(s.t[10]).toBeCloseTo(3.0, 12);
  });

  it('splits off a prompt only where a command ends', () => {
    const s = editScript(2.5);
    expect(chunkCount(s, 1)).toBe(1); // the 2000-byte screen, one pty read
    expect(chunkBytes(s, 1, 0)).toBe(2000);
    expect(chunkCount(s, 5)).toBe(1); // ESC's 46 bytes, although fewer than a prompt's 25 + 25
    expect(chunkBytes(s, 5, 0)).toBe(46);
    expect(chunkCount(s, 9)).toBe(2);
    expect([chunkBytes(s, 9, 0), chunkBytes(s, 9, 1)]).toEqual([70, 25]);
    expect([1, 5, 9].map((i) => isEnter(s, i))).toEqual([false, false, true]);
  });

  it('stays in one window while the editor is open', () => {
    // switchProb 1: the user turns to the other window after every command, never inside one.
    const s = editScript(7);
    const a = new ScriptBuffer();
    const b = new ScriptBuffer();
    const [x, y] = splitCommands(rngFor(1, 'split', 0), s, 1, a, b);
    expect(x.length + y.length).toBe(s.length);
    // Each command is 10 keys (the last may be cut by the window's end): whole commands
    // alternate between the windows.
    const first = x.t[0] === 0 ? x : y;
    const second = first === x ? y : x;
    for (let i = 0; i < 10; i++) expect(first.t[i]).toBe(s.t[i]);
    for (let i = 0; i < 10; i++) expect(second.t[i]).toBe(s.t[10 + i]);
  });

  it('puts a second packet on the wire for the keys vi answers in two writes', () => {
    const s = editScript(2.5);
    const n = 10;
    const sendAt = Float64Array.from(s.t.subarray(0, n));
    // Every echo 20 ms after its key; output ready at echo + exec, paced at 1 GB/s (60 ns a packet).
    const replyAt = sendAt.map((x) => x + 0.02);
    const view: ConnectionView = {
      cipher: 'chacha20',
      sendAt,
      replyAt,
      clientAckLag: 0.02,
      clientQuickAckLag: 0.02,
      serverAcksAtS: false,
      rate: 1e9,
    };
    const b = new FlowBuilder(64);
    const sn = { ...s, length: n };
    emitConnection(b, sn, view, (i) => replyAt[i] + s.exec[i]);
    const f = b.build();
    const bwd: [number, number][] = [];
    for (let i = 0; i < f.t.length; i++) if (f.dir[i] === DIR_BWD && f.size[i] > 0) bwd.push([f.t[i], f.size[i]]);
    const fwdKeys = Array.from(f.t).filter((_, i) => f.dir[i] === DIR_FWD && f.size[i] > 0);
    expect(fwdKeys.length).toBe(n);
    // Server packets per key: v 1; Enter 1 + the screen's 2000 B + 9 B of framing in
    // two segments; G 2; o 2; x 1; ESC 2; : w q 1 each; Enter 1 + 2 (its output, its prompt).
    expect(bwd.length).toBe(1 + 3 + 2 + 2 + 1 + 2 + 3 + 3);
    const after = (k: number) => bwd.filter(([t]) => t > sendAt[k] && (k + 1 >= n || t < sendAt[k + 1]));
    // G: echo at +20 ms, the second write 1 ms later. chacha20, 22 B: 1+9+22 = 32, pad 8: 4+40+16 = 60.
    expect(after(2).map(([t]) => t - sendAt[2])).toEqual([expect.closeTo(0.02, 6), expect.closeTo(0.021, 6)]);
    expect(after(2).map(([, z]) => z)).toEqual([60, 60]);
    // ESC: the second write 100 ms after the first.
    expect(after(5).map(([t]) => t - sendAt[5])).toEqual([expect.closeTo(0.02, 6), expect.closeTo(0.12, 6)]);
  });
});
