// This module is browser compatible.
/**
 * Class probabilities out (`segment --save-probabilities`): a pass-through
 * stage that keeps each slice's averaged probabilities, cropped and stored
 * as uint8 (255 = 1, rounded so that every voxel's classes sum to exactly
 * 255), and the 4-D NIfTI (x, y, z, class) written from them with
 * scl_slope 1/255, so readers that apply the slope see probabilities.
 * uint8 rather than float32: a quarter of the size (one 240×240×155 case
 * is 36 MB of four classes before gzip, against 143 MB), at a resolution
 * of 0.004, finer than any threshold one puts on a probability.
 *
 * @module
 */

import type { NiftiHeader } from "../data/nifti_header.ts";
import { NiftiEncoder } from "../data/nifti_encoder.ts";
import type { Crop, ScoreSlice, StageTimes } from "./records.ts";

/** Stored value of probability 1. */
export const PROBABILITY_SCALE = 255;

/**
 * Rounds the `classes` probabilities of each of `area` voxels (layout
 * `[classes, area]`) to integers 0-255 that sum to exactly 255: each is
 * floored, and the units left over go to the largest remainders.
 *
 * @example
 * ```ts
 * import { quantiseProbabilities } from "./probability_stage.ts";
 * // One voxel, three classes of a third each: 85 + 85 + 85.
 * console.log(quantiseProbabilities(Float32Array.from([1 / 3, 1 / 3, 1 / 3]), 3, 1));
 * // Uint8Array [85, 85, 85]
 * console.log(quantiseProbabilities(Float32Array.from([0.5, 0.25, 0.25]), 3, 1));
 * // Uint8Array [127, 64, 64]: 127.5 + 63.75 + 63.75 floored to 253, a unit to each .75
 * ```
 */
export function quantiseProbabilities(
  probabilities: Float32Array,
  classes: number,
  area: number,
  out: Uint8Array = new Uint8Array(classes * area),
): Uint8Array {
  const remainders = new Float64Array(classes);
  for (let i = 0; i < area; i++) {
    let total = 0;
    for (let c = 0; c < classes; c++) {
      const scaled = Math.min(Math.max(probabilities[c * area + i], 0), 1) * PROBABILITY_SCALE;
      const floor = Math.floor(scaled);
      out[c * area + i] = floor;
      remainders[c] = scaled - floor;
      total += floor;
    }
    for (let left = PROBABILITY_SCALE - total; left > 0; left--) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (remainders[c] > remainders[best]) best = c;
      out[best * area + i]++;
      remainders[best] = -1;
    }
  }
  return out;
}

/** Options of {@linkcode ProbabilityStage}. */
export interface ProbabilityStageOptions {
  /** Volume size [x, y, z]. */
  shape: readonly number[];
  /** Number of classes. */
  classes: number;
  /** The padding to remove. */
  crop: Crop;
  /** Time spent here is added to `times.label`. */
  times?: StageTimes;
}

/**
 * A pass-through `TransformStream` of {@linkcode ScoreSlice}s that keeps
 * their probabilities (they must carry them: ask the model stage with
 * `probabilities: true`); once the stream has ended
 * {@linkcode ProbabilityStage.write} encodes them.
 *
 * @example
 * ```ts
 * import { ProbabilityStage } from "./probability_stage.ts";
 * import { cropFor } from "../data/preprocess.ts";
 * import { parseNifti } from "../data/nifti_reader.ts";
 * import type { ScoreSlice } from "./records.ts";
 * // One 2×2 slice padded to 16×16, two classes at 0.25 / 0.75 everywhere.
 * const probabilities = new Float32Array(2 * 256).fill(0.25, 0, 256).fill(0.75, 256);
 * const slice: ScoreSlice = { z: 0, height: 16, width: 16, classes: 2, probabilities };
 * const stage = new ProbabilityStage({ shape: [2, 2, 1], classes: 2, crop: cropFor(2, 2) });
 * for await (const _ of ReadableStream.from([slice]).pipeThrough(stage));
 * const file = new TransformStream<Uint8Array, Uint8Array>();
 * const bytes = new Response(file.readable).arrayBuffer();
 * await stage.write(file.writable, { gzip: false });
 * const { shape, data } = parseNifti(new Uint8Array(await bytes));
 * console.log(shape, data[0], data[4]); // [2, 2, 1, 2] 0.2509… 0.7490…: 64 and 191 of 255
 * ```
 */
export class ProbabilityStage extends TransformStream<ScoreSlice, ScoreSlice> {
  #volume: Uint8Array;
  #options: ProbabilityStageOptions;
  #seen = 0;

  /** Makes the stage for a volume of `options.shape`. */
  constructor(options: ProbabilityStageOptions) {
    const { crop, classes, times } = options;
    const area = crop.width * crop.height;
    const depth = options.shape[2] ?? 1;
    const cropped = new Float32Array(classes * area);
    const slice = new Uint8Array(classes * area);
    super({
      transform: (score, controller) => {
        const t0 = performance.now();
        const p = score.probabilities;
        const padded = score.height * score.width;
        if (!p || p.length !== classes * padded) {
          throw new RangeError(`Slice ${score.z}: no probabilities of ${classes} classes to keep`);
        }
        for (let c = 0; c < classes; c++) {
          for (let y = 0; y < crop.height; y++) {
            const from = c * padded + (y + crop.top) * score.width + crop.left;
            cropped.set(p.subarray(from, from + crop.width), c * area + y * crop.width);
          }
        }
        quantiseProbabilities(cropped, classes, area, slice);
        for (let c = 0; c < classes; c++) {
          this.#volume.set(slice.subarray(c * area, (c + 1) * area), (c * depth + score.z) * area);
        }
        this.#seen++;
        controller.enqueue(score);
        if (times) times.label += performance.now() - t0;
      },
    });
    this.#options = options;
    this.#volume = new Uint8Array(classes * depth * area);
  }

  /**
   * Writes the kept probabilities to `output` as a 4-D uint8 NIfTI with
   * `geometry`'s affine (the FLAIR's), gzipped by default.
   *
   * @throws {RangeError} when not every slice has passed.
   */
  async write(
    output: WritableStream<Uint8Array>,
    geometry: { reference?: NiftiHeader; affine?: number[][]; gzip?: boolean; name?: string },
  ): Promise<void> {
    const { shape, classes } = this.#options;
    const [nx, ny, nz = 1] = shape;
    if (this.#seen !== nz) {
      await output.abort(new RangeError(`probabilities of ${this.#seen} of ${nz} slices`));
      throw new RangeError(`${geometry.name ?? "<probabilities>"}: ${this.#seen} of ${nz} slices`);
    }
    const encoder = new NiftiEncoder({
      shape: [nx, ny, nz, classes],
      datatype: "uint8",
      scale: 1 / PROBABILITY_SCALE,
      reference: geometry.reference,
      affine: geometry.affine,
      gzip: geometry.gzip ?? true,
      name: geometry.name,
    });
    const piped = encoder.readable.pipeTo(output);
    const writer = encoder.writable.getWriter();
    const area = nx * ny;
    try {
      for (let k = 0; k < classes * nz; k++) {
        await writer.write(this.#volume.subarray(k * area, (k + 1) * area));
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
      await piped.catch(() => {});
      throw error;
    }
    await piped;
  }
}
