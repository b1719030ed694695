/** From scores to the cells of summary.json: one per (dataset, setting, detector). */
import type { RunConfig } from './config.js';
import { cellMetrics } from './metrics.js';
import type { ParamValue } from './params.js';
import type { RunOutcome } from './runner.js';

export interface Cell {
  detector: string;
  dataset: string;
  scenario: string;
  /** Column label of the setting in the tables. */
  level: string;
  setting: Record<string, ParamValue>;
  positives: number;
  negatives: number;
  auc: number | null;
  auc_ci: [number, number] | null;
  tpr_at_fpr: Record<string, number>;
  tpr_ci: Record<string, [number, number]>;
  /** False where the negatives are too few (< 1/FPR) to resolve that FPR. */
  fpr_resolvable: Record<string, boolean>;
  /** Set when the detector failed on this cell; the metrics are then null or empty. */
  error?: string;
}

export interface Summary {
  name: string;
  description: string;
  seed: number;
  fpr: number[];
  bootstrap: number;
  confidence: number;
  cells: Cell[];
}

export function cellKey(dataset: string, scenario: string, level: string, detector: string): string {
  return `${dataset}/${scenario}/${level}/${detector}`;
}

export function summarize(c: RunConfig, outcome: RunOutcome): Summary {
  const cells: Cell[] = [];
  outcome.plan.groups.forEach((g, gi) => {
    if (!outcome.included[gi]) return;
    const { positives, negatives } = g.dataset;
    c.detectors.forEach((d, di) => {
      const base = {
        detector: d.label,
        dataset: g.dataset.name,
        scenario: g.setting.scenario,
        level: g.setting.label,
        setting: g.setting.values,
        positives,
        negatives,
      };
      const errors = outcome.groups[gi].errors[di];
      if (errors.length) {
        cells.push({ ...base, auc: null, auc_ci: null, tpr_at_fpr: {}, tpr_ci: {}, fpr_resolvable: {}, error: errors.join('; ') });
        return;
      }
      const s = outcome.groups[gi].scores[di];
      const m = cellMetrics(s.subarray(0, positives), s.subarray(positives), c.fpr, {
        bootstrap: c.bootstrap,
        confidence: c.confidence,
        seed: c.seed,
        key: cellKey(base.dataset, base.scenario, base.level, base.detector),
      });
      cells.push({
        ...base,
        auc: m.auc,
        auc_ci: m.aucCi,
        tpr_at_fpr: m.tpr,
        tpr_ci: m.tprCi,
        fpr_resolvable: m.fprResolvable,
      });
    });
  });
  return {
    name: c.name,
    description: c.description,
    seed: c.seed,
    fpr: c.fpr,
    bootstrap: c.bootstrap,
    confidence: c.confidence,
    cells,
  };
}
