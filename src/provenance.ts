/**
 * The reproducibility record of a run (run.json): what produced these numbers. A reader
 * of a results folder must be able to tell which code, which runtime and which model
 * weights made it, without trusting the folder's name.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from './config.js';
import { ownPackage } from './fsutil.js';

/** Files that hold what a plugin learned or was told: weights, manifests, trained parameters. */
const MODEL_FILE = /\.(onnx|json|npy|bin)$/;

export interface Provenance {
  ssbench: string;
  /** Last commit that changed code, plugins or configs (not results), and whether those have uncommitted edits. */
  code_commit: string | null;
  code_dirty: boolean | null;
  node: string;
  onnxruntime: string | null;
  platform: string;
  cpu: string;
  /** sha256 of each model file a detector of the run loads, by detector label then file name. */
  models: Record<string, Record<string, string>>;
}

const CODE_PATHS = ['src', 'detectors', 'perturbations', 'configs', 'scripts', 'package-lock.json'];

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // not a checkout (an installed package), or no git
  }
}

function packageVersion(root: string, name: string): string | null {
  const file = join(root, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : null;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The folder a plugin module lives in when it is a plugin folder (index module or manifest), else null. */
function pluginFolder(modulePath: string): string | null {
  const path = modulePath.startsWith('file:') ? fileURLToPath(modulePath) : modulePath;
  if (!isAbsolute(path)) return null; // an installed package: its version pins it
  const name = basename(path);
  return /^index\.[mc]?[jt]s$/.test(name) || name === 'manifest.json' ? dirname(path) : null;
}

/** Model files of one detector, hashed; empty for plugins without any. */
function modelHashes(modulePath: string): Record<string, string> {
  const dir = pluginFolder(modulePath);
  const out: Record<string, string> = {};
  if (!dir) return out;
  for (const f of readdirSync(dir).sort()) {
    const file = join(dir, f);
    if (MODEL_FILE.test(f) && statSync(file).isFile()) out[f] = sha256(file);
  }
  return out;
}

export function provenance(c: RunConfig): Provenance {
  const { version, root } = ownPackage();
  const inCheckout = existsSync(join(root, '.git'));
  const commit = inCheckout ? git(root, ['log', '-1', '--format=%H', '--', ...CODE_PATHS]) : null;
  const status = inCheckout ? git(root, ['status', '--porcelain', '--', ...CODE_PATHS]) : null;
  const models: Record<string, Record<string, string>> = {};
  for (const d of c.detectors) {
    const h = modelHashes(d.module);
    if (Object.keys(h).length) models[d.label] = h;
  }
  const cpu = cpus();
  return {
    ssbench: version,
    code_commit: commit || null,
    code_dirty: status === null ? null : status.length > 0,
    node: process.version,
    onnxruntime: packageVersion(root, 'onnxruntime-node'),
    platform: `${process.platform}-${process.arch}`,
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    models,
  };
}
