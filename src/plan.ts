/**
 * The robustness grid: datasets × scenario settings × detectors. A scenario's parameter
 * lists expand into one setting per combination (a grid), in the order the config gives.
 */
import type { DatasetConfig, PerturbationConfig, RunConfig } from './config.js';
import type { ParamValue } from './params.js';

/** One concrete perturbation: every parameter has a single value. */
export interface PerturbationStep {
  name: string;
  module: string;
  params: Record<string, ParamValue>;
  pairs: 'relayed' | 'all';
  /** Position in the scenario; part of the random stream's name. */
  position: number;
}

export interface Setting {
  scenario: string;
  /** Column label: the swept values, e.g. "ratio=0.5", or "none" for an empty scenario. */
  label: string;
  /** Every parameter of every step, keyed "<perturbation>.<param>", and "source.<param>". */
  values: Record<string, ParamValue>;
  steps: PerturbationStep[];
  /** Source parameters the setting overrides in its datasets. */
  source: Record<string, ParamValue>;
}

/** A unit of work: one chunk of pairs of one dataset under one setting, scored by every detector. */
export interface Task {
  group: number;
  start: number;
  end: number;
}

export interface Group {
  dataset: DatasetConfig;
  setting: Setting;
}

export interface Plan {
  groups: Group[];
  tasks: Task[];
}

function stepKey(steps: PerturbationConfig[], j: number): string {
  const name = steps[j].name;
  const before = steps.slice(0, j).filter((s) => s.name === name).length;
  return before ? `${name}#${before + 1}` : name;
}

export function expandScenario(scenario: RunConfig['scenarios'][number]): Setting[] {
  const steps = scenario.perturbations;
  const SOURCE = -1; // the step index of the source's axes
  const axes: { step: number; key: string; values: ParamValue[] }[] = [];
  for (const [key, v] of Object.entries(scenario.source ?? {})) if (Array.isArray(v)) axes.push({ step: SOURCE, key, values: v });
  steps.forEach((s, j) => {
    for (const [key, v] of Object.entries(s.params)) if (Array.isArray(v)) axes.push({ step: j, key, values: v });
  });
  const axisName = (step: number) => (step === SOURCE ? 'source' : stepKey(steps, step));
  const settings: Setting[] = [];
  const choose = (axis: number, picked: ParamValue[]) => {
    if (axis < axes.length) {
      for (const v of axes[axis].values) choose(axis + 1, [...picked, v]);
      return;
    }
    const concrete: PerturbationStep[] = steps.map((s, j) => {
      const params: Record<string, ParamValue> = {};
      for (const [key, v] of Object.entries(s.params)) {
        const a = axes.findIndex((x) => x.step === j && x.key === key);
        params[key] = a >= 0 ? picked[a] : (v as ParamValue);
      }
      return { name: s.name, module: s.module, params, pairs: s.pairs, position: j };
    });
    const source: Record<string, ParamValue> = {};
    for (const [key, v] of Object.entries(scenario.source ?? {})) {
      const a = axes.findIndex((x) => x.step === SOURCE && x.key === key);
      source[key] = a >= 0 ? picked[a] : (v as ParamValue);
    }
    const values: Record<string, ParamValue> = {};
    for (const [key, v] of Object.entries(source)) values[`source.${key}`] = v;
    concrete.forEach((s, j) => {
      for (const [key, v] of Object.entries(s.params)) values[`${stepKey(steps, j)}.${key}`] = v;
    });
    const multi = new Set(axes.map((a) => a.step)).size > 1;
    const label = axes.length
      ? axes.map((a, i) => `${multi ? `${axisName(a.step)}.` : ''}${a.key}=${String(picked[i])}`).join(', ')
      : steps.length || Object.keys(source).length
        ? scenario.name
        : 'none';
    settings.push({ scenario: scenario.name, label, values, steps: concrete, source });
  };
  choose(0, []);
  return settings;
}

export function makePlan(c: RunConfig): Plan {
  const groups: Group[] = [];
  for (const dataset of c.datasets) {
    for (const scenario of c.scenarios) {
      if (scenario.datasets && !scenario.datasets.includes(dataset.name)) continue;
      for (const setting of expandScenario(scenario)) {
        // A setting that changes the traffic gets its own copy of the dataset's parameters.
        const d = Object.keys(setting.source).length ? { ...dataset, params: { ...dataset.params, ...setting.source } } : dataset;
        groups.push({ dataset: d, setting });
      }
    }
  }
  const tasks: Task[] = [];
  groups.forEach((g, group) => {
    const total = g.dataset.positives + g.dataset.negatives;
    for (let start = 0; start < total; start += c.chunkSize) {
      tasks.push({ group, start, end: Math.min(total, start + c.chunkSize) });
    }
  });
  return { groups, tasks };
}
