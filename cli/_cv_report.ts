// `cv`'s numbers and lines: the paper's Table 4 layout over all cases and over folds, and the postprocessing search.

import { REGIONS } from "../data/labels.ts";
import type { CaseScores, RegionScores } from "../data/metrics.ts";
import type { CandidateScore } from "../data/postprocess_search.ts";

// The paper's Table 4 order: Dice, sensitivity, PPV.
const MEASURES = ["dice", "sensitivity", "ppv"] as const;
type Measure = typeof MEASURES[number];

/** Dice, sensitivity and PPV per region. */
export type Table4 = Record<Measure, RegionScores>;

/** Table 4's numbers: means over all cases, and mean and sd of the per-fold means. */
export interface FoldStats {
  /** Means over all cases. */
  all: Table4;
  /** Mean of the folds' means. */
  foldMean: Table4;
  /** Sample standard deviation of the folds' means (0 for one fold). */
  foldSd: Table4;
  /** Each fold's means, by fold. */
  byFold: { fold: number; cases: number; mean: Table4 }[];
}

/** What `cv` found. */
export interface CvResult {
  /** The finished folds. */
  folds: number[];
  /** The out-of-fold cases and their folds. */
  cases: { id: string; fold: number }[];
  /** Scores of the predictions as written. */
  without: FoldStats;
  /** Scores with the chosen postprocessing. */
  with: FoldStats;
  /** The chosen postprocessing. */
  postprocessing: CandidateScore;
  /** Every candidate tried. */
  candidates: CandidateScore[];
}

const table = (f: (m: Measure, r: keyof RegionScores) => number): Table4 =>
  Object.fromEntries(
    MEASURES.map((m) => [m, Object.fromEntries(REGIONS.map((r) => [r, f(m, r)]))]),
  ) as unknown as Table4;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Table 4's numbers from per-case scores and each case's fold.
 *
 * @example
 * ```ts
 * import { foldStats } from "./_cv_report.ts";
 * const r = (x: number) => ({ whole: x, core: x, enhancing: x });
 * const score = (x: number) => ({ dice: r(x), ppv: r(x), sensitivity: r(x) });
 * const stats = foldStats([score(0.8), score(0.6), score(1)], [0, 0, 1]);
 * console.log(stats.all.dice.whole, stats.foldMean.dice.whole, stats.foldSd.dice.whole);
 * // 0.8 (all three cases), 0.85 (folds 0.7 and 1), 0.212… (their sd)
 * ```
 */
export function foldStats(
  scores: readonly Pick<CaseScores, Measure>[],
  folds: readonly number[],
): FoldStats {
  const ids = [...new Set(folds)].sort((a, b) => a - b);
  const perFold = (m: Measure, r: keyof RegionScores) =>
    ids.map((f) => mean(scores.filter((_, i) => folds[i] === f).map((s) => s[m][r])));
  const sd = (xs: number[]) =>
    xs.length < 2
      ? 0
      : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
  return {
    all: table((m, r) => mean(scores.map((s) => s[m][r]))),
    foldMean: table((m, r) => mean(perFold(m, r))),
    foldSd: table((m, r) => sd(perFold(m, r))),
    byFold: ids.map((f, i) => ({
      fold: f,
      cases: folds.filter((x) => x === f).length,
      mean: table((m, r) => perFold(m, r)[i]),
    })),
  };
}

/** Rows of Table 4 for one set of stats. */
function tableRows(stats: FoldStats, cases: number, folds: number): string[][] {
  const cells = (f: (m: Measure, r: keyof RegionScores) => string) =>
    MEASURES.flatMap((m) => REGIONS.map((r) => f(m, r)));
  return [
    [`all ${cases} cases`, ...cells((m, r) => stats.all[m][r].toFixed(3))],
    [
      `${folds} fold${folds === 1 ? "" : "s"}, mean ± sd`,
      ...cells((m, r) => `${stats.foldMean[m][r].toFixed(3)} ± ${stats.foldSd[m][r].toFixed(3)}`),
    ],
    ...stats.byFold.map((f) => [
      `  fold ${f.fold} (${f.cases} cases)`,
      ...cells((m, r) => f.mean[m][r].toFixed(3)),
    ]),
  ];
}

/** Aligns rows into columns (first column left, the rest right). */
function align(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ")
  );
}

const describe = (c: CandidateScore) =>
  `${
    c.post.minEnhancing
      ? `enhancing under ${c.post.minEnhancing} voxels → core`
      : "no enhancing threshold"
  }, ` +
  `${c.post.largestComponent ? "largest tumour component only" : "all components kept"}`;

/**
 * The lines `cv` prints: Table 4 without and with the chosen postprocessing,
 * and the search.
 *
 * @example
 * ```ts ignore
 * import { cvLines } from "./_cv_report.ts";
 * for (const line of cvLines(result, { dir: "cv", missing: [] })) console.log(line);
 * ```
 */
export function cvLines(
  result: CvResult,
  context: { dir: string; missing: number[] },
): string[] {
  const n = result.cases.length, k = result.folds.length;
  const head = [
    "",
    ...MEASURES.flatMap((m) =>
      REGIONS.map((r) =>
        `${{ dice: "Dice", sensitivity: "Sens", ppv: "PPV" }[m]} ${r === "whole" ? "complete" : r}`
      )
    ),
  ];
  const best = result.postprocessing;
  const none = result.candidates[0];
  const lines = [
    `${k} fold${k === 1 ? "" : "s"} (${
      result.folds.join(", ")
    }), ${n} out-of-fold cases under ${context.dir}`,
    ...(context.missing.length
      ? [
        `--partial: fold${context.missing.length === 1 ? "" : "s"} ` +
        `${context.missing.join(", ")} not finished, left out`,
      ]
      : []),
    "",
    "predictions as written (no postprocessing):",
    ...align([head, ...tableRows(result.without, n, k)]),
    "",
    "postprocessing searched on these cases (mean Dice of complete, core, enhancing):",
    `  none: ${none.mean.toFixed(4)}`,
    `  chosen: ${describe(best)}: ${best.mean.toFixed(4)}`,
    "",
    "with the chosen postprocessing:",
    ...align([head, ...tableRows(result.with, n, k)]),
  ];
  return lines;
}
