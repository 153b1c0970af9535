/**
 * Segmentation metrics, accumulated slice by slice so evaluation can stream:
 * Dice, sensitivity, PPV and HD95 (mm) of the whole / core / enhancing
 * regions, per-label IoU and MeanIU, and the confusion counts behind them.
 *
 * @module
 */

import { type LabelConvention, labelConvention, type Region, REGIONS } from "./labels.ts";
import { distancesToSites } from "./_distance.ts";

/** One number per tumour region. */
export interface RegionScores {
  /** Whole tumour (all tumour labels). */
  whole: number;
  /** Tumour core (all but oedema). */
  core: number;
  /** Enhancing tumour. */
  enhancing: number;
}

/** The scores of one case. */
export interface CaseScores {
  /** Dice per region. */
  dice: RegionScores;
  /** Sensitivity (recall) per region. */
  sensitivity: RegionScores;
  /** Positive predictive value (precision) per region. */
  ppv: RegionScores;
  /** 95th-percentile symmetric surface distance in mm per region. */
  hd95: RegionScores;
  /** IoU of each label (key: label value) occurring in the prediction or the truth. */
  iou: Record<string, number>;
  /** Mean of `iou` over its labels. */
  meanIoU: number;
  /** Voxel counts: `confusion[t][p]` = voxels of truth class `t` predicted as class `p`. */
  confusion: number[][];
}

/** Scores averaged over cases, plus IoU pooled over all voxels of all cases. */
export interface ScoreSummary {
  /** Number of cases averaged. */
  cases: number;
  /** Means over cases (`iou[label]` over the cases where the label occurs). */
  mean: Omit<CaseScores, "confusion">;
  /** IoU per label from the summed confusion counts of all cases, and their mean. */
  pooled: { iou: Record<string, number>; meanIoU: number };
}

/** How empty regions are scored; printed with every evaluation. */
export const EMPTY_REGION_RULE: string =
  "region empty in both prediction and truth: Dice, sensitivity and PPV 1, HD95 0; " +
  "empty in exactly one: Dice 0, sensitivity/PPV 0 where undefined, HD95 = volume diagonal in mm";

/** Options of {@link CaseScorer} and {@link scoreCase}. */
export interface ScoreOptions {
  /** Label convention of both volumes. */
  convention: LabelConvention;
  /** Voxel spacing in mm (x, y, z); default 1 mm. */
  spacing?: readonly [number, number, number];
}

/** Region bits (1 whole, 2 core, 4 enhancing) of one slice of prediction and truth. */
interface Masks {
  pred: Uint8Array;
  truth: Uint8Array;
}

const BITS: Record<Region, number> = { whole: 1, core: 2, enhancing: 4 };

/**
 * Accumulates the scores of one case from axial slices of the prediction and
 * the truth fed in depth order; holds three slices of region masks and the
 * surface voxels, never the volumes.
 *
 * @example
 * ```ts
 * const scorer = new CaseScorer([240, 240, 155], { convention: "brats2017" });
 * for (let z = 0; z < 155; z++) scorer.addSlice(predSlices[z], truthSlices[z]);
 * const scores = scorer.finish();
 * ```
 */
export class CaseScorer {
  #shape: [number, number, number];
  #spacing: [number, number, number];
  #labels: readonly number[];
  #classOf = new Uint8Array(256).fill(255);
  #regionBits: Uint8Array;
  #confusion: Float64Array;
  #z = 0;
  #window: Masks[] = [];
  #surfaces = { pred: [[], [], []] as number[][], truth: [[], [], []] as number[][] };

  /** Starts scoring a volume of `shape` (x, y, z). */
  constructor(shape: readonly [number, number, number], options: ScoreOptions) {
    this.#shape = [...shape];
    this.#spacing = [...(options.spacing ?? [1, 1, 1])];
    const info = labelConvention(options.convention);
    this.#labels = info.labels;
    info.labels.forEach((label, c) => this.#classOf[label] = c);
    this.#regionBits = new Uint8Array(info.labels.length);
    for (const r of REGIONS) {
      for (const label of info.regions[r]) this.#regionBits[this.#classOf[label]] |= BITS[r];
    }
    this.#confusion = new Float64Array(info.labels.length ** 2);
  }

  /**
   * Adds the next axial slice of prediction and truth (label values, x fastest).
   *
   * @throws {RangeError} for a slice of the wrong size, too many slices, or
   * label values outside the convention (named in the message).
   */
  addSlice(prediction: ArrayLike<number>, truth: ArrayLike<number>): void {
    const [X, Y, Z] = this.#shape;
    if (prediction.length !== X * Y || truth.length !== X * Y) {
      throw new RangeError(
        `Slice of ${prediction.length}/${truth.length} voxels, expected ${X}×${Y}`,
      );
    }
    if (this.#z >= Z) throw new RangeError(`More than ${Z} slices`);
    const pred = this.#bits(prediction, "prediction");
    const truthBits = this.#bits(truth, "truth");
    const K = this.#labels.length;
    for (let i = 0; i < X * Y; i++) this.#confusion[truthBits.cls[i] * K + pred.cls[i]]++;
    const w = this.#window;
    if (w.length === 3) w.shift();
    w.push({ pred: pred.bits, truth: truthBits.bits });
    // Slice z-1 now has both neighbours, so its surface is known.
    if (w.length >= 2) {
      this.#surfaceOf(
        this.#z - 1,
        w.length === 3 ? w[0] : undefined,
        w[w.length - 2],
        w[w.length - 1],
      );
    }
    this.#z++;
  }

  #bits(labels: ArrayLike<number>, what: string): { cls: Uint8Array; bits: Uint8Array } {
    const cls = new Uint8Array(labels.length), bits = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      const c = v >= 0 && v < 256 && Number.isInteger(v) ? this.#classOf[v] : 255;
      if (c === 255) {
        const bad = new Set<number>();
        for (let j = 0; j < labels.length && bad.size < 10; j++) {
          const w = labels[j];
          if (!(w >= 0 && w < 256 && Number.isInteger(w) && this.#classOf[w] !== 255)) bad.add(w);
        }
        throw new RangeError(
          `${what} label values ${
            [...bad].sort((a, b) => a - b).join(", ")
          } are not in the convention (${this.#labels.join(", ")})`,
        );
      }
      cls[i] = c;
      bits[i] = this.#regionBits[c];
    }
    return { cls, bits };
  }

  /** Records surface voxels of slice `z` (region minus its 6-connected erosion; outside counts as background). */
  #surfaceOf(z: number, prev: Masks | undefined, cur: Masks, next: Masks | undefined): void {
    const [X, Y] = this.#shape;
    for (const side of ["pred", "truth"] as const) {
      const c = cur[side], p = prev?.[side], n = next?.[side];
      const lists = this.#surfaces[side];
      for (let y = 0; y < Y; y++) {
        for (let x = 0; x < X; x++) {
          const i = y * X + x;
          const m = c[i];
          if (m === 0) continue;
          const inner = (x > 0 ? c[i - 1] : 0) & (x < X - 1 ? c[i + 1] : 0) &
            (y > 0 ? c[i - X] : 0) &
            (y < Y - 1 ? c[i + X] : 0) & (p ? p[i] : 0) & (n ? n[i] : 0);
          const surface = m & ~inner;
          if (surface === 0) continue;
          const at = z * X * Y + i;
          if (surface & 1) lists[0].push(at);
          if (surface & 2) lists[1].push(at);
          if (surface & 4) lists[2].push(at);
        }
      }
    }
  }

  /**
   * Finishes the case and returns its scores.
   *
   * @throws {RangeError} when fewer slices than the shape's depth were added.
   */
  finish(): CaseScores {
    const [X, Y, Z] = this.#shape;
    if (this.#z !== Z) throw new RangeError(`Got ${this.#z} slices, expected ${Z}`);
    const w = this.#window;
    this.#surfaceOf(Z - 1, w.length >= 2 ? w[w.length - 2] : undefined, w[w.length - 1], undefined);
    const K = this.#labels.length;
    const confusion = Array.from(
      { length: K },
      (_, t) => Array.from(this.#confusion.subarray(t * K, t * K + K)),
    );
    const scores = fromConfusion(confusion, this.#labels, this.#regionBits);
    const diagonal = Math.hypot(X * this.#spacing[0], Y * this.#spacing[1], Z * this.#spacing[2]);
    REGIONS.forEach((r, ri) => {
      const a = this.#surfaces.pred[ri], b = this.#surfaces.truth[ri];
      scores.hd95[r] = a.length === 0 && b.length === 0
        ? 0
        : a.length === 0 || b.length === 0
        ? diagonal
        : hd95(a, b, this.#shape, this.#spacing);
    });
    return { ...scores, confusion };
  }
}

function hd95(
  a: number[],
  b: number[],
  shape: [number, number, number],
  spacing: [number, number, number],
): number {
  const ab = distancesToSites(b, a, shape, spacing), ba = distancesToSites(a, b, shape, spacing);
  const all = new Float64Array(ab.length + ba.length);
  all.set(ab);
  all.set(ba, ab.length);
  return percentile(all, 95);
}

/**
 * The q-th percentile with linear interpolation between order statistics
 * (numpy's default).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4, 5], 95); // 4.8
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q / 100;
  const lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function fromConfusion(
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

function iouOf(
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

/**
 * Scores whole volumes held in memory (x fastest); a convenience over
 * {@link CaseScorer}.
 *
 * @example
 * ```ts
 * const s = scoreCase(pred, truth, { shape: [4, 4, 2], convention: "brats2017" });
 * s.dice.whole;
 * ```
 */
export function scoreCase(
  prediction: ArrayLike<number>,
  truth: ArrayLike<number>,
  options: ScoreOptions & { shape: readonly [number, number, number] },
): CaseScores {
  const [X, Y, Z] = options.shape;
  if (prediction.length !== X * Y * Z || truth.length !== X * Y * Z) {
    throw new RangeError(
      `Volumes of ${prediction.length}/${truth.length} voxels, expected ${X}×${Y}×${Z}`,
    );
  }
  const scorer = new CaseScorer(options.shape, options);
  const n = X * Y;
  const slice = (a: ArrayLike<number>, z: number) =>
    ArrayBuffer.isView(a)
      ? (a as unknown as Uint8Array).subarray(z * n, z * n + n)
      : Array.from({ length: n }, (_, i) => a[z * n + i]);
  for (let z = 0; z < Z; z++) scorer.addSlice(slice(prediction, z), slice(truth, z));
  return scorer.finish();
}

/**
 * Averages case scores, and pools IoU over all voxels of all cases.
 *
 * @example
 * ```ts
 * const summary = summariseScores([scoresA, scoresB], { convention: "brats2017" });
 * summary.mean.dice.whole; summary.pooled.meanIoU;
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
