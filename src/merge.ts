/** Merging the results folders of shards into the results of the whole run. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from './config.js';
import { UserError } from './errors.js';
import { Journal, readJournal } from './journal.js';
import { type RunOutcome, emptyOutcome, fingerprint, place } from './runner.js';

/**
 * The run a results folder's config.json describes. Plugins are not loaded: merging needs
 * the plan and the metric settings only.
 */
export function configFromResults(dir: string): RunConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new UserError(`${dir}: not a results folder (no config.json)`);
  const pub = JSON.parse(readFileSync(file, 'utf8')) as Omit<RunConfig, 'workers'>;
  return {
    ...pub,
    workers: 1,
    datasets: pub.datasets.map((d) => ({ ...d, module: '', given: d.params })),
    scenarios: pub.scenarios.map((s) => ({ ...s, perturbations: s.perturbations.map((p) => ({ ...p, module: '' })) })),
    detectors: pub.detectors.map((d) => ({ ...d, module: '' })),
  };
}

export function mergeShards(dirs: string[]): { config: RunConfig; outcome: RunOutcome } {
  if (dirs.length === 0) throw new UserError('merge: name at least one shard folder');
  const config = configFromResults(dirs[0]);
  const fp = fingerprint(config);
  const outcome = emptyOutcome(config);
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const journalPath = join(dir, 'chunks.bin');
    if (!existsSync(journalPath)) throw new UserError(`${dir}: no chunks.bin; was it written by ssbench bench?`);
    const j = readJournal(journalPath);
    if (j.header.fingerprint !== fp || fingerprint(configFromResults(dir)) !== fp) {
      throw new UserError(`${dir}: holds a different run than ${dirs[0]} (their config.json differ)`);
    }
    for (const r of j.chunks) {
      const key = `${r.group}:${r.start}`;
      if (seen.has(key)) continue; // the same chunk from two shards: identical by determinism
      seen.set(key, dir);
      place(outcome, r);
    }
  }
  const missing = outcome.plan.tasks.filter((t) => !seen.has(`${t.group}:${t.start}`));
  if (missing.length) {
    const groups = [...new Set(missing.map((t) => t.group))];
    const names = groups.slice(0, 3).map((g) => {
      const s = outcome.plan.groups[g];
      return `${s.dataset.name}/${s.setting.scenario}/${s.setting.label}`;
    });
    throw new UserError(
      `merge: ${missing.length} of ${outcome.plan.tasks.length} chunks are in none of the folders (settings ${names.join(', ')}${groups.length > 3 ? ', ...' : ''}); is a shard missing or unfinished, or did chunks fail?`,
    );
  }
  return { config, outcome };
}

/** A journal of the whole run, in plan order, so a merged folder is a results folder like any other. */
export function writeMergedJournal(path: string, config: RunConfig, outcome: RunOutcome): void {
  const { journal } = Journal.open(path, { fingerprint: fingerprint(config), shard: null }, true);
  for (const t of outcome.plan.tasks) {
    const g = outcome.groups[t.group];
    journal.append({
      group: t.group,
      start: t.start,
      end: t.end,
      results: g.scores.map((s, d) => (g.errors[d].length ? g.errors[d].join('; ') : s.slice(t.start, t.end))),
    });
  }
  journal.close();
}
