// This module is browser compatible.
/**
 * Scores over many cases: means of the per-case scores of metrics.ts, and IoU
 * pooled over all voxels of all cases. Browser-safe.
 *
 * @module
 */

import { type LabelConvention, labelConvention } from "./labels.ts";
import { iouOf } from "./_confusion_scores.ts";
import type { CaseScores, RegionScores } from "./metrics.ts";

/** Scores averaged over cases, plus IoU pooled over all voxels of all cases. */
export interface ScoreSummary {
  /** Number of cases averaged. */
  cases: number;
  /** Means over cases (`iou[label]` over the cases where the label occurs). */
  mean: Omit<CaseScores, "confusion">;
  /** IoU per label from the summed confusion counts of all cases, and their mean. */
  pooled: { iou: Record<string, number>; meanIoU: number };
}

/**
 * Averages case scores, and pools IoU over all voxels of all cases.
 *
 * @example
 * ```ts
 * import { scoreCase } from "./metrics.ts";
 * import { summariseScores } from "./score_summary.ts";
 * const options = { shape: [4, 4, 2] as const, convention: "brats2017" as const };
 * const truth = new Uint8Array(32).fill(2, 0, 8);
 * const scoresA = scoreCase(truth, truth, options);
 * const scoresB = scoreCase(new Uint8Array(32), truth, options);
 * const summary = summariseScores([scoresA, scoresB], { convention: "brats2017" });
 * console.log(summary.cases, summary.mean.dice.whole); // 2 0.5: a perfect case and an empty one
 * console.log(summary.pooled.iou); // { "0": 0.857…, "2": 0.5 }: IoU over both cases' voxels
 * ```
 */
export function summariseScores(
  cases: CaseScores[],
  options: { convention: LabelConvention },
): ScoreSummary {
  const labels = labelConvention(options.convention).labels;
  const K = labels.length;
  const avg = (pick: (c: CaseScores) => number) =>
    cases.length ? cases.reduce((s, c) => s + pick(c), 0) / cases.length : NaN;
  const regions = (key: "dice" | "sensitivity" | "ppv" | "hd95"): RegionScores => ({
    whole: avg((c) => c[key].whole),
    core: avg((c) => c[key].core),
    enhancing: avg((c) => c[key].enhancing),
  });
  const iou: Record<string, number> = {};
  for (const label of labels) {
    const having = cases.filter((c) => String(label) in c.iou);
    if (having.length) iou[label] = having.reduce((s, c) => s + c.iou[label], 0) / having.length;
  }
  const total = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const c of cases) {
    for (let t = 0; t < K; t++) for (let p = 0; p < K; p++) total[t][p] += c.confusion[t][p];
  }
  return {
    cases: cases.length,
    mean: {
      dice: regions("dice"),
      sensitivity: regions("sensitivity"),
      ppv: regions("ppv"),
      hd95: regions("hd95"),
      iou,
      meanIoU: avg((c) => c.meanIoU),
    },
    pooled: iouOf(total, labels),
  };
}
