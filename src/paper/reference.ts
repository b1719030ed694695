/**
 * What "Evading stepping-stone detection with enough chaff" (Clausen, Gibson & Aspinall,
 * NSS 2020) reports, for the comparison beside ssbench's regenerated numbers.
 *
 * Read from the paper's camera-ready text and figure source (the author's repository
 * hc2116/PhD_project, StepstoneProject/). Values the figures give as "≈0" or "≈.01" are
 * stored as those numbers. Caveat, stated wherever these are shown: in every public
 * version of the figure source, the curves come from simulated scores and hard-coded
 * vectors; no public code produces them from detector output.
 */

export const PAPER_CITATION =
  'H. Clausen, M. S. Gibson, D. Aspinall. Evading stepping-stone detection with enough chaff. Network and System Security (NSS 2020), LNCS, Springer.';

/** The false-positive rate at which the paper reports detection rates. */
export const PAPER_FPR = 0.004;

/** The eight methods, in the paper's order. */
export const PAPER_METHODS = ['PContext', 'DeepCorr', 'WuNeur', 'RWalk', 'C-Over', 'Ano1', 'Ano2', 'WM'] as const;
export type PaperMethod = (typeof PAPER_METHODS)[number];

export interface PaperSweep {
  /** What the sweep varies, as the paper words it. */
  title: string;
  unit: string;
  levels: number[];
  /** Detection rate at FPR 0.4 % per method and level; methods the paper did not plot are absent. */
  rates: Partial<Record<PaperMethod, number[]>>;
}

export const PAPER_SWEEPS: Record<'chaff' | 'delay' | 'chain', PaperSweep> = {
  chaff: {
    title: 'chaff-to-real packet ratio',
    unit: '',
    levels: [0, 0.1, 0.3, 0.5, 1, 2, 3, 5],
    rates: {
      PContext: [0.89, 0.87, 0.83, 0.58, 0.31, 0.12, 0, 0],
      DeepCorr: [0.78, 0.76, 0.72, 0.71, 0.65, 0.41, 0.18, 0.14],
      WuNeur: [0.34, 0.35, 0.28, 0.1, 0.01, 0.01, 0.01, 0.02],
      RWalk: [0.17, 0.17, 0.18, 0.12, 0.13, 0.08, 0.03, 0.02],
      'C-Over': [0.43, 0.42, 0.45, 0.46, 0.37, 0.28, 0.07, 0.04],
      Ano1: [0.01, 0.12, 0.18, 0.21, 0.26, 0.18, 0.03, 0.01],
      Ano2: [0.02, 0.22, 0.32, 0.38, 0.47, 0.32, 0.05, 0.02],
      WM: [0.999, 0.99, 0.95, 0.87, 0.78, 0.25, 0.16, 0.05],
    },
  },
  delay: {
    title: 'delay bound δD',
    unit: 's',
    levels: [0, 0.05, 0.1, 0.3, 0.5, 1, 1.5],
    rates: {
      PContext: [0.89, 0.87, 0.63, 0.34, 0.12, 0.09, 0.07],
      DeepCorr: [0.82, 0.81, 0.79, 0.73, 0.75, 0.73, 0.71],
      WuNeur: [0.34, 0.35, 0.28, 0.1, 0.01, 0.01, 0.01],
      RWalk: [0.15, 0.15, 0.16, 0.11, 0.11, 0.07, 0.02],
      'C-Over': [0.43, 0.42, 0.37, 0.48, 0.51, 0.48, 0.5],
      Ano1: [0, 0, 0.08, 0.37, 0.68, 0.91, 0.88],
      Ano2: [0, 0, 0.1, 0.17, 0.54, 0.86, 0.89],
      WM: [0.999, 0.99, 0.95, 0.87, 0.31, 0.04, 0.04],
    },
  },
  chain: {
    title: 'stepping stones in the chain',
    unit: '',
    levels: [1, 3, 5, 8],
    rates: {
      WuNeur: [0.17, 0.41, 0.49, 0.43],
      RWalk: [0.04, 0.08, 0.19, 0.29],
      'C-Over': [0.12, 0.19, 0.45, 0.59],
    },
  },
};

/** AUC as the paper's Tables 3–5 give it (no evasion; δD = 1 s; 300 % chaff); absent where not reported. */
export const PAPER_AUC: Record<'none' | 'delay-1s' | 'chaff-300', Partial<Record<PaperMethod, number>>> = {
  none: { PContext: 0.998, DeepCorr: 0.997, WuNeur: 0.938, RWalk: 0.853, 'C-Over': 0.965, WM: 0.9998 },
  'delay-1s': { PContext: 0.638, DeepCorr: 0.995, WuNeur: 0.613, RWalk: 0.641, 'C-Over': 0.952, Ano1: 0.997, Ano2: 0.996, WM: 0.562 },
  'chaff-300': { PContext: 0.639, DeepCorr: 0.886, WuNeur: 0.615, RWalk: 0.641, 'C-Over': 0.589, Ano1: 0.782, Ano2: 0.738, WM: 0.839 },
};
