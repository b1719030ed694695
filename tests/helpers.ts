/** Helpers shared by the test suites. */
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { resolveConfig } from '../src/config.js';
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
