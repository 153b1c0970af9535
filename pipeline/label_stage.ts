// This module is browser compatible.
/**
 * The label stage: per-slice class scores -> arg-max class -> label value in
 * the checkpoint's convention, cropped back to the volume's in-plane size.
 * It also counts the voxels labelled enhancing.
 *
 * @module
 */

import { argmaxClasses, type LabelConvention, labelConvention } from "../data/labels.ts";
import { cropSlice } from "../data/preprocess.ts";
import type { Crop, LabelSlice, ScoreSlice, StageTimes } from "./records.ts";

/** Options of {@linkcode LabelStage}. */
export interface LabelStageOptions {
  /** Label convention of the model's classes. */
  convention: LabelConvention;
  /** Convention of the written labels (default: the model's); tissues map by region. */
  output?: LabelConvention;
  /** The padding to remove. */
  crop: Crop;
  /** Time spent here is added to `times.label`. */
  times?: StageTimes;
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

/**
 * A `TransformStream` from {@linkcode ScoreSlice}s to cropped
 * {@linkcode LabelSlice}s. Postprocessing, which needs the whole volume,
 * is the sink's (data/postprocess.ts).
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
 * const labels = new LabelStage({ convention: "brats2017", crop });
 * for await (const slice of scores.pipeThrough(labels)) console.log(slice.z, slice.labels);
 * // 0 Uint8Array [4, 0, 0, 0], then 1 Uint8Array [4, 0, 0, 0]
 * console.log(labels.enhancing); // 2
 * ```
 */
export class LabelStage extends TransformStream<ScoreSlice, LabelSlice> {
  #enhancing = 0;

  /** Makes the stage. */
  constructor(options: LabelStageOptions) {
    const output = options.output ?? options.convention;
    const table = Uint8Array.from(convertLabels(options.convention, output));
    const enhancingLabel = labelConvention(output).regions.enhancing[0];
    const { crop, times } = options;
    const area = crop.width * crop.height;
    super({
      transform: (score, controller) => {
        const t0 = performance.now();
        const plane = score.height * score.width;
        let classes = score.argmax ??
          argmaxClasses(score.probabilities ?? new Float32Array(0), score.classes, plane);
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
          if (label === enhancingLabel) this.#enhancing++;
        }
        controller.enqueue({ z: score.z, labels });
        if (times) times.label += performance.now() - t0;
      },
    });
  }

  /** Number of voxels labelled enhancing so far (before any postprocessing). */
  get enhancing(): number {
    return this.#enhancing;
  }
}
