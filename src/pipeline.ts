/**
 * What a worker does with a task: rebuild the pairs of a chunk from seeds, perturb them,
 * and score them with every detector. Runs the same in a worker or in-process.
 */
import type { DatasetConfig, DetectorConfig } from './config.js';
import type { FlowPair } from './flow.js';
import type { PerturbationStep } from './plan.js';
import { loadPlugin } from './registry.js';
import { rngFor } from './rng.js';

export interface ChunkJob {
  seed: number;
  dataset: DatasetConfig;
  steps: PerturbationStep[];
  detectors: DetectorConfig[];
  start: number;
  end: number;
  /** Threads each worker may use inside a detector (cores / workers). */
  threads: number;
}

export interface ChunkResult {
  /** One score array per detector, in config order; null where that detector failed. */
  scores: (Float64Array | null)[];
  /** The failure message per detector, or null. */
  errors: (string | null)[];
}

/** Pairs [start, end) of a dataset under a setting. Indices below `positives` are relays. */
export async function buildPairs(
  seed: number,
  dataset: DatasetConfig,
  steps: PerturbationStep[],
  start: number,
  end: number,
): Promise<FlowPair[]> {
  const source = await loadPlugin('source', dataset.module);
  const perturbations = await Promise.all(steps.map((s) => loadPlugin('perturbation', s.module)));
  const pairs: FlowPair[] = [];
  for (let index = start; index < end; index++) {
    const relayed = index < dataset.positives;
    let pair = source.pair({ seed, dataset: dataset.name, index, relayed }, dataset.params);
    steps.forEach((step, j) => {
      const def = perturbations[j];
      if (!relayed && step.pairs === 'relayed') return;
      if (def.isIdentity?.(step.params)) return;
      // One stream per (dataset, position, perturbation, pair): the levels of a sweep share
      // their random numbers, so a table compares levels and not luck.
      const rng = rngFor(seed, `perturb/${dataset.name}/${step.position}/${step.name}`, index);
      pair = def.apply(pair, step.params, rng);
    });
    pairs.push(pair);
  }
  return pairs;
}

export async function runChunk(job: ChunkJob): Promise<ChunkResult> {
  const pairs = await buildPairs(job.seed, job.dataset, job.steps, job.start, job.end);
  const scores: (Float64Array | null)[] = [];
  const errors: (string | null)[] = [];
  for (const d of job.detectors) {
    try {
      const det = await loadPlugin('detector', d.module);
      const s = await det.score(pairs, d.params, { threads: job.threads });
      if (!(s instanceof Float64Array) || s.length !== pairs.length) {
        throw new Error(`returned ${s instanceof Float64Array ? s.length : typeof s} scores for ${pairs.length} pairs; expected a Float64Array of ${pairs.length}`);
      }
      const bad = s.findIndex((v) => Number.isNaN(v));
      if (bad >= 0) throw new Error(`score of pair ${job.start + bad} is NaN`);
      scores.push(s);
      errors.push(null);
    } catch (e) {
      scores.push(null);
      errors.push(`detector ${d.label} failed on pairs ${job.start}-${job.end - 1}: ${(e as Error).message}`);
    }
  }
  return { scores, errors };
}
