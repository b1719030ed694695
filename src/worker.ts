/** The pool's worker: plugins are loaded once per worker thread and cached by module path. */
import { type ChunkJob, type ChunkResult, runChunk } from './pipeline.js';

export default function work(job: ChunkJob): Promise<ChunkResult> {
  return runChunk(job);
}
