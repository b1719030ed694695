/**
 * A worker thread of `npm run perf`: builds pairs, then times one detector scoring them,
 * so that several of these running at once measure a detector's scaling over threads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FlowPair } from '../src/flow.js';
import { defaultParams } from '../src/params.js';
import { loadPlugin, resolvePlugin } from '../src/registry.js';

interface Job {
  detector: string;
  pairs: number;
  batchSize?: number;
  threads: number;
  repeats: number;
  offset: number;
}

const job = workerData as Job;
const source = await loadPlugin('source', resolvePlugin('source', 'synthetic-ssh', process.cwd()));
const det = await loadPlugin('detector', resolvePlugin('detector', job.detector, process.cwd()));
const sp = defaultParams(source.params);
const pairs: FlowPair[] = Array.from({ length: job.pairs }, (_, i) =>
  source.pair({ seed: 2, dataset: 'perf', index: job.offset + i, relayed: i % 2 === 0 }, sp),
);
const params = { ...defaultParams(det.params), ...(job.batchSize ? { batchSize: job.batchSize } : {}) };
await det.score(pairs, params, { threads: job.threads });
const runs: number[] = [];
for (let r = 0; r < job.repeats; r++) {
  const t0 = performance.now();
  await det.score(pairs, params, { threads: job.threads });
  runs.push((performance.now() - t0) / 1000);
}
runs.sort((a, b) => a - b);
parentPort!.postMessage(runs[runs.length >> 1]);
