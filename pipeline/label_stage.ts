// This module is browser compatible.
/**
 * The label stage: per-slice class scores -> arg-max class -> label value in
 * the checkpoint's convention, cropped back to the volume's in-plane size.
 * It also counts enhancing voxels for the small-enhancing-tumour rule.
 *
 * @module
 */

import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { cropSlice } from "../data/preprocess.ts";
import type { Crop, LabelSlice, ScoreSlice, StageTimes } from "./records.ts";

/** Voxels to change after the whole volume was seen (the small-enhancing-tumour rule). */
export interface Relabel {
  /** Voxel indices in the output volume (x fastest, then y, then z). */
  indices: number[];
  /** Label they hold (enhancing). */
  from: number;
  /** Label they get (the tumour core's non-enhancing label). */
  to: number;
}

/** Options of {@linkcode LabelStage}. */
export interface LabelStageOptions {
  /** Label convention of the model's classes. */
  convention: LabelConvention;
  /** Convention of the written labels (default: the model's); tissues map by region. */
  output?: LabelConvention;
  /** The padding to remove. */
  crop: Crop;
  /**
   * If fewer than this many voxels of the whole volume are predicted
   * enhancing, they become core instead (default 0: rule off).
   */
  minEnhancing?: number;
  /** Time spent here is added to `times.label`. */
  times?: StageTimes;
}

/**
 * The label a convention gives the non-enhancing part of the core, which
 * small enhancing predictions are turned into: necrotic/non-enhancing core
 * (1) for brats2017/2023, non-enhancing (3) for brats2015.
 *
 * @example
 * ```ts
 * import { coreLabelFor } from "./label_stage.ts";
 * console.log(coreLabelFor("brats2017"), coreLabelFor("brats2015")); // 1 3
 * ```
 */
export function coreLabelFor(convention: LabelConvention): number {
  return convention === "brats2015" ? 3 : 1;
}

/**
 * The label of convention `to` for each label of convention `from`, in
 * `from`'s label order: background, oedema and enhancing map to their
 * namesakes; the other core labels to `to`'s necrotic/non-enhancing core
 * (kept as they are when the conventions are the same).
 *
 * @example
 * ```ts
 * import { convertLabels } from "./label_stage.ts";
 * console.log(convertLabels("brats2015", "brats2017")); // [0, 1, 2, 1, 4]
 * console.log(convertLabels("brats2017", "brats2023")); // [0, 1, 2, 3]
 * ```
 */
export function convertLabels(from: LabelConvention, to: LabelConvention): number[] {
  const source = labelConvention(from);
  const target = labelConvention(to);
  const enhancing = source.regions.enhancing[0];
  return source.labels.map((label) => {
    if (from === to || label === 0 || label === 2) return label;
    if (label === enhancing) return target.regions.enhancing[0];
    return 1;
  });
}

/** Index of the largest of `classes` planes at each voxel (first wins ties). */
function argmaxPlanes(probabilities: Float32Array, classes: number, plane: number): Uint8Array {
  const out = new Uint8Array(plane);
  const best = probabilities.slice(0, plane);
  for (let c = 1; c < classes; c++) {
    const offset = c * plane;
    for (let i = 0; i < plane; i++) {
      const p = probabilities[offset + i];
      if (p > best[i]) {
        best[i] = p;
        out[i] = c;
      }
    }
  }
  return out;
}

/**
 * A `TransformStream` from {@linkcode ScoreSlice}s to cropped
 * {@linkcode LabelSlice}s. The enhancing-voxel positions are remembered
 * only while fewer than `minEnhancing` have been seen, so memory stays
 * bounded by `minEnhancing`; {@linkcode LabelStage.relabel} tells, once the
 * stream has ended, which voxels the sink must change.
 *
 * @example
 * ```ts
 * import { LabelStage } from "./label_stage.ts";
 * import { cropFor } from "../data/preprocess.ts";
 * import type { ScoreSlice } from "./records.ts";
 * // Two 2×2 slices padded to 16×16; the arg-max says class 3 (enhancing) at one voxel of each.
 * const crop = cropFor(2, 2);
 * const argmax = new Uint8Array(256);
 * argmax[crop.top * 16 + crop.left] = 3;
 * const scores = ReadableStream.from<ScoreSlice>([0, 1].map((z) => ({
 *   z,
 *   height: 16,
 *   width: 16,
 *   classes: 4,
 *   argmax,
 * })));
 * const labels = new LabelStage({ convention: "brats2017", crop, minEnhancing: 500 });
 * for await (const slice of scores.pipeThrough(labels)) console.log(slice.z, slice.labels);
 * // 0 Uint8Array [4, 0, 0, 0], then 1 Uint8Array [4, 0, 0, 0]
 * console.log(labels.enhancing, labels.relabel()); // 2 { indices: [0, 4], from: 4, to: 1 }
 * ```
 */
export class LabelStage extends TransformStream<ScoreSlice, LabelSlice> {
  #enhancing = 0;
  #positions: number[] | null = [];
  #done = false;
  #min: number;
  #from: number;
  #to: number;

  /** Makes the stage. */
  constructor(options: LabelStageOptions) {
    const output = options.output ?? options.convention;
    const table = Uint8Array.from(convertLabels(options.convention, output));
    const enhancingLabel = labelConvention(output).regions.enhancing[0];
    const min = options.minEnhancing ?? 0;
    if (!Number.isInteger(min) || min < 0) {
      throw new RangeError(`--min-enhancing must be a non-negative integer, got ${min}`);
    }
    const { crop, times } = options;
    const area = crop.width * crop.height;
    super({
      transform: (score, controller) => {
        const t0 = performance.now();
        const plane = score.height * score.width;
        let classes = score.argmax ??
          argmaxPlanes(score.probabilities ?? new Float32Array(0), score.classes, plane);
        if (classes.length !== plane) {
          throw new RangeError(`Slice ${score.z}: ${classes.length} classes for ${plane} voxels`);
        }
        classes = cropSlice(classes, crop);
        const labels = new Uint8Array(area);
        for (let i = 0; i < area; i++) {
          const c = classes[i];
          if (c >= table.length) {
            throw new RangeError(`Class ${c} is outside ${options.convention}`);
          }
          const label = table[c];
          labels[i] = label;
          if (label === enhancingLabel) this.#count(score.z * area + i);
        }
        controller.enqueue({ z: score.z, labels });
        if (times) times.label += performance.now() - t0;
      },
      flush: () => {
        this.#done = true;
      },
    });
    this.#min = min;
    this.#from = enhancingLabel;
    this.#to = coreLabelFor(output);
  }

  #count(index: number): void {
    this.#enhancing++;
    if (!this.#positions) return;
    if (this.#enhancing >= this.#min) this.#positions = null;
    else this.#positions.push(index);
  }

  /** Number of voxels labelled enhancing so far (before the rule is applied). */
  get enhancing(): number {
    return this.#enhancing;
  }

  /**
   * After the stream has ended: the voxels the small-enhancing-tumour rule
   * relabels, or null when the rule is off or does not apply.
   *
   * @throws {Error} if called before the stream has ended.
   */
  relabel(): Relabel | null {
    if (!this.#done) {
      throw new Error("LabelStage.relabel() is only known once the stream has ended");
    }
    if (this.#min === 0 || !this.#positions || this.#positions.length === 0) return null;
    return { indices: this.#positions, from: this.#from, to: this.#to };
  }
}
