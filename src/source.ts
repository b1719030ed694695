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
}

export interface SourceDefinition<S extends ParamSpecs = ParamSpecs> {
  kind: 'source';
  name: string;
  description: string;
  params: S;
  /** Rebuilds one pair from the request alone (synthetic sources regenerate it from seeds). */
  pair(req: PairRequest, params: ParamsOf<S>): FlowPair;
}

export function defineSource<S extends ParamSpecs>(s: Omit<SourceDefinition<S>, 'kind'>): SourceDefinition<S> {
  return { kind: 'source', ...s };
}

export type AnySource = SourceDefinition<ParamSpecs>;
