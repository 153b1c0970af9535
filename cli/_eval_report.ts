// `eval`'s output: the score table with its notes, and the JSON and CSV files.

import { type ConventionInfo, type LabelConvention, REGIONS } from "../data/labels.ts";
import { type CaseScores, EMPTY_REGION_RULE } from "../data/metrics.ts";
import type { ScoreSummary } from "../data/score_summary.ts";

/** One case's scores (or the mean's), named. */
export interface ScoreRow {
  /** Case id (or e.g. `mean (3)`). */
  id: string;
  /** Its scores. */
  s: Omit<CaseScores, "confusion">;
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

const HEAD = [
  ["case"],
  ["Dice WT", "TC", "ET"],
  ["Sens WT", "TC", "ET"],
  ["PPV WT", "TC", "ET"],
  ["HD95 WT", "TC", "ET"],
].flat();

/** The aligned score table, one row per case then the mean. */
function table(rows: readonly ScoreRow[], labels: readonly number[]): string {
  const head = HEAD.concat(labels.map((l) => `IoU ${l}`), ["MeanIU"]);
  const body = rows.map(({ id, s }) =>
    [id]
      .concat(
        (["dice", "sensitivity", "ppv"] as const).flatMap((k) => REGIONS.map((r) => fmt(s[k][r]))),
      )
      .concat(REGIONS.map((r) => fmt(s.hd95[r], 1)))
      .concat(labels.map((l) => (String(l) in s.iou ? fmt(s.iou[l]) : "-")), [fmt(s.meanIoU)])
  );
  const all = [head, ...body];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) =>
    r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ")
  ).join("\n");
}

/**
 * The table of per-case scores and their mean, the pooled IoU, and the notes
 * on units and the empty-region rule, as `eval` prints them.
 *
 * @example
 * ```ts
 * import { reportLines } from "./_eval_report.ts";
 * import { labelConvention } from "../data/labels.ts";
 * import { summariseScores } from "../data/score_summary.ts";
 * const summary = summariseScores([], { convention: "brats2017" });
 * console.log(reportLines([], summary, labelConvention("brats2017")).join("\n"));
 * ```
 */
export function reportLines(
  rows: readonly ScoreRow[],
  summary: ScoreSummary,
  info: ConventionInfo,
): string[] {
  const pooled = info.labels.map((l) => `${l}: ${fmt(summary.pooled.iou[l] ?? NaN)}`).join(", ");
  return [
    table([...rows, { id: `mean (${rows.length})`, s: summary.mean }], info.labels),
    `pooled IoU over all voxels: ${pooled}; MeanIU ${fmt(summary.pooled.meanIoU)}`,
    `labels: ${info.name}; HD95 in mm; IoU per label occurring in the case (incl. background 0)`,
    `rule: ${EMPTY_REGION_RULE}`,
  ];
}

/**
 * The scores as `eval --json` writes them (without the confusion counts).
 *
 * @example
 * ```ts
 * import { scoresJson } from "./_eval_report.ts";
 * import { summariseScores } from "../data/score_summary.ts";
 * const summary = summariseScores([], { convention: "brats2017" });
 * console.log(JSON.stringify(scoresJson("brats2017", [], summary)));
 * ```
 */
export function scoresJson(
  convention: LabelConvention,
  rows: readonly ScoreRow[],
  summary: ScoreSummary,
): Record<string, unknown> {
  const pick = (s: Omit<CaseScores, "confusion">) => ({
    dice: s.dice,
    sensitivity: s.sensitivity,
    ppv: s.ppv,
    hd95: s.hd95,
    iou: s.iou,
    meanIoU: s.meanIoU,
  });
  return {
    labels: convention,
    rule: EMPTY_REGION_RULE,
    cases: rows.map(({ id, s }) => ({ id, ...pick(s) })),
    mean: pick(summary.mean),
    pooled: summary.pooled,
  };
}

/**
 * The scores as `eval --csv` writes them: a header, one row per case, then the mean.
 *
 * @example
 * ```ts
 * import { scoresCsv } from "./_eval_report.ts";
 * import { summariseScores } from "../data/score_summary.ts";
 * const summary = summariseScores([], { convention: "brats2017" });
 * console.log(scoresCsv([], summary, [0, 1, 2, 4]));
 * ```
 */
export function scoresCsv(
  rows: readonly ScoreRow[],
  summary: ScoreSummary,
  labels: readonly number[],
): string {
  const keys = ["dice", "sensitivity", "ppv", "hd95"] as const;
  const head = ["id"]
    .concat(keys.flatMap((k) => REGIONS.map((r) => `${k}_${r}`)))
    .concat(labels.map((l) => `iou_${l}`), ["meanIoU"]);
  const lines = [...rows, { id: "mean", s: summary.mean }].map(({ id, s }) =>
    [id]
      .concat(keys.flatMap((k) => REGIONS.map((r) => String(s[k][r]))))
      .concat(labels.map((l) => (String(l) in s.iou ? String(s.iou[l]) : "")), [String(s.meanIoU)])
      .join(",")
  );
  return [head.join(","), ...lines].join("\n") + "\n";
}
