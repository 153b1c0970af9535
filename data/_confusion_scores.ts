// This module is browser compatible.
// Scores from confusion counts (private to data/): Dice, sensitivity and PPV of the tumour regions
// and IoU per label, shared by one case's scores (metrics.ts) and the pooled summary.
import { type Region, REGIONS } from "./labels.ts";
import type { CaseScores, RegionScores } from "./metrics.ts";

/** Region bits: 1 whole, 2 core, 4 enhancing. */
export const BITS: Record<Region, number> = { whole: 1, core: 2, enhancing: 4 };

/**
 * Dice, sensitivity and PPV per region and IoU per label from the confusion counts `m[t][p]`
 * (HD95 left 0 for the caller).
 *
 * @example
 * ```ts
 * import { fromConfusion } from "./_confusion_scores.ts";
 * // Labels 0 and 1 (1 is in every region); rows are truth, columns prediction.
 * const s = fromConfusion([[3, 0], [1, 2]], [0, 1], Uint8Array.of(0, 7));
 * console.log(s.dice.whole, s.sensitivity.whole, s.ppv.whole); // 0.8 0.666… 1
 * ```
 */
export function fromConfusion(
  m: number[][],
  labels: readonly number[],
  regionBits: Uint8Array,
): Omit<CaseScores, "confusion"> {
  const K = labels.length;
  const zero = (): RegionScores => ({ whole: 0, core: 0, enhancing: 0 });
  const out = { dice: zero(), sensitivity: zero(), ppv: zero(), hd95: zero(), ...iouOf(m, labels) };
  for (const r of REGIONS) {
    let tp = 0, predN = 0, truthN = 0;
    for (let t = 0; t < K; t++) {
      for (let p = 0; p < K; p++) {
        const inT = regionBits[t] & BITS[r], inP = regionBits[p] & BITS[r];
        if (inT) truthN += m[t][p];
        if (inP) predN += m[t][p];
        if (inT && inP) tp += m[t][p];
      }
    }
    const bothEmpty = predN === 0 && truthN === 0;
    out.dice[r] = bothEmpty ? 1 : 2 * tp / (predN + truthN);
    out.sensitivity[r] = bothEmpty ? 1 : truthN > 0 ? tp / truthN : 0;
    out.ppv[r] = bothEmpty ? 1 : predN > 0 ? tp / predN : 0;
  }
  return out;
}

/**
 * IoU of each label occurring in the confusion counts, and their mean (NaN when none occurs).
 *
 * @example
 * ```ts
 * import { iouOf } from "./_confusion_scores.ts";
 * const { iou, meanIoU } = iouOf([[3, 0], [1, 2]], [0, 1]);
 * console.log(iou, meanIoU); // { "0": 0.75, "1": 0.666… } 0.708…
 * ```
 */
export function iouOf(
  m: number[][],
  labels: readonly number[],
): { iou: Record<string, number>; meanIoU: number } {
  const iou: Record<string, number> = {};
  labels.forEach((label, c) => {
    let row = 0, col = 0;
    for (let k = 0; k < labels.length; k++) {
      row += m[c][k];
      col += m[k][c];
    }
    if (row + col > 0) iou[String(label)] = m[c][c] / (row + col - m[c][c]);
  });
  const values = Object.values(iou);
  return { iou, meanIoU: values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN };
}
