/**
 * Runs a plan on a piscina pool. Only small job descriptions cross into the workers and
 * only scores come back; results are placed by pair index, so the order in which tasks
 * finish cannot change them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { RunConfig } from './config.js';
import { UserError } from './errors.js';
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
}

export interface Progress {
  (done: number, total: number): void;
}

/** The compiled worker, or a shim that loads the TypeScript one when running from sources. */
function workerFile(): string {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) return fileURLToPath(new URL('./worker-shim.mjs', import.meta.url));
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(js)) throw new UserError(`worker not found at ${js}; run "npm run build"`);
  return js;
}

export async function runConfig(c: RunConfig, onProgress?: Progress): Promise<RunOutcome> {
  const plan = makePlan(c);
  const groups: GroupScores[] = plan.groups.map((g) => ({
    scores: c.detectors.map(() => new Float64Array(g.dataset.positives + g.dataset.negatives)),
    errors: c.detectors.map(() => []),
  }));
  const pool = new Piscina({
    filename: workerFile(),
    minThreads: c.workers,
    maxThreads: c.workers,
    idleTimeout: 1000,
  });
  let done = 0;
  onProgress?.(0, plan.tasks.length);
  try {
    await Promise.all(
      plan.tasks.map(async (task) => {
        const g = plan.groups[task.group];
        const job: ChunkJob = {
          seed: c.seed,
          dataset: g.dataset,
          steps: g.setting.steps,
          detectors: c.detectors,
          start: task.start,
          end: task.end,
        };
        const r = (await pool.run(job)) as ChunkResult;
        const out = groups[task.group];
        r.scores.forEach((s, d) => {
          if (s) out.scores[d].set(s, task.start);
          else out.errors[d].push(r.errors[d] ?? 'unknown failure');
        });
        onProgress?.(++done, plan.tasks.length);
      }),
    );
  } finally {
    await pool.destroy();
  }
  return { plan, groups };
}
