/**
 * The testbed's configuration: a star of emulated links around the stepping stone S,
 * the session mix the driver plays, and the typing model. Shared by link-emulator.ts,
 * driver.ts and label.ts so that all three derive the same names and addresses.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Link = z.object({
  /** Short name; the TAP devices are ssb-<name>-s (at S) and ssb-<name>-p (at the peer). */
  name: z.string().regex(/^[a-z0-9]{1,6}$/),
  /** The host at the far end; one network namespace per host. */
  peer: z.string().regex(/^[a-z0-9]{1,8}$/),
  /** First three octets of the link's /24: S is .1, the peer .2. */
  net: z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/),
  /** One-way delay added in each direction. */
  delayMs: z.number().min(0).max(2000),
  /** Standard deviation of a normal per-frame term added to the delay. */
  jitterMs: z.number().min(0).max(500),
  /** Bernoulli drop probability per frame and direction. */
  loss: z.number().min(0).max(0.5),
  /** Serialisation rate of the link (frame bytes). */
  rateMbps: z.number().positive().max(10000),
  /** Tail-drop limit on the bytes waiting for the serialiser. */
  queueKB: z.number().positive().default(128),
  /** Let jitter reorder frames (netem's default); off keeps FIFO order. */
  reorder: z.boolean().default(false),
});
export type LinkConfig = z.infer<typeof Link>;

const Sessions = z.object({
  /** Two-hop chains attacker -> S -> target. */
  relayed: z.number().int().min(1),
  /** Interactive sessions from the benign user that end at S. */
  benignIn: z.number().int().min(0),
  /** Interactive sessions S opens to the benign servers. */
  benignOut: z.number().int().min(0),
  /** scp copies between S and the benign servers (both directions). */
  bulkOut: z.number().int().min(0),
  /** scp uploads from the benign user to S. */
  bulkIn: z.number().int().min(0),
  bulkMinMB: z.number().positive(),
  bulkMaxMB: z.number().positive(),
  /** Session start times are uniform on [0, startWindow] seconds. */
  startWindow: z.number().min(0),
  /** Typing time of an interactive session, uniform on [min, max] seconds. */
  durationMin: z.number().positive(),
  durationMax: z.number().positive(),
});

const Typing = z.object({
  keystrokeMedian: z.number().positive(),
  keystrokeSigma: z.number().min(0),
  thinkAlpha: z.number().positive(),
  thinkMin: z.number().positive(),
  thinkMax: z.number().positive(),
});

const Config = z.object({
  seed: z.union([z.number(), z.string()]),
  /** Namespaces are <prefix><host>. */
  nsPrefix: z.string().regex(/^[a-z0-9-]{1,8}$/).default('ssb-'),
  /** UDP ports basePort … basePort + 4·links − 1 on 127.0.0.1 carry the frames. */
  basePort: z.number().int().min(1024).max(65000),
  /** Snap length of the capture at S: enough for Ethernet + IPv4 + the longest TCP header. */
  snaplen: z.number().int().min(94).default(96),
  links: z.array(Link).min(1),
  sessions: Sessions,
  typing: Typing,
});
export type TestbedConfig = z.infer<typeof Config>;

export const STONE = 'stone';
export const ATTACKER = 'attacker';
export const TARGET = 'target';
export const USER = 'user';

export function loadConfig(path: string): TestbedConfig {
  const parsed = Config.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  const peers = new Set<string>();
  for (const l of c.links) {
    if (l.peer === STONE) throw new Error(`link ${l.name}: the peer cannot be S itself`);
    if (peers.has(l.peer)) throw new Error(`host ${l.peer} has two links; the testbed is a star around S`);
    peers.add(l.peer);
  }
  for (const role of [ATTACKER, TARGET, USER]) {
    if (!peers.has(role)) throw new Error(`no link to the ${role} host`);
  }
  if (servers(c).length === 0) throw new Error('no benign server: add a link to a host other than attacker, target and user');
  if (c.sessions.durationMax < c.sessions.durationMin) throw new Error('sessions.durationMax < durationMin');
  if (c.sessions.bulkMaxMB < c.sessions.bulkMinMB) throw new Error('sessions.bulkMaxMB < bulkMinMB');
  return c;
}

/** Hosts other than the three fixed roles: destinations of benign outgoing sessions. */
export function servers(c: TestbedConfig): string[] {
  return c.links.map((l) => l.peer).filter((p) => p !== ATTACKER && p !== TARGET && p !== USER);
}

export function hosts(c: TestbedConfig): string[] {
  return [STONE, ...c.links.map((l) => l.peer)];
}

export function nsName(c: TestbedConfig, host: string): string {
  return `${c.nsPrefix}${host}`;
}

export function linkOf(c: TestbedConfig, peer: string): LinkConfig {
  const l = c.links.find((x) => x.peer === peer);
  if (!l) throw new Error(`no link to ${peer}`);
  return l;
}

/** S's address on the link to `peer`. */
export function stoneAddr(c: TestbedConfig, peer: string): string {
  return `${linkOf(c, peer).net}.1`;
}

/** The address of `peer` (its only interface). */
export function peerAddr(c: TestbedConfig, peer: string): string {
  return `${linkOf(c, peer).net}.2`;
}

export function stoneAddrs(c: TestbedConfig): string[] {
  return c.links.map((l) => `${l.net}.1`);
}

export function devName(l: LinkConfig, side: 's' | 'p'): string {
  return `ssb-${l.name}-${side}`;
}
