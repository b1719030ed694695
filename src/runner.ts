/**
 * Runs a plan on a piscina pool. Only small job descriptions cross into the workers and
 * only scores come back; results are placed by pair index, so the order in which tasks
 * finish cannot change them. Finished chunks go to the journal at once, so a killed run
 * resumes where it stopped.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { type RunConfig, publicConfig } from './config.js';
import { UserError } from './errors.js';
import type { ChunkRecord, Journal } from './journal.js';
import type { ChunkJob, ChunkResult } from './pipeline.js';
import { type Plan, makePlan } from './plan.js';

export interface GroupScores {
  /** Per detector (config order): scores by pair index, positives first. */
  scores: Float64Array[];
  /** Per detector: failure messages (empty when it scored every chunk). */
  errors: string[][];
}

export interface RunOutcome {
  plan: Plan;
  groups: GroupScores[];
  /** Which groups this run covers (all of them, unless it is a shard). */
  included: boolean[];
}

export interface Shard {
  index: number;
  count: number;
}

export interface RunOptions {
  onProgress?: (done: number, total: number) => void;
  journal?: Journal;
  /** Chunks a journal already holds: not run again. */
  done?: ChunkRecord[];
  shard?: Shard;
  /** Aborting stops handing out tasks; what finished is in the journal. */
  signal?: AbortSignal;
  /** Stop handing out tasks at the first failed chunk, and throw. */
  failFast?: boolean;
  /** Told of a chunk being retried after its worker died or it threw. */
  onWarning?: (message: string) => void;
}

/** Identifies a run's results: the resolved config without machine-specific parts. */
export function fingerprint(c: RunConfig): string {
  return createHash('sha256').update(JSON.stringify(publicConfig(c))).digest('hex');
}

/** A shard takes every n-th group (dataset × setting), so its share is fixed by the plan alone. */
export function inShard(group: number, shard?: Shard): boolean {
  return !shard || group % shard.count === shard.index;
}

export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new UserError(`--shard: expected i/n with 0 <= i < n (e.g. 0/4), got ${JSON.stringify(s)}`);
  }
  return { index, count };
}

/** The compiled worker, or a shim that loads the TypeScript one when running from sources. */
function workerFile(): string {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) return fileURLToPath(new URL('./worker-shim.mjs', import.meta.url));
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(js)) throw new UserError(`worker not found at ${js}; run "npm run build"`);
  return js;
}

export function emptyOutcome(c: RunConfig, shard?: Shard): RunOutcome {
  const plan = makePlan(c);
  return {
    plan,
    groups: plan.groups.map((g) => ({
      scores: c.detectors.map(() => new Float64Array(g.dataset.positives + g.dataset.negatives)),
      errors: c.detectors.map(() => []),
    })),
    included: plan.groups.map((_, i) => inShard(i, shard)),
  };
}

/** Puts a finished chunk's results in place. */
export function place(outcome: RunOutcome, r: ChunkRecord): void {
  const out = outcome.groups[r.group];
  r.results.forEach((s, d) => {
    if (typeof s === 'string') out.errors[d].push(s);
    else out.scores[d].set(s, r.start);
  });
}

const taskKey = (group: number, start: number) => `${group}:${start}`;

export async function runConfig(c: RunConfig, o: RunOptions = {}): Promise<RunOutcome> {
  const outcome = emptyOutcome(c, o.shard);
  const { plan } = outcome;
  const finished = new Set<string>();
  for (const r of o.done ?? []) {
    if (r.group >= plan.groups.length || finished.has(taskKey(r.group, r.start))) continue;
    finished.add(taskKey(r.group, r.start));
    place(outcome, r);
  }
  const todo = plan.tasks.filter((t) => outcome.included[t.group] && !finished.has(taskKey(t.group, t.start)));
  const total = plan.tasks.filter((t) => outcome.included[t.group]).length;
  let done = total - todo.length;
  o.onProgress?.(done, total);
  if (todo.length === 0) return outcome;

  // Workers × threads inside a detector never exceed the cores.
  const threads = Math.max(1, Math.floor(availableParallelism() / c.workers));
  const pool = new Piscina({ filename: workerFile(), minThreads: c.workers, maxThreads: c.workers, idleTimeout: 1000 });
  // A bounded number of tasks in flight keeps memory flat however many chunks a run has.
  let next = 0;
  let stoppedBy: string | undefined;
  const attempt = async (job: ChunkJob): Promise<ChunkResult | string> => {
    try {
      return (await pool.run(job)) as ChunkResult;
    } catch (e) {
      return (e as Error).message.split('\n')[0];
    }
  };
  const runOne = async (): Promise<void> => {
    while (next < todo.length && !o.signal?.aborted && !stoppedBy) {
      const task = todo[next++];
      const g = plan.groups[task.group];
      const job: ChunkJob = {
        seed: c.seed,
        dataset: g.dataset,
        steps: g.setting.steps,
        detectors: c.detectors,
        start: task.start,
        end: task.end,
        threads,
      };
      const where = `pairs ${task.start}-${task.end - 1} of ${g.dataset.name}/${g.setting.scenario}/${g.setting.label}`;
      // A task rejects when its worker dies or the source or a perturbation throws: it is
      // tried once more on a fresh worker; a second failure fails this chunk's cells only.
      let r = await attempt(job);
      if (typeof r === 'string' && !o.signal?.aborted) {
        o.onWarning?.(`${where}: ${r}; retrying on a fresh worker`);
        r = await attempt(job);
      }
      const failure = typeof r === 'string' ? r : undefined;
      const record: ChunkRecord = {
        group: task.group,
        start: task.start,
        end: task.end,
        results:
          typeof r === 'string'
            ? c.detectors.map(() => `${where} failed twice: ${failure}`)
            : r.scores.map((s, d) => s ?? r.errors[d] ?? 'unknown failure'),
      };
      const firstError = record.results.find((x): x is string => typeof x === 'string');
      // Failed chunks stay out of the journal, so that a rerun tries them again.
      if (!firstError) o.journal?.append(record);
      place(outcome, record);
      o.onProgress?.(++done, total);
      if (firstError && o.failFast) {
        stoppedBy ??= firstError;
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: c.workers * 2 }, runOne));
  } finally {
    await pool.destroy();
  }
  if (stoppedBy) throw new UserError(`stopped at the first failure (--fail-fast): ${stoppedBy}`, 1);
  if (o.signal?.aborted) throw new UserError(`interrupted after ${done} of ${total} chunks; run the same command again to resume`, 130);
  return outcome;
}
