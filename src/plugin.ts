/**
 * The plugin contracts. A detector or perturbation is a module whose default export is
 * the object built by defineDetector / definePerturbation.
 */
import type { FlowPair } from './flow.js';
import type { ParamSpecs, ParamsOf } from './params.js';
import type { Rng } from './rng.js';

/** What the harness tells a detector about where it runs. */
export interface ScoreContext {
  /** Threads this worker may use for its own parallelism (cores / workers, at least 1). */
  threads: number;
}

type Scores = Float64Array | Promise<Float64Array>;

export interface DetectorDefinition<S extends ParamSpecs = ParamSpecs, R extends Scores = Scores> {
  kind: 'detector';
  name: string;
  /** One line for `list`. */
  description: string;
  /** The paper the detector implements. */
  citation?: string;
  params: S;
  /**
   * Scores a batch of pairs; higher means "more likely relayed". The score of a pair must
   * depend on that pair and the parameters only, never on the rest of the batch, so that
   * results do not depend on how pairs are chunked. May be async (a model runtime).
   */
  score(pairs: readonly FlowPair[], params: ParamsOf<S>, context?: ScoreContext): R;
  /**
   * Active detectors only (a flow watermark): marks the incoming connection upstream of S,
   * before S forwards it and before any perturbation. Gets the times of the incoming
   * connection's keystrokes (its forward payload packets, the only ones a TCP-terminating
   * relay forwards), sorted, and returns their new times, same length. The harness keeps
   * them causal (never earlier than given, in order: a held packet holds the ones behind
   * it), moves the echoes and ACKs that answer them and, on relayed pairs, the copies S
   * forwards (src/active.ts); then perturbs and calls `score` as usual. `rng` is a per-pair
   * stream for markers that randomise. Only sources that generate traffic can be marked.
   */
  mark?(keystrokes: Float64Array, params: ParamsOf<S>, rng: Rng): Float64Array;
}

export type PairSide = 'incoming' | 'outgoing' | 'both';

export interface PerturbationDefinition<S extends ParamSpecs = ParamSpecs> {
  kind: 'perturbation';
  name: string;
  description: string;
  /** Which connection(s) of a pair it may change; informative, shown by `list`. */
  touches: PairSide;
  params: S;
  /**
   * Returns the perturbed pair (a new object; the input may be shared). All randomness
   * must come from `rng`, which is seeded per pair.
   */
  apply(pair: FlowPair, params: ParamsOf<S>, rng: Rng): FlowPair;
  /**
   * True when these parameter values leave every pair unchanged (e.g. chaff ratio 0),
   * so the harness can skip the call. Optional.
   */
  isIdentity?(params: ParamsOf<S>): boolean;
}

/** The definition as given, its score's return type kept (synchronous detectors stay so for callers). */
export function defineDetector<S extends ParamSpecs, R extends Scores>(d: Omit<DetectorDefinition<S, R>, 'kind'>): DetectorDefinition<S, R> {
  return { kind: 'detector', ...d };
}

export function definePerturbation<S extends ParamSpecs>(
  p: Omit<PerturbationDefinition<S>, 'kind'>,
): PerturbationDefinition<S> {
  return { kind: 'perturbation', ...p };
}

export type AnyDetector = DetectorDefinition<ParamSpecs>;
export type AnyPerturbation = PerturbationDefinition<ParamSpecs>;
