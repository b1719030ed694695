/**
 * Plugin parameters: each plugin declares its parameters with defaults; configs are
 * validated against the declaration. A small declarative form (rather than asking plugin
 * authors for a schema library) keeps plugins dependency-free and lets `list` print them.
 */
import { z } from 'zod';

export type ParamSpec =
  | { type: 'number'; default: number; min?: number; max?: number; description: string; unit?: string }
  | { type: 'integer'; default: number; min?: number; max?: number; description: string; unit?: string }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'enum'; values: readonly string[]; default: string; description: string }
  | { type: 'string'; default: string; description: string }
  /** A file, relative to the config file that names it; '' for none. */
  | { type: 'path'; default: string; description: string };

export type ParamSpecs = Record<string, ParamSpec>;

export type ParamValue = number | boolean | string;
export type Params = Record<string, ParamValue>;

/** The TypeScript type of the resolved parameters of a declaration. */
export type ParamsOf<S extends ParamSpecs> = string extends keyof S
  ? Params
  : {
      [K in keyof S]: S[K] extends { type: 'boolean' }
        ? boolean
        : S[K] extends { type: 'enum'; values: readonly (infer V)[] }
          ? V
          : S[K] extends { type: 'string' | 'path' }
            ? string
            : number;
    };

function valueSchema(spec: ParamSpec): z.ZodType<ParamValue> {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      let s = spec.type === 'integer' ? z.number().int() : z.number();
      if (spec.min !== undefined) s = s.min(spec.min);
      if (spec.max !== undefined) s = s.max(spec.max);
      return s;
    }
    case 'boolean':
      return z.boolean();
    case 'enum':
      return z.enum(spec.values as [string, ...string[]]);
    case 'string':
    case 'path':
      return z.string();
  }
}

/** Describes what a parameter accepts, for error messages and `list`. */
export function describeType(spec: ParamSpec): string {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const word = spec.type === 'integer' ? 'an integer' : 'a number';
      if (spec.min !== undefined && spec.max !== undefined) return `${word} in [${spec.min}, ${spec.max}]`;
      if (spec.min !== undefined) return `${word} >= ${spec.min}`;
      if (spec.max !== undefined) return `${word} <= ${spec.max}`;
      return word;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string':
      return 'a string';
    case 'path':
      return 'a file path (relative to the config file)';
  }
}

export interface ParamIssue {
  /** Path below the params object, e.g. ["ratio", 2]. */
  path: (string | number)[];
  message: string;
}

/**
 * Validates raw config values against a declaration. With `sweepable`, a parameter may be
 * given as a non-empty list of values (a sweep). Returns the issues, or the values with
 * defaults filled in (lists kept as lists).
 */
export function checkParams(
  specs: ParamSpecs,
  raw: unknown,
  sweepable: boolean,
): { ok: true; value: Record<string, ParamValue | ParamValue[]> } | { ok: false; issues: ParamIssue[] } {
  const issues: ParamIssue[] = [];
  const value: Record<string, ParamValue | ParamValue[]> = {};
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: [], message: 'expected an object of parameters' }] };
  }
  const given = raw as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in specs)) {
      const known = Object.keys(specs);
      issues.push({
        path: [key],
        message: `unknown parameter${known.length ? `; expected one of ${known.join(', ')}` : '; this plugin takes none'}`,
      });
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const v = given[key];
    if (v === undefined) {
      value[key] = spec.default;
      continue;
    }
    const schema = valueSchema(spec);
    if (sweepable && Array.isArray(v)) {
      if (v.length === 0) {
        issues.push({ path: [key], message: `expected ${describeType(spec)} or a non-empty list of them` });
        continue;
      }
      v.forEach((item, i) => {
        if (!schema.safeParse(item).success) {
          issues.push({ path: [key, i], message: `expected ${describeType(spec)}, got ${JSON.stringify(item)}` });
        }
      });
      value[key] = v as ParamValue[];
    } else if (!schema.safeParse(v).success) {
      const sweepNote = sweepable ? ' (or a list of them to sweep)' : '';
      issues.push({ path: [key], message: `expected ${describeType(spec)}${sweepNote}, got ${JSON.stringify(v)}` });
    } else {
      value[key] = v as ParamValue;
    }
  }
  return issues.length ? { ok: false, issues } : { ok: true, value };
}

/** Every parameter at its default: what a plugin gets when the config names none. */
export function defaultParams<S extends ParamSpecs>(specs: S): ParamsOf<S> {
  const out: Params = {};
  for (const [k, s] of Object.entries(specs)) out[k] = s.default;
  return out as ParamsOf<S>;
}
