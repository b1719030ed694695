/**
 * The run configuration: one JSON file. Validation happens before any work starts and
 * reports every problem as one line naming the file, the JSON path and what was expected.
 */
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError, jsonPath } from './errors.js';
import { readJson } from './json.js';
import { type ParamSpecs, type ParamValue, checkParams } from './params.js';
import { expandScenario } from './plan.js';
import { PRESETS } from './presets.js';
import type { AnySource } from './source.js';
import { type PluginKind, loadPlugin, resolvePlugin } from './registry.js';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"');

const pluginRef = z.object({ name: z.string().min(1), params: z.record(z.string(), z.unknown()).optional() });

const configSchema = z.strictObject({
  $schema: z.string().optional(),
  name: name.optional(),
  description: z.string().optional(),
  seed: z.number().int().nonnegative(),
  workers: z.number().int().min(1).max(256).optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).default(200),
  fpr: z.array(z.number().gt(0).lt(1)).min(1).default([0.01, 0.001]),
  bootstrap: z.number().int().min(0).max(100_000).default(1000),
  confidence: z.number().gt(0).lt(1).default(0.95),
  datasets: z
    .array(
      z.strictObject({
        name,
        source: z.string().min(1).default('synthetic-ssh'),
        positives: z.number().int().min(1).optional(),
        negatives: z.number().int().min(1).optional(),
        params: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
  scenarios: z
    .array(
      z
        .strictObject({
          name,
          preset: z.string().optional(),
          perturbations: z.array(pluginRef.extend({ pairs: z.enum(['relayed', 'all']).default('relayed') }).strict()).optional(),
          source: z.record(z.string(), z.unknown()).optional(),
          datasets: z.array(name).min(1).optional(),
        })
        .refine((s) => !(s.preset !== undefined && s.perturbations !== undefined), {
          message: 'expected either "perturbations" or "preset", not both',
        })
        .refine((s) => s.preset !== undefined || s.perturbations !== undefined || s.source !== undefined, {
          message: 'expected "perturbations", "preset" or "source" (what the scenario changes)',
        }),
    )
    .min(1)
    .optional(),
  detectors: z.array(pluginRef.extend({ label: name.optional() }).strict()).min(1),
});

export interface DatasetConfig {
  name: string;
  source: string;
  module: string;
  positives: number;
  negatives: number;
  /** Path parameters resolved to absolute paths, ready for the source. */
  params: Record<string, ParamValue>;
  /** The parameters as the config wrote them (paths relative to it), for the results' config.json. */
  given: Record<string, ParamValue>;
}

export interface PerturbationConfig {
  name: string;
  module: string;
  /** Values per parameter; a list is a sweep. */
  params: Record<string, ParamValue | ParamValue[]>;
  /** Perturb relayed pairs only (attackers add chaff, benign users do not), or all. */
  pairs: 'relayed' | 'all';
}

export interface ScenarioConfig {
  name: string;
  perturbations: PerturbationConfig[];
  /**
   * Source parameters the scenario sets for its datasets (a list is a sweep, like a
   * perturbation's): conditions of the traffic itself, such as the chain length.
   */
  source?: Record<string, ParamValue | ParamValue[]>;
  /** The datasets the scenario runs on; all when absent. */
  datasets?: string[];
}

export interface DetectorConfig {
  label: string;
  name: string;
  module: string;
  params: Record<string, ParamValue>;
}

export interface RunConfig {
  name: string;
  description: string;
  seed: number;
  workers: number;
  chunkSize: number;
  fpr: number[];
  bootstrap: number;
  confidence: number;
  datasets: DatasetConfig[];
  scenarios: ScenarioConfig[];
  detectors: DetectorConfig[];
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/** Reads, validates and resolves a config file. Throws one UserError listing every problem. */
export async function loadConfig(file: string, overrides: { workers?: number } = {}): Promise<RunConfig> {
  return resolveConfig(readJson(file, 'the config'), file, overrides);
}

/** Validates an already parsed config; `file` names it in errors and anchors module paths. */
export async function resolveConfig(raw: unknown, file: string, overrides: { workers?: number } = {}): Promise<RunConfig> {
  const problems: string[] = [];
  const report = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push(`${file}: ${jsonPath(path)}: ${message}`);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(issue.path, issue.message);
    throw new UserError(problems.join('\n'));
  }
  const c = parsed.data;
  const baseDir = dirname(resolve(file));

  const plugin = async (kind: PluginKind, ref: string, path: PropertyKey[]) => {
    try {
      const module = resolvePlugin(kind, ref, baseDir);
      return { module, def: await loadPlugin(kind as 'detector', module) as { params: ParamSpecs } };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      report(path, e.message);
      return undefined;
    }
  };
  const params = (specs: ParamSpecs, given: unknown, path: PropertyKey[], sweepable: boolean) => {
    const r = checkParams(specs, given, sweepable);
    if (!r.ok) {
      for (const i of r.issues) report([...path, ...i.path], i.message);
      return {};
    }
    return r.value;
  };
  const unique = (names: string[], path: (i: number) => PropertyKey[], what: string, hint = 'give each a distinct one') => {
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) report(path(i), `duplicate ${what} ${JSON.stringify(n)}; ${hint}`);
    });
  };

  const datasets: DatasetConfig[] = [];
  for (const [i, d] of c.datasets.entries()) {
    const p = await plugin('source', d.source, ['datasets', i, 'source']);
    if (!p) continue;
    const source = p.def as AnySource;
    const given = params(source.params, d.params, ['datasets', i, 'params'], false) as Record<string, ParamValue>;
    const values = { ...given };
    for (const [k, spec] of Object.entries(source.params)) {
      if (spec.type === 'path' && values[k] !== '') values[k] = resolve(baseDir, String(values[k]));
    }
    try {
      source.check?.(values);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      report(['datasets', i, 'params'], e.message);
      continue;
    }
    let { positives, negatives } = d;
    if (source.count) {
      // A recorded dataset knows how many pairs it has; a config may ask for fewer.
      let have: { positives: number; negatives: number };
      try {
        have = await source.count(values);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        report(['datasets', i, 'params'], e.message);
        continue;
      }
      for (const [key, n] of [['positives', positives], ['negatives', negatives]] as const) {
        if (n !== undefined && n > have[key]) report(['datasets', i, key], `the dataset has ${have[key]} ${key === 'positives' ? 'relayed' : 'non-relayed'} pairs; expected at most that`);
      }
      positives ??= have.positives;
      negatives ??= have.negatives;
    }
    if (positives === undefined || negatives === undefined || positives < 1 || negatives < 1) {
      const key = positives === undefined || positives < 1 ? 'positives' : 'negatives';
      report(['datasets', i, key], source.count ? `the dataset has no ${key === 'positives' ? 'relayed' : 'non-relayed'} pairs` : 'required: the number of pairs to generate (an integer >= 1)');
      continue;
    }
    datasets.push({ name: d.name, source: d.source, module: p.module, positives, negatives, params: values, given });
  }
  unique(c.datasets.map((d) => d.name), (i) => ['datasets', i, 'name'], 'dataset name');

  const scenarios: ScenarioConfig[] = [];
  for (const [i, s] of (c.scenarios ?? [{ name: 'unperturbed', perturbations: [] }]).entries()) {
    const perturbations: PerturbationConfig[] = [];
    let steps = s.perturbations ?? [];
    if (s.preset !== undefined) {
      const preset = PRESETS[s.preset];
      if (!preset) {
        report(['scenarios', i, 'preset'], `unknown preset ${JSON.stringify(s.preset)}; expected one of ${Object.keys(PRESETS).join(', ')}`);
        continue;
      }
      steps = preset.perturbations.map((q) => ({ ...q, pairs: q.pairs ?? 'relayed' }));
    }
    for (const [j, q] of steps.entries()) {
      const path = s.preset !== undefined ? ['scenarios', i, 'preset'] : ['scenarios', i, 'perturbations', j];
      const p = await plugin('perturbation', q.name, [...path, 'name']);
      if (!p) continue;
      const values = params(p.def.params, q.params, [...path, 'params'], true);
      perturbations.push({ name: q.name, module: p.module, params: values, pairs: q.pairs });
    }
    const scenario: ScenarioConfig = { name: s.name, perturbations };
    if (s.datasets !== undefined) {
      for (const [j, n] of s.datasets.entries()) {
        if (!c.datasets.some((d) => d.name === n)) {
          report(['scenarios', i, 'datasets', j], `no dataset named ${JSON.stringify(n)}; expected one of ${c.datasets.map((d) => d.name).join(', ')}`);
        }
      }
      scenario.datasets = s.datasets;
    }
    if (s.source !== undefined) {
      // Checked against the source of every dataset the scenario runs on.
      const names = new Set(s.datasets ?? datasets.map((d) => d.name));
      for (const d of datasets.filter((x) => names.has(x.name))) {
        const def = (await loadPlugin('source', d.module)) as { params: ParamSpecs };
        const all = params(def.params, s.source, ['scenarios', i, 'source'], true);
        // Only what the scenario names: the rest stays as each dataset set it.
        scenario.source = Object.fromEntries(Object.keys(s.source).filter((k) => k in all).map((k) => [k, all[k]]));
        const src = def as AnySource;
        for (const setting of expandScenario(scenario)) {
          try {
            src.check?.({ ...d.params, ...setting.source });
          } catch (e) {
            if (!(e instanceof UserError)) throw e;
            report(['scenarios', i, 'source'], `on dataset ${JSON.stringify(d.name)} at ${setting.label}: ${e.message}`);
            break;
          }
        }
      }
    }
    scenarios.push(scenario);
  }
  unique(scenarios.map((s) => s.name), (i) => ['scenarios', i, 'name'], 'scenario name');

  const detectors: DetectorConfig[] = [];
  for (const [i, d] of c.detectors.entries()) {
    const p = await plugin('detector', d.name, ['detectors', i, 'name']);
    if (!p) continue;
    const values = params(p.def.params, d.params, ['detectors', i, 'params'], false) as Record<string, ParamValue>;
    detectors.push({ label: d.label ?? d.name, name: d.name, module: p.module, params: values });
    if ((p.def as { mark?: unknown }).mark) {
      for (const [j, ds] of datasets.entries()) {
        const src = (await loadPlugin('source', ds.module)) as AnySource;
        if (src.recorded) {
          report(['detectors', i, 'name'], `detector ${JSON.stringify(d.label ?? d.name)} is active: it marks traffic upstream of the stepping stone, which dataset ${JSON.stringify(ds.name)} (datasets[${j}], recorded by ${ds.source}) cannot have; run it on generated datasets only`);
        }
      }
    }
  }
  unique(c.detectors.map((d) => d.label ?? d.name), (i) => ['detectors', i, 'label'], 'detector label', 'set a distinct "label" on each use of a detector');

  if (problems.length) throw new UserError(problems.join('\n'));
  return {
    name: c.name ?? basename(file, extname(file)),
    description: c.description ?? '',
    seed: c.seed,
    workers: overrides.workers ?? c.workers ?? defaultWorkers(),
    chunkSize: c.chunkSize,
    fpr: [...new Set(c.fpr)].sort((a, b) => b - a),
    bootstrap: c.bootstrap,
    confidence: c.confidence,
    datasets,
    scenarios,
    detectors,
  };
}

/** The config as written to a results folder: defaults filled in, no machine-specific paths. */
export function publicConfig(c: RunConfig): unknown {
  const { workers: _workers, ...rest } = c;
  return {
    ...rest,
    datasets: c.datasets.map(({ module: _m, given, params: _p, ...d }) => ({ ...d, params: given })),
    scenarios: c.scenarios.map((s) => ({ ...s, perturbations: s.perturbations.map(({ module: _m, ...p }) => p) })),
    detectors: c.detectors.map(({ module: _m, ...d }) => d),
  };
}
