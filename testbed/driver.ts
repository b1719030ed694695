/**
 * Plays the users of the testbed: an attacker who logs into S with `ssh -tt` and from the
 * shell there types `ssh target` (a real two-hop relay), benign users whose interactive
 * sessions end at S, and S's own benign outgoing sessions (interactive and scp) to other
 * servers. Every keystroke is written to the ssh client's stdin on its own, after a
 * human-like pause, so each key becomes one SSH packet on each hop (OpenSSH 9.2 sends
 * no keystroke chaff).
 *
 * Ground truth does not come from the plan but from the kernel at S: a monitor polls
 * `ss -tnp` inside S's namespace, and an outgoing connection is a relay of an incoming
 * one exactly when the ssh process that owns it descends (through the shell) from the
 * sshd process that owns the incoming connection. The attacker's local port, read with
 * `ss` inside the attacker's namespace, must agree.
 *
 * Usage: npx tsx testbed/driver.ts --config testbed/config.json --state DIR --truth FILE
 * DIR is the run's state folder from run.sh (keys/, home/ and bulk files go there).
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { type Rng, clamp, lognormal, rngFor, truncatedPareto, uniform } from '../src/rng.js';
import {
  ATTACKER, STONE, TARGET, type TestbedConfig, USER, loadConfig, nsName, peerAddr, servers, stoneAddr, stoneAddrs,
} from './config.js';

const execFileP = promisify(execFile);

// ---------------------------------------------------------------------------------------
// Time and logging

const t0 = performance.now();
const now = () => (performance.now() - t0) / 1000;
function log(msg: string): void {
  process.stderr.write(`[${now().toFixed(1).padStart(6)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------
// What the users type

const EDIT = '\u0000edit';
/** Weighted command mix: mostly short listings and file views, some long outputs, some editing. */
const COMMANDS: [number, string][] = [
  [6, 'ls'], [4, 'ls -la'], [2, 'ls -la src'], [2, 'pwd'], [2, 'id'], [1, 'whoami'], [2, 'date'],
  [2, 'uptime'], [1, 'uname -a'], [3, 'cat notes.txt'], [2, 'cat config.yaml'], [3, 'head -20 app.log'],
  [3, 'tail -n 30 app.log'], [3, 'grep -n ERROR app.log | head -20'], [2, 'grep -c WARN app.log'],
  [2, 'wc -l app.log src/*.c'], [1, 'find . -name "*.c"'], [1, 'du -sh .'], [2, 'df -h'], [1, 'free -m'],
  [2, 'ps aux | head -15'], [1, 'ps aux'], [2, 'cat src/main.c'], [1, 'cat data.csv'],
  [1, 'cut -d, -f2 data.csv | sort | uniq -c | sort -rn | head'], [1, 'ls -l /etc'],
  [0.5, 'cat app.log'], [0.5, 'ls -la /usr/bin'], [2, EDIT],
];
const COMMAND_WEIGHT = COMMANDS.reduce((s, [w]) => s + w, 0);
const EDIT_LINES = ['check backup job', 'rotate logs weekly', 'update the config', 'fix retry timeout', 'ask about quota'];
/** What the attacker may run at S before hopping on. */
const RECON = ['id', 'w', 'uname -a', 'ls -la', 'cat notes.txt'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng.next() * xs.length)];
}

function pickCommand(rng: Rng): string {
  let u = rng.next() * COMMAND_WEIGHT;
  for (const [w, c] of COMMANDS) {
    u -= w;
    if (u < 0) return c;
  }
  return COMMANDS[0][1];
}

// ---------------------------------------------------------------------------------------
// A terminal: an ssh client in a namespace, written to keystroke by keystroke

class Term {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  private out = '';
  /** Absolute offset of out[0]: old output is dropped, offsets stay valid. */
  private base = 0;
  private stderr = '';
  private lastOutput = performance.now();
  private waiters = new Set<{ re: RegExp; from: number; done: (ok: boolean) => void }>();

  constructor(ns: string, argv: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, ...argv], {
      env: { ...process.env, TERM: 'xterm', LANG: 'C', LC_ALL: 'C' },
      stdio: 'pipe',
    });
    this.proc.stdout.setEncoding('latin1');
    this.proc.stderr.setEncoding('latin1');
    this.proc.stdin.on('error', () => {});
    this.proc.stderr.on('data', (d: string) => {
      if (this.stderr.length < 4096) this.stderr += d;
    });
    this.proc.stdout.on('data', (d: string) => {
      const before = this.base + this.out.length;
      this.out += d;
      this.lastOutput = performance.now();
      for (const w of this.waiters) {
        // A prompt may straddle two chunks: look back a little before the new data.
        const from = Math.max(w.from, before - 256) - this.base;
        if (w.re.test(this.out.slice(Math.max(0, from)))) {
          this.waiters.delete(w);
          w.done(true);
        }
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code) => {
        for (const w of this.waiters) w.done(false);
        this.waiters.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  errorText(): string {
    return this.stderr.trim().split('\n').slice(-3).join(' | ');
  }

  mark(): number {
    return this.base + this.out.length;
  }

  /** The last output, escaped, for a failure message. */
  tail(n = 160): string {
    return JSON.stringify(this.out.slice(-n));
  }

  /** Resolves true once `re` matches output written after `from`, false on timeout or exit. */
  waitFor(re: RegExp, from: number, timeoutMs: number): Promise<boolean> {
    if (re.test(this.out.slice(Math.max(0, from - this.base)))) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w = {
        re,
        from,
        done: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Waits until nothing has arrived for `quietMs` (a full-screen program has drawn). */
  async waitQuiet(quietMs: number, maxMs: number): Promise<void> {
    const end = performance.now() + maxMs;
    while (performance.now() < end) {
      const idle = performance.now() - this.lastOutput;
      if (idle >= quietMs) return;
      await sleep(quietMs - idle + 5);
    }
  }

  key(ch: string): void {
    if (this.running) this.proc.stdin.write(ch, 'latin1');
  }

  /** Forget output before the current point: prompts are only ever looked for after a mark. */
  trim(): void {
    if (this.out.length > 8192) {
      const drop = this.out.length - 1024;
      this.out = this.out.slice(drop);
      this.base += drop;
    }
  }

  async close(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGTERM'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function promptOf(host: string): RegExp {
  return new RegExp(`root@${host}:[^\\r\\n]*# `);
}

// ---------------------------------------------------------------------------------------
// Typing with human timing

class Typist {
  keystrokes = 0;
  commands = 0;
  last = '';
  constructor(
    private readonly rng: Rng,
    private readonly cfg: TestbedConfig,
    /** Each session edits its own file: two vi on one file would stop at vi's swap-file question. */
    private readonly editFile: string,
  ) {}

  ikt(): number {
    const p = this.cfg.typing;
    // Keys closer than 20 ms could be read by ssh in one go and share a packet.
    return clamp(lognormal(this.rng, p.keystrokeMedian, p.keystrokeSigma), 0.02, 5);
  }

  think(): number {
    const p = this.cfg.typing;
    return truncatedPareto(this.rng, p.thinkAlpha, p.thinkMin, p.thinkMax);
  }

  async type(term: Term, text: string): Promise<void> {
    for (const ch of text) {
      term.key(ch);
      this.keystrokes++;
      await sleep(this.ikt() * 1000);
    }
  }

  /** Types a command line and Enter, and waits for `prompt` to come back. */
  async run(term: Term, line: string, prompt: RegExp, timeoutMs = 60_000): Promise<boolean> {
    this.last = line;
    await this.type(term, line);
    const m = term.mark();
    term.key('\r');
    this.keystrokes++;
    this.commands++;
    const ok = await term.waitFor(prompt, m, timeoutMs);
    term.trim();
    return ok;
  }

  /** vi: go to the end, open a line, type it, leave with :wq. */
  async edit(term: Term, prompt: RegExp): Promise<boolean> {
    this.last = `vi ${this.editFile}`;
    await this.type(term, this.last);
    term.key('\r');
    this.keystrokes++;
    this.commands++;
    await term.waitQuiet(400, 5000);
    await sleep(this.think() * 500);
    await this.type(term, 'Go');
    await this.type(term, pick(this.rng, EDIT_LINES));
    term.key('\x1b');
    this.keystrokes++;
    await sleep(Math.max(0.3, this.ikt()) * 1000);
    await this.type(term, ':wq');
    const m = term.mark();
    term.key('\r');
    this.keystrokes++;
    let ok = await term.waitFor(prompt, m, 20_000);
    if (!ok && term.running) {
      // vi is still open (an error line instead of the write): leave it as a user would.
      await this.type(term, '\x1b:q!');
      const m2 = term.mark();
      term.key('\r');
      this.keystrokes++;
      ok = await term.waitFor(prompt, m2, 20_000);
    }
    term.trim();
    return ok;
  }

  /** Commands with think times until `until` (seconds on the driver's clock). */
  async work(term: Term, prompt: RegExp, until: number): Promise<boolean> {
    while (now() < until && term.running) {
      await sleep(this.think() * 1000);
      if (now() >= until) break;
      const c = pickCommand(this.rng);
      const ok = c === EDIT ? await this.edit(term, prompt) : await this.run(term, c, prompt);
      if (!ok) return false;
    }
    return term.running;
  }
}

// ---------------------------------------------------------------------------------------
// Sessions

type Kind = 'relay' | 'benign-in' | 'benign-out' | 'bulk-out' | 'bulk-in';

interface Endpoint {
  addr: string;
  port: number;
}

interface SessionRecord {
  id: string;
  kind: Kind;
  /** Where the client runs and what it connects to. */
  from: string;
  to: string;
  plannedStart: number;
  plannedDuration: number;
  start: number;
  end: number;
  ok: boolean;
  error?: string;
  keystrokes: number;
  commands: number;
  bytes?: number;
  /** scp: whether the client (`from`) sent the file or fetched it. */
  copy?: 'upload' | 'download';
  cipher?: string;
  /** pid of the process the driver started (ssh, or scp). */
  pid: number;
  /** The client's port, seen with ss in the client's namespace (sessions that start outside S). */
  clientPort?: number;
}

interface Plan {
  id: string;
  kind: Kind;
  start: number;
  duration: number;
  server?: string;
  upload?: boolean;
  bytes?: number;
}

const CIPHERS = ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr'];

function makePlan(cfg: TestbedConfig): Plan[] {
  const s = cfg.sessions;
  const rng = rngFor(cfg.seed, 'testbed:plan', 0);
  const srv = servers(cfg);
  const plans: Plan[] = [];
  const start = () => 2 + uniform(rng, 0, s.startWindow);
  const duration = () => uniform(rng, s.durationMin, s.durationMax);
  const mb = () => Math.round(uniform(rng, s.bulkMinMB, s.bulkMaxMB) * 1e6);
  const id = (k: string, i: number) => `${k}-${String(i + 1).padStart(2, '0')}`;
  for (let i = 0; i < s.relayed; i++) plans.push({ id: id('relay', i), kind: 'relay', start: start(), duration: duration() });
  for (let i = 0; i < s.benignIn; i++) plans.push({ id: id('in', i), kind: 'benign-in', start: start(), duration: duration() });
  for (let i = 0; i < s.benignOut; i++) {
    plans.push({ id: id('out', i), kind: 'benign-out', start: start(), duration: duration(), server: srv[i % srv.length] });
  }
  for (let i = 0; i < s.bulkOut; i++) {
    plans.push({ id: id('scp-out', i), kind: 'bulk-out', start: start(), duration: 0, server: srv[i % srv.length], upload: i % 2 === 0, bytes: mb() });
  }
  for (let i = 0; i < s.bulkIn; i++) plans.push({ id: id('scp-in', i), kind: 'bulk-in', start: start(), duration: 0, bytes: mb() });
  return plans.sort((a, b) => a.start - b.start);
}

interface Ctx {
  cfg: TestbedConfig;
  state: string;
  key: string;
  terms: Set<Term>;
  stopping: boolean;
}

function sshArgs(ctx: Ctx, cipher: string): string[] {
  return [
    '-i', ctx.key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=20', '-o', `Ciphers=${cipher}`,
  ];
}

/** The local port of the port-22 connection owned by `pid` (or a descendant of it) in namespace `ns`. */
async function clientPort(ns: string, pid: number, tries = 20): Promise<number | undefined> {
  for (let i = 0; i < tries; i++) {
    const rows = await ssRows(ns).catch(() => []);
    for (const r of rows) {
      if (r.remotePort !== 22) continue;
      if (r.pids.some((p) => p === pid || ancestors(p).includes(pid))) return r.localPort;
    }
    await sleep(100);
  }
  return undefined;
}

async function interactive(ctx: Ctx, plan: Plan, rec: SessionRecord, rng: Rng): Promise<void> {
  const cfg = ctx.cfg;
  const typist = new Typist(rng, cfg, `notes-${plan.id}.txt`);
  const cipher = pick(rng, CIPHERS);
  rec.cipher = cipher;
  let ns: string;
  let addr: string;
  let landing: string;
  if (plan.kind === 'relay') {
    ns = nsName(cfg, ATTACKER);
    addr = stoneAddr(cfg, ATTACKER);
    landing = STONE;
  } else if (plan.kind === 'benign-in') {
    ns = nsName(cfg, USER);
    addr = stoneAddr(cfg, USER);
    landing = STONE;
  } else {
    ns = nsName(cfg, STONE);
    addr = peerAddr(cfg, plan.server!);
    landing = plan.server!;
  }
  const term = new Term(ns, ['ssh', '-tt', ...sshArgs(ctx, cipher), `root@${addr}`]);
  ctx.terms.add(term);
  rec.pid = term.pid;
  try {
    const first = promptOf(landing);
    if (!(await term.waitFor(first, 0, 30_000))) throw new Error(`no prompt from ${landing}: ${term.errorText()}`);
    if (plan.kind !== 'benign-out') rec.clientPort = await clientPort(ns, term.pid);
    log(`${rec.id} logged in to ${landing} from ${rec.from}${rec.clientPort ? ` (port ${rec.clientPort})` : ''}`);
    // The planned duration is the typing at the far end: for a relay, after the hop.
    if (plan.kind === 'relay') {
      const recon = Math.floor(rng.next() * 3);
      for (let i = 0; i < recon; i++) {
        await sleep(typist.think() * 1000);
        if (!(await typist.run(term, pick(rng, RECON), first))) throw new Error('lost S shell during recon');
      }
      await sleep(typist.think() * 1000);
      const tp = promptOf(TARGET);
      if (!(await typist.run(term, 'ssh target', tp, 30_000))) throw new Error('no prompt from target after ssh target');
      log(`${rec.id} hopped on to target`);
      if (!(await typist.work(term, tp, now() + plan.duration))) throw new Error('lost target shell');
      await sleep(typist.think() * 1000);
      if (!(await typist.run(term, 'exit', first, 15_000))) throw new Error('no S prompt after leaving target');
    } else if (!(await typist.work(term, first, now() + plan.duration))) {
      throw new Error(`lost ${landing} shell`);
    }
    await sleep(typist.think() * 1000);
    await typist.type(term, 'exit');
    term.key('\r');
    typist.keystrokes++;
    await term.close(15_000);
    rec.ok = true;
  } catch (e) {
    rec.error = `${(e as Error).message} (last command: ${typist.last || 'none'}; ${term.running ? 'client running' : 'client exited'}; output tail ${term.tail()})`;
    log(`${rec.id} FAILED: ${rec.error}`);
    await term.close(1000);
  } finally {
    rec.keystrokes = typist.keystrokes;
    rec.commands = typist.commands;
    ctx.terms.delete(term);
  }
}

/** Fills a file with incompressible bytes from the seeded stream. */
function writeRandomFile(path: string, bytes: number, rng: Rng): void {
  const buf = Buffer.allocUnsafe(bytes);
  let i = 0;
  for (; i + 4 <= bytes; i += 4) buf.writeUInt32LE(Math.floor(rng.next() * 0x100000000), i);
  for (; i < bytes; i++) buf[i] = Math.floor(rng.next() * 256);
  writeFileSync(path, buf);
}

async function bulk(ctx: Ctx, plan: Plan, rec: SessionRecord, rng: Rng): Promise<void> {
  const cfg = ctx.cfg;
  const cipher = pick(rng, CIPHERS);
  rec.cipher = cipher;
  rec.bytes = plan.bytes;
  rec.copy = plan.kind === 'bulk-in' || plan.upload ? 'upload' : 'download';
  const dir = join(ctx.state, 'bulk');
  const src = join(dir, `${plan.id}.bin`);
  const dst = join(dir, `${plan.id}.copy`);
  writeRandomFile(src, plan.bytes!, rng);
  let ns: string;
  let args: string[];
  if (plan.kind === 'bulk-in') {
    ns = nsName(cfg, USER);
    args = [src, `root@${stoneAddr(cfg, USER)}:${dst}`];
  } else {
    ns = nsName(cfg, STONE);
    const remote = `root@${peerAddr(cfg, plan.server!)}`;
    args = plan.upload ? [src, `${remote}:${dst}`] : [`${remote}:${src}`, dst];
  }
  const term = new Term(ns, ['scp', '-q', ...sshArgs(ctx, cipher), ...args]);
  ctx.terms.add(term);
  rec.pid = term.pid;
  try {
    if (plan.kind === 'bulk-in') {
      const port = clientPort(ns, term.pid, 50);
      const code = await term.exited;
      rec.clientPort = await port;
      if (code !== 0) throw new Error(`scp exited ${code}: ${term.errorText()}`);
    } else {
      const code = await term.exited;
      if (code !== 0) throw new Error(`scp exited ${code}: ${term.errorText()}`);
    }
    rec.ok = true;
    const [src, dst] = rec.copy === 'upload' ? [rec.from, rec.to] : [rec.to, rec.from];
    log(`${rec.id} copied ${(plan.bytes! / 1e6).toFixed(1)} MB ${src} -> ${dst}`);
  } catch (e) {
    rec.error = (e as Error).message;
    log(`${rec.id} FAILED: ${rec.error}`);
  } finally {
    ctx.terms.delete(term);
  }
}

// ---------------------------------------------------------------------------------------
// Ground truth from the kernel at S

interface SsRow {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  pids: number[];
}

async function ssRows(ns: string): Promise<SsRow[]> {
  const { stdout } = await execFileP('ip', ['netns', 'exec', ns, 'ss', '-tnpH', 'state', 'established'], { maxBuffer: 16 << 20 });
  const rows: SsRow[] = [];
  for (const line of stdout.split('\n')) {
    const m = /(\d+\.\d+\.\d+\.\d+):(\d+)\s+(\d+\.\d+\.\d+\.\d+):(\d+)/.exec(line);
    if (!m) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1]));
    rows.push({ local: m[1], localPort: Number(m[2]), remote: m[3], remotePort: Number(m[4]), pids });
  }
  return rows;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start past the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** pid's ancestors, nearest first, up to init. */
function ancestors(pid: number): number[] {
  const out: number[] = [];
  let p = parentOf(pid);
  while (p > 1 && out.length < 64) {
    out.push(p);
    p = parentOf(p);
  }
  return out;
}

interface Conn {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** 'in': S is the server; 'out': S is the client. */
  dir: 'in' | 'out';
  firstSeen: number;
  lastSeen: number;
  owners: Set<number>;
  /** For outgoing connections: every ancestor of an owner, seen while it ran. */
  lineage: Set<number>;
}

const connKey = (client: string, clientPort: number, server: string, serverPort: number) =>
  `${client}:${clientPort}>${server}:${serverPort}`;

class Monitor {
  readonly conns = new Map<string, Conn>();
  /** Relayed pairs as (incoming key, outgoing key). */
  readonly relayed = new Map<string, string>();
  snapshots = 0;
  private running = true;
  private loop: Promise<void> | null = null;

  constructor(private readonly cfg: TestbedConfig) {}

  start(periodMs: number): void {
    const ns = nsName(this.cfg, STONE);
    const mine = new Set(stoneAddrs(this.cfg));
    this.loop = (async () => {
      while (this.running) {
        try {
          this.observe(await ssRows(ns), mine);
        } catch (e) {
          log(`monitor: ${(e as Error).message}`);
        }
        await sleep(periodMs);
      }
    })();
  }

  private observe(rows: SsRow[], mine: Set<string>): void {
    const t = now();
    this.snapshots++;
    const live: Conn[] = [];
    for (const r of rows) {
      if (!mine.has(r.local)) continue;
      let c: Conn;
      if (r.localPort === 22) {
        c = this.touch(r.remote, r.remotePort, r.local, 22, 'in', t);
      } else if (r.remotePort === 22) {
        c = this.touch(r.local, r.localPort, r.remote, 22, 'out', t);
        for (const p of r.pids) for (const a of ancestors(p)) c.lineage.add(a);
      } else {
        continue;
      }
      for (const p of r.pids) c.owners.add(p);
      live.push(c);
    }
    for (const o of live) {
      if (o.dir !== 'out') continue;
      for (const i of live) {
        if (i.dir !== 'in') continue;
        if ([...i.owners].some((p) => o.lineage.has(p))) {
          const ik = connKey(i.client, i.clientPort, i.server, i.serverPort);
          const ok = connKey(o.client, o.clientPort, o.server, o.serverPort);
          const prev = this.relayed.get(ok);
          if (prev && prev !== ik) log(`monitor: ${ok} descends from two incoming connections (${prev}, ${ik})`);
          this.relayed.set(ok, ik);
        }
      }
    }
  }

  private touch(client: string, clientPort: number, server: string, serverPort: number, dir: 'in' | 'out', t: number): Conn {
    const k = connKey(client, clientPort, server, serverPort);
    let c = this.conns.get(k);
    if (!c) {
      c = { client, clientPort, server, serverPort, dir, firstSeen: t, lastSeen: t, owners: new Set(), lineage: new Set() };
      this.conns.set(k, c);
    }
    c.lastSeen = t;
    return c;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------
// The users' files

function makeHomes(ctx: Ctx): void {
  const cfg = ctx.cfg;
  const rng = rngFor(cfg.seed, 'testbed:files', 0);
  const levels = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const workers = ['api', 'worker-1', 'worker-2', 'sched', 'db'];
  for (const host of [STONE, TARGET, ...servers(cfg)]) {
    const home = join(ctx.state, 'home', host);
    mkdirSync(join(home, 'src'), { recursive: true });
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const rc = [`PS1='root@${host}:\\w# '`, 'HISTFILE=~/.bash_history', 'unset PROMPT_COMMAND'];
    if (host === STONE) rc.push("alias ssh='ssh -F ~/.ssh/config'");
    writeFileSync(join(home, '.bashrc'), rc.join('\n') + '\n');
    writeFileSync(join(home, '.bash_profile'), '[ -f ~/.bashrc ] && . ~/.bashrc\ncd "$HOME"\n');
    if (host === STONE) {
      // S's user keeps a client config: `ssh target` needs no options typed.
      const hostsCfg = [TARGET, ...servers(cfg)].map((h) => `Host ${h}\n  HostName ${peerAddr(cfg, h)}\n`).join('');
      writeFileSync(
        join(home, '.ssh', 'config'),
        `${hostsCfg}Host *\n  User root\n  IdentityFile ${ctx.key}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n` +
          '  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n',
      );
    }
    const notes = Array.from({ length: 8 + Math.floor(rng.next() * 20) }, (_, i) => `- item ${i + 1}: ${pick(rng, EDIT_LINES)}`);
    writeFileSync(join(home, 'notes.txt'), notes.join('\n') + '\n');
    writeFileSync(
      join(home, 'config.yaml'),
      `service: ${host}\nlisten: 0.0.0.0:8080\nworkers: ${2 + Math.floor(rng.next() * 8)}\nretries: 3\ntimeout_ms: 1500\nlog_level: info\n`,
    );
    const log: string[] = [];
    let t = 0;
    for (let i = 0; i < 1800 + Math.floor(rng.next() * 1200); i++) {
      t += rng.next() * 3;
      log.push(`t+${t.toFixed(3).padStart(10, '0')} ${pick(rng, levels).padEnd(5)} ${pick(rng, workers)}: job ${Math.floor(rng.next() * 1e5)} done in ${Math.floor(rng.next() * 900)} ms`);
    }
    writeFileSync(join(home, 'app.log'), log.join('\n') + '\n');
    const csv = ['id,region,status,count'];
    for (let i = 0; i < 150; i++) csv.push(`${i},${pick(rng, ['eu', 'us', 'ap', 'sa'])},${pick(rng, ['ok', 'ok', 'fail', 'skip'])},${Math.floor(rng.next() * 1000)}`);
    writeFileSync(join(home, 'data.csv'), csv.join('\n') + '\n');
    for (const name of ['main', 'util', 'net']) {
      const fns = Array.from({ length: 6 + Math.floor(rng.next() * 10) }, (_, i) =>
        `static int ${name}_step${i}(int x)\n{\n    if (x < ${Math.floor(rng.next() * 100)})\n        return x * ${1 + Math.floor(rng.next() * 9)};\n    return ${name}_step${Math.max(0, i - 1)}(x - 1);\n}\n`,
      );
      writeFileSync(join(home, 'src', `${name}.c`), `#include <stdio.h>\n\n${fns.join('\n')}`);
    }
  }
  mkdirSync(join(ctx.state, 'bulk'), { recursive: true });
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, state: { type: 'string' }, truth: { type: 'string' } } });
  if (!values.config || !values.state || !values.truth) throw new Error('usage: driver.ts --config FILE --state DIR --truth FILE');
  const cfg = loadConfig(values.config);
  const ctx: Ctx = { cfg, state: values.state, key: join(values.state, 'keys', 'client'), terms: new Set(), stopping: false };
  const onSignal = () => {
    ctx.stopping = true;
    for (const t of ctx.terms) t.proc.kill('SIGTERM');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  makeHomes(ctx);
  const plans = makePlan(cfg);
  const monitor = new Monitor(cfg);
  monitor.start(300);
  log(`${plans.length} sessions planned over ${cfg.sessions.startWindow} s`);

  const records: SessionRecord[] = [];
  const runs = plans.map(async (plan, i) => {
    const from = plan.kind === 'relay' ? ATTACKER : plan.kind === 'benign-in' || plan.kind === 'bulk-in' ? USER : STONE;
    const to = plan.kind === 'relay' ? `${STONE}->${TARGET}` : plan.kind === 'benign-in' || plan.kind === 'bulk-in' ? STONE : plan.server!;
    const rec: SessionRecord = {
      id: plan.id, kind: plan.kind, from, to, plannedStart: plan.start, plannedDuration: plan.duration,
      start: 0, end: 0, ok: false, keystrokes: 0, commands: 0, pid: -1,
    };
    records.push(rec);
    await sleep(Math.max(0, plan.start - now()) * 1000);
    rec.start = now();
    const rng = rngFor(cfg.seed, `testbed:session:${plan.id}`, i);
    if (plan.kind === 'bulk-in' || plan.kind === 'bulk-out') await bulk(ctx, plan, rec, rng);
    else await interactive(ctx, plan, rec, rng);
    rec.end = now();
  });
  await Promise.all(runs);
  // Let the last FIN/ACKs cross the links before the capture is stopped.
  await sleep(2000);
  await monitor.stop();

  // Tie each relay session to the relayed pair whose incoming side is its connection.
  const relayedByIn = new Map<string, string>();
  for (const [out, inc] of monitor.relayed) relayedByIn.set(inc, out);
  const problems: string[] = [];
  const sAtt = stoneAddr(cfg, ATTACKER);
  for (const r of records.filter((x) => x.kind === 'relay' && x.ok)) {
    const inKey = r.clientPort ? connKey(peerAddr(cfg, ATTACKER), r.clientPort, sAtt, 22) : '';
    if (!relayedByIn.has(inKey)) problems.push(`${r.id}: no relayed pair found at S for incoming ${inKey || '(port unknown)'}`);
  }
  const sessionOfIn = new Map<string, string>();
  for (const r of records) {
    if (r.clientPort && (r.from === ATTACKER || r.from === USER)) {
      sessionOfIn.set(connKey(peerAddr(cfg, r.from), r.clientPort, stoneAddr(cfg, r.from), 22), r.id);
    }
  }
  const bySessionPid = new Map(records.map((r) => [r.pid, r.id]));
  const connections = [...monitor.conns.entries()].map(([k, c]) => {
    let session: string | null = null;
    if (c.dir === 'in') session = sessionOfIn.get(k) ?? null;
    else {
      const inc = monitor.relayed.get(k);
      if (inc) session = sessionOfIn.get(inc) ?? null;
      else for (const o of [...c.owners, ...c.lineage]) if (bySessionPid.has(o)) session = bySessionPid.get(o)!;
    }
    return {
      client: c.client, client_port: c.clientPort, server: c.server, server_port: c.serverPort, dir: c.dir, session,
      first_seen: Number(c.firstSeen.toFixed(2)), last_seen: Number(c.lastSeen.toFixed(2)),
    };
  });
  const split = (k: string) => {
    const m = /^(.+):(\d+)>(.+):(\d+)$/.exec(k)!;
    return { client: m[1], client_port: Number(m[2]), server: m[3], server_port: Number(m[4]) };
  };
  const relayed = [...monitor.relayed.entries()].map(([out, inc]) => ({
    session: sessionOfIn.get(inc) ?? null, incoming: split(inc), outgoing: split(out),
  }));
  const failed = records.filter((r) => !r.ok);
  writeFileSync(
    values.truth,
    JSON.stringify({ snapshots: monitor.snapshots, sessions: records, connections, relayed, problems }, null, 1) + '\n',
  );
  log(`${records.length - failed.length}/${records.length} sessions ok; ${relayed.length} relayed pairs; ${monitor.conns.size} connections seen at S`);
  for (const p of problems) log(`problem: ${p}`);
  process.exit(failed.some((r) => r.kind === 'relay') || problems.length ? 2 : 0);
}

main().catch((e) => {
  process.stderr.write(`driver: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
