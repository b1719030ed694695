/**
 * User-space link emulator: delay, jitter, loss and rate on Ethernet frames, for kernels
 * without netem.
 *
 * Each link of the config gets two TAP devices, one per end. A socat process holds each
 * TAP's file descriptor and turns every frame into one UDP datagram to this process on
 * 127.0.0.1 (and back). The TAPs are created in the root namespace, where the UDP ports
 * live, and then moved into the two hosts' namespaces; socat keeps its descriptor across
 * the move, so frames a namespace sends on its interface arrive here, and the frames we
 * send to the other socat come out of the other namespace's interface.
 *
 * Per direction a frame is dropped with probability `loss`, tail-dropped when more than
 * `queueKB` wait for the serialiser, serialised at `rateMbps`, then held for
 * `delayMs + N(0, jitterMs)` (at least 0). Unless `reorder` is set, a frame never leaves
 * before the one ahead of it, so jitter stretches gaps but keeps FIFO order as a wire does.
 * That model is link.ts; this file owns the sockets, the timers and the devices.
 *
 * Usage: npx tsx testbed/link-emulator.ts --config testbed/config.json --state DIR
 * Writes DIR/emulator.ready once every interface is up, and DIR/emulator-stats.json on
 * SIGTERM/SIGINT, after stopping its socat processes (which removes the TAP devices).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Rng, rngFor } from '../src/rng.js';
import { type LinkConfig, STONE, devName, loadConfig, nsName } from './config.js';
import { LinkDirection } from './link.js';

/** A frame may leave this much before its due time: Node's timers fire at ms granularity, late rather than early. */
const EARLY_MS = 0.25;

interface DeliveryStats {
  delivered: number;
  /** Sum and maximum of (actual send time − due time), ms: the emulator's own timing error. */
  latenessSumMs: number;
  latenessMaxMs: number;
  /** Frames sent more than 2 ms and more than 10 ms after their due time. */
  lateOver2ms: number;
  lateOver10ms: number;
  /** Sum of (due time − arrival time), ms: queueing + serialisation + delay + jitter. */
  heldSumMs: number;
}

interface Pending {
  frame: Buffer;
  arrived: number;
  due: number;
}

/** One direction of a link: the link model decides when, this sends at that time. */
class Direction {
  readonly delivery: DeliveryStats = {
    delivered: 0, latenessSumMs: 0, latenessMaxMs: 0, lateOver2ms: 0, lateOver10ms: 0, heldSumMs: 0,
  };
  private readonly model: LinkDirection;
  /** Frames in due order from `head` on (admit() keeps due times non-decreasing unless reordering). */
  private readonly q: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;

  constructor(
    readonly label: string,
    private readonly link: LinkConfig,
    rng: Rng,
    private readonly out: dgram.Socket,
    private readonly outPort: number,
  ) {
    this.model = new LinkDirection(link, rng);
  }

  push(frame: Buffer, now: number): void {
    const due = this.model.admit(frame.length, now);
    if (due === null) return;
    if (!this.link.reorder) {
      this.q.push({ frame, arrived: now, due });
    } else {
      // The insertion point is almost always at or near the tail.
      let i = this.q.length;
      while (i > this.head && this.q[i - 1].due > due) i--;
      this.q.splice(i, 0, { frame, arrived: now, due });
    }
    this.arm(now);
  }

  private arm(now: number): void {
    if (this.head >= this.q.length) return;
    const due = this.q[this.head].due;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - now - EARLY_MS));
  }

  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = performance.now();
    const s = this.delivery;
    while (this.head < this.q.length && this.q[this.head].due <= now + EARLY_MS) {
      const p = this.q[this.head];
      this.q[this.head] = undefined as unknown as Pending;
      this.head++;
      this.out.send(p.frame, this.outPort, '127.0.0.1');
      const late = now - p.due;
      s.delivered++;
      s.latenessSumMs += late;
      if (late > s.latenessMaxMs) s.latenessMaxMs = late;
      if (late > 2) s.lateOver2ms++;
      if (late > 10) s.lateOver10ms++;
      s.heldSumMs += p.due - p.arrived;
    }
    // Drop the delivered prefix now and then so the array does not grow for the whole run.
    if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q.splice(0, this.head);
      this.head = 0;
    }
    this.arm(now);
  }

  resetStats(): void {
    this.model.resetStats();
    this.delivery.delivered = 0;
    this.delivery.latenessSumMs = 0;
    this.delivery.latenessMaxMs = 0;
    this.delivery.lateOver2ms = 0;
    this.delivery.lateOver10ms = 0;
    this.delivery.heldSumMs = 0;
  }

  report() {
    const d = this.delivery;
    return {
      ...this.model.stats,
      ...d,
      meanLatenessMs: d.delivered ? d.latenessSumMs / d.delivered : 0,
      meanHeldMs: d.delivered ? d.heldSumMs / d.delivered : 0,
      pendingAtStop: this.q.length - this.head,
    };
  }
}

interface Side {
  dev: string;
  ns: string;
  addr: string;
  mac: string;
  /** Port this process receives the side's frames on. */
  emuPort: number;
  /** Port socat receives frames for the TAP on. */
  socatPort: number;
}

function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function waitForDevice(dev: string, socat: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (socat.exitCode !== null) throw new Error(`socat for ${dev} exited with ${socat.exitCode}`);
    try {
      ip(['link', 'show', 'dev', dev]);
      return;
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`TAP device ${dev} did not appear`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, state: { type: 'string' } } });
  if (!values.config || !values.state) throw new Error('usage: link-emulator.ts --config FILE --state DIR');
  const cfg = loadConfig(values.config);
  const state = values.state;
  const socats: ChildProcess[] = [];
  const directions: Direction[] = [];
  let stopping = false;

  const stop = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => {});
    stopping = true;
    for (const p of socats) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    for (let i = 0; i < 40 && socats.some((p) => p.exitCode === null && p.signalCode === null); i++) await sleep(50);
    for (const p of socats) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    const stats: Record<string, ReturnType<Direction['report']>> = {};
    for (const d of directions) stats[d.label] = d.report();
    writeFileSync(join(state, 'emulator-stats.json'), JSON.stringify(stats, null, 2) + '\n');
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  try {
    for (let li = 0; li < cfg.links.length; li++) {
      const link = cfg.links[li];
      const base = cfg.basePort + 4 * li;
      const mac = (side: number) => `02:73:62:${(li + 1).toString(16).padStart(2, '0')}:00:0${side}`;
      const sides: [Side, Side] = [
        { dev: devName(link, 's'), ns: nsName(cfg, STONE), addr: `${link.net}.1`, mac: mac(1), emuPort: base, socatPort: base + 1 },
        { dev: devName(link, 'p'), ns: nsName(cfg, link.peer), addr: `${link.net}.2`, mac: mac(2), emuPort: base + 2, socatPort: base + 3 },
      ];
      const socks = await Promise.all(sides.map((s) => bindUdp(s.emuPort)));
      // Frames from S's side go out of the peer's side and vice versa.
      const towardsPeer = new Direction(`${link.name}:${STONE}->${link.peer}`, link, rngFor(cfg.seed, `link:${link.name}:down`, 0), socks[1], sides[1].socatPort);
      const towardsStone = new Direction(`${link.name}:${link.peer}->${STONE}`, link, rngFor(cfg.seed, `link:${link.name}:up`, 0), socks[0], sides[0].socatPort);
      directions.push(towardsPeer, towardsStone);
      socks[0].on('message', (frame) => towardsPeer.push(frame, performance.now()));
      socks[1].on('message', (frame) => towardsStone.push(frame, performance.now()));

      for (const s of sides) {
        const log = openSync(join(state, `socat-${s.dev}.log`), 'a');
        const p = spawn(
          'socat',
          [
            '-b', '65536',
            `TUN,tun-type=tap,iff-no-pi,tun-name=${s.dev}`,
            `UDP-DATAGRAM:127.0.0.1:${s.emuPort},bind=127.0.0.1:${s.socatPort}`,
          ],
          { stdio: ['ignore', log, log] },
        );
        closeSync(log);
        socats.push(p);
        p.on('exit', (code, sig) => {
          if (stopping) return;
          process.stderr.write(`link-emulator: socat for ${s.dev} exited (${code ?? sig})\n`);
          void stop(1);
        });
        await waitForDevice(s.dev, p);
        ip(['link', 'set', 'dev', s.dev, 'address', s.mac]);
        ip(['link', 'set', 'dev', s.dev, 'netns', s.ns]);
        ip(['-n', s.ns, 'addr', 'add', `${s.addr}/24`, 'dev', s.dev]);
        // Offloads would let the capture show merged or unsegmented super-packets; the
        // frames on an emulated wire must be the segments TCP actually sends.
        execFileSync('ip', ['netns', 'exec', s.ns, 'ethtool', '-K', s.dev, 'gro', 'off', 'gso', 'off', 'tso', 'off'], { stdio: 'ignore' });
        ip(['-n', s.ns, 'link', 'set', 'dev', s.dev, 'up']);
      }
    }
    // Count from here: frames that waited while later links were being set up were
    // held by this process's own set-up work, not by the emulated link.
    for (const d of directions) d.resetStats();
    writeFileSync(
      join(state, 'emulator.ready'),
      JSON.stringify({ pid: process.pid, socats: socats.map((p) => p.pid) }) + '\n',
    );
    process.stderr.write(`link-emulator: ${cfg.links.length} links up (pid ${process.pid})\n`);
  } catch (e) {
    process.stderr.write(`link-emulator: ${(e as Error).message}\n`);
    await stop(1);
  }
}

void main();
