/**
 * Tables people paste into papers: per dataset and scenario, one table per metric, with
 * detectors as rows and perturbation levels as columns.
 */
import type { Cell, Summary } from './summary.js';

interface Block {
  dataset: string;
  scenario: string;
  levels: string[];
  detectors: string[];
  cell: (detector: string, level: string) => Cell | undefined;
}

function blocks(s: Summary): Block[] {
  const out: Block[] = [];
  const seen = new Map<string, Cell[]>();
  for (const c of s.cells) {
    const k = `${c.dataset}\u0000${c.scenario}`;
    if (!seen.has(k)) seen.set(k, []);
    seen.get(k)!.push(c);
  }
  for (const cells of seen.values()) {
    const levels = [...new Set(cells.map((c) => c.level))];
    const detectors = [...new Set(cells.map((c) => c.detector))];
    const index = new Map(cells.map((c) => [`${c.detector}\u0000${c.level}`, c]));
    out.push({
      dataset: cells[0].dataset,
      scenario: cells[0].scenario,
      levels,
      detectors,
      cell: (d, l) => index.get(`${d}\u0000${l}`),
    });
  }
  return out;
}

export interface Metric {
  id: string;
  title: string;
  value: (c: Cell) => number | null;
  ci: (c: Cell) => [number, number] | null;
  /** False where the value cannot be trusted at this resolution (marked †). */
  resolvable: (c: Cell) => boolean;
}

export function metrics(s: Summary): Metric[] {
  return [
    ...s.fpr.map((f) => {
      const k = String(f);
      return {
        id: `tpr@${k}`,
        title: `Detection rate at FPR ${k}`,
        value: (c: Cell) => c.tpr_at_fpr[k] ?? null,
        ci: (c: Cell) => c.tpr_ci[k] ?? null,
        resolvable: (c: Cell) => c.fpr_resolvable[k] ?? true,
      };
    }),
    { id: 'auc', title: 'ROC AUC', value: (c) => c.auc, ci: (c) => c.auc_ci, resolvable: () => true },
  ];
}

const f3 = (v: number) => v.toFixed(3);

export function markdownTables(s: Summary): string {
  const pct = Math.round(s.confidence * 100);
  const lines: string[] = [`# ${s.name}`, ''];
  if (s.description) lines.push(s.description, '');
  lines.push(
    `Seed ${s.seed}. Each entry: point estimate [${pct}% bootstrap interval, ${s.bootstrap} resamples].`,
    'Detection rate: share of relayed pairs scoring above the threshold set on the non-relayed pairs.',
    '† marks an FPR finer than 1/(negatives): the threshold is then the highest negative score.',
    '',
  );
  for (const b of blocks(s)) {
    const first = b.cell(b.detectors[0], b.levels[0]);
    lines.push(`## ${b.dataset} · ${b.scenario}`, '', `${first?.positives ?? 0} relayed and ${first?.negatives ?? 0} non-relayed pairs per cell.`, '');
    for (const m of metrics(s)) {
      lines.push(`### ${m.title}`, '');
      lines.push(`| detector | ${b.levels.join(' | ')} |`);
      lines.push(`|---|${b.levels.map(() => '---:').join('|')}|`);
      for (const d of b.detectors) {
        const row = b.levels.map((l) => {
          const c = b.cell(d, l);
          if (!c) return '';
          if (c.error) return 'failed';
          const v = m.value(c);
          const ci = m.ci(c);
          if (v === null) return '';
          return `${f3(v)}${m.resolvable(c) ? '' : '†'}${ci ? ` [${f3(ci[0])}, ${f3(ci[1])}]` : ''}`;
        });
        lines.push(`| ${d} | ${row.join(' | ')} |`);
      }
      lines.push('');
    }
    const failed = b.detectors.flatMap((d) => b.levels.map((l) => b.cell(d, l))).filter((c) => c?.error);
    for (const c of failed) lines.push(`- failed: ${c!.detector} at ${c!.level}: ${c!.error}`);
    if (failed.length) lines.push('');
  }
  return lines.join('\n');
}

export function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Wide CSV: a row per (dataset, scenario, metric, detector), a column per level. Levels
 * of other scenarios stay empty. Lower and upper CI bounds come as their own metric rows.
 */
export function csvTable(s: Summary): string {
  const allLevels = [...new Set(s.cells.map((c) => c.level))];
  const rows: string[][] = [['dataset', 'scenario', 'metric', 'detector', ...allLevels]];
  for (const b of blocks(s)) {
    for (const m of metrics(s)) {
      const parts: [string, (c: Cell) => number | null][] = [
        [m.id, m.value],
        [`${m.id}_lo`, (c) => m.ci(c)?.[0] ?? null],
        [`${m.id}_hi`, (c) => m.ci(c)?.[1] ?? null],
      ];
      for (const [id, get] of parts) {
        for (const d of b.detectors) {
          const vals = allLevels.map((l) => {
            const c = b.cell(d, l);
            if (!c) return '';
            if (c.error) return 'failed';
            const v = get(c);
            return v === null ? '' : String(v);
          });
          rows.push([b.dataset, b.scenario, id, d, ...vals]);
        }
      }
    }
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
