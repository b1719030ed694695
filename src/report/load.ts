/** What a report reads from a results folder. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Summary } from '../summary.js';

export interface Results {
  dir: string;
  summary: Summary;
  /** config.json as written by the run (defaults filled in), if present. */
  config: Record<string, unknown> | null;
  configText: string | null;
  /** The run's identity as bench computes it for its journal: sha256 of the config JSON. */
  fingerprint: string | null;
  /** run.json: version, Node.js, workers, wall time, when it finished. */
  run: Record<string, unknown> | null;
  /** Path of scores.csv.gz, if present (ROC curves need it). */
  scores: string | null;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function readResults(dir: string): Results {
  const summaryFile = join(dir, 'summary.json');
  if (!existsSync(summaryFile)) throw new UserError(`${dir}: not a results folder (no summary.json); run "ssbench bench" first`);
  const summary = readJson(summaryFile) as Summary;
  if (!summary || !Array.isArray(summary.cells) || !Array.isArray(summary.fpr)) {
    throw new UserError(`${summaryFile}: not an ssbench summary (no "cells" or "fpr")`);
  }
  const configFile = join(dir, 'config.json');
  const configText = existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
  const config = configText === null ? null : (readJson(configFile) as Record<string, unknown>);
  const runFile = join(dir, 'run.json');
  const scores = join(dir, 'scores.csv.gz');
  return {
    dir,
    summary,
    config,
    configText,
    fingerprint: config ? createHash('sha256').update(JSON.stringify(config)).digest('hex') : null,
    run: existsSync(runFile) ? (readJson(runFile) as Record<string, unknown>) : null,
    scores: existsSync(scores) ? scores : null,
  };
}
