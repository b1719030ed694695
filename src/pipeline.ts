/**
 * What a worker does with a task: rebuild the pairs of a chunk from seeds, perturb them,
 * and score them with every detector. Runs the same in a worker or in-process.
 */
import type { DatasetConfig, DetectorConfig } from './config.js';
import { applyMark } from './active.js';
import { DIR_FWD, type FlowPair, payloadTimes } from './flow.js';
import type { PerturbationStep } from './plan.js';
import { loadPlugin } from './registry.js';
import { type Rng, rngFor } from './rng.js';

/** An active detector's marker, as buildPairs applies it. */
export interface Marker {
  label: string;
  params: DetectorConfig['params'];
  mark(keystrokes: Float64Array, params: DetectorConfig['params'], rng: Rng): Float64Array;
}

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
  marker?: Marker,
): Promise<FlowPair[]> {
  const source = await loadPlugin('source', dataset.module);
  await source.prepare?.(dataset.params);
  const perturbations = await Promise.all(steps.map((s) => loadPlugin('perturbation', s.module)));
  const pairs: FlowPair[] = [];
  for (let index = start; index < end; index++) {
    const relayed = index < dataset.positives;
    const rank = relayed ? index : index - dataset.positives;
    let pair = source.pair({ seed, dataset: dataset.name, index, relayed, rank }, dataset.params);
    if (marker) {
      // Marked before the relay and the evasion act, and with a stream of its own, so the
      // perturbations draw the same numbers with and without a marker.
      const rng = rngFor(seed, `mark/${dataset.name}/${marker.label}`, index);
      pair = applyMark(pair, marker.mark(payloadTimes(pair.incoming, DIR_FWD), marker.params, rng));
    }
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
  const defs = await Promise.allSettled(job.detectors.map((d) => loadPlugin('detector', d.module)));
  // Passive detectors share one set of pairs; an active one gets the pairs it marked. A
  // source or perturbation that throws fails the task (it is retried), not a detector.
  const anyPassive = defs.some((r) => r.status === 'fulfilled' && !r.value.mark);
  const shared = anyPassive ? await buildPairs(job.seed, job.dataset, job.steps, job.start, job.end) : [];
  const scores: (Float64Array | null)[] = [];
  const errors: (string | null)[] = [];
  for (const [k, d] of job.detectors.entries()) {
    try {
      const loaded = defs[k];
      if (loaded.status === 'rejected') throw loaded.reason;
      const det = loaded.value;
      const mark = det.mark;
      const pairs = mark
        ? await buildPairs(job.seed, job.dataset, job.steps, job.start, job.end, { label: d.label, params: d.params, mark })
        : shared;
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
