// This module is browser compatible.
/**
 * Segmentation metrics of one case, accumulated slice by slice so evaluation
 * can stream: Dice, sensitivity, PPV and HD95 (mm) of the whole / core /
 * enhancing regions, per-label IoU and MeanIU, and the confusion counts behind
 * them. Surface distances: hd95.ts; averages over cases: score_summary.ts.
 *
 * @module
 */

import { type LabelConvention, labelConvention, REGIONS } from "./labels.ts";
import { BITS, fromConfusion } from "./_confusion_scores.ts";
import { hd95 } from "./hd95.ts";

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

/**
 * Accumulates the scores of one case from axial slices of the prediction and
 * the truth fed in depth order; holds three slices of region masks and the
 * surface voxels, never the volumes.
 *
 * @example
 * ```ts
 * import { CaseScorer } from "./metrics.ts";
 * // A 4×4×3 case fed slice by slice (label values, x fastest): oedema (2) in the middle slice.
 * const scorer = new CaseScorer([4, 4, 3], { convention: "brats2017" });
 * for (let z = 0; z < 3; z++) {
 *   const truth = new Uint8Array(16).fill(z === 1 ? 2 : 0, 0, 8);
 *   const prediction = new Uint8Array(16).fill(z === 1 ? 2 : 0, 0, 4);
 *   scorer.addSlice(prediction, truth);
 * }
 * const scores = scorer.finish();
 * console.log(scores.dice.whole, scores.dice.core); // 0.666… 1 (core empty in both)
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
        : hd95(a, b, { shape: this.#shape, spacing: this.#spacing });
    });
    return { ...scores, confusion };
  }
}

/**
 * Scores whole volumes held in memory (x fastest); a convenience over
 * {@link CaseScorer}.
 *
 * @example
 * ```ts
 * import { scoreCase } from "./metrics.ts";
 * const truth = new Uint8Array(32).fill(2, 0, 8);
 * const pred = new Uint8Array(32).fill(2, 0, 4);
 * const s = scoreCase(pred, truth, { shape: [4, 4, 2], convention: "brats2017" });
 * console.log(s.dice.whole, s.sensitivity.whole, s.ppv.whole); // 0.666… (2·4 / (4 + 8)) 0.5 1
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
