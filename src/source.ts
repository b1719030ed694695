/** The source contract: where the pairs of a dataset come from. */
import type { FlowPair } from './flow.js';
import type { ParamSpecs, ParamsOf } from './params.js';

export interface PairRequest {
  /** The run seed. */
  seed: number;
  /** Dataset name; part of every random stream, so two datasets never share pairs. */
  dataset: string;
  /** Pair index in the dataset. */
  index: number;
  relayed: boolean;
  /**
   * Position among the pairs of its class: `index` for relayed pairs, `index − positives`
   * for the others. The harness always sets it; a direct caller that leaves it out means
   * `index`.
   */
  rank?: number;
}

export interface SourceDefinition<S extends ParamSpecs = ParamSpecs> {
  kind: 'source';
  name: string;
  description: string;
  params: S;
  /** Rebuilds one pair from the request alone (synthetic sources regenerate it from seeds). */
  pair(req: PairRequest, params: ParamsOf<S>): FlowPair;
  /**
   * Called, and awaited, before the first `pair` with these parameters in a worker: the
   * place for asynchronous work such as reading a capture. Optional.
   */
  prepare?(params: ParamsOf<S>): Promise<void>;
  /**
   * Checks rules that span several parameters (one parameter's range is checked from its
   * declaration); throws a UserError saying what is wrong. Called on every combination a
   * config asks for, before any work starts.
   */
  check?(params: ParamsOf<S>): void;
  /**
   * Recorded sources (captures) only: how many relayed and non-relayed pairs the data
   * holds; a dataset of such a source may then leave `positives` and `negatives` out.
   * Throws a UserError naming the file when the data cannot be read.
   */
  count?(params: ParamsOf<S>): { positives: number; negatives: number } | Promise<{ positives: number; negatives: number }>;
  /**
   * True when the pairs were recorded rather than generated: nothing upstream of the
   * monitor can be changed, so active detectors cannot mark them.
   */
  recorded?: boolean;
}

export function defineSource<S extends ParamSpecs>(s: Omit<SourceDefinition<S>, 'kind'>): SourceDefinition<S> {
  return { kind: 'source', ...s };
}

export type AnySource = SourceDefinition<ParamSpecs>;
