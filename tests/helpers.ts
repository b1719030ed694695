/** Helpers shared by the test suites. */
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { DIR_BWD, DIR_FWD, type Flow, type FlowPair } from '../src/flow.js';
import { UserError } from '../src/errors.js';

export const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'src', 'cli.js');

/** The message a config is refused with (as if read from cfg.json); fails if it is accepted. */
export async function refusal(raw: unknown): Promise<string> {
  try {
    await resolveConfig(raw, 'cfg.json');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('config was accepted');
}

/** Compiles the project, so that CLI suites never test a stale dist/. */
export function buildCli(): string {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root]);
  return cli;
}

/** Runs the compiled CLI to completion. */
export function ssbench(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A packet of a hand-made flow, for flowOf: time (s), payload bytes (0: pure ACK), direction. */
export type Packet = readonly [t: number, size: number, dir: number];

/** Keystrokes (36-byte payloads, client to server) at the given times. */
export const fwd = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_FWD] as const);
/** Echoes (36-byte payloads, server to client) at the given times. */
export const bwd = (...times: number[]): Packet[] => times.map((t) => [t, 36, DIR_BWD] as const);
/** Pure ACKs in direction `dir` at the given times. */
export const acks = (dir: number, ...times: number[]): Packet[] => times.map((t) => [t, 0, dir] as const);

/** A hand-made pair. */
export function handPair(incoming: Flow, outgoing: Flow, relayed = false): FlowPair {
  return { incoming, outgoing, relayed, meta: { dataset: 'hand', index: 0, kind: 'hand' } };
}
