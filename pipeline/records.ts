// This module is browser compatible.
/**
 * The records that flow between the pipeline's stages: per-slice class
 * scores, the crop back to the volume's size, label slices, stage times.
 *
 * @module
 */

/** Class scores (or classes) of one padded slice, as the model stage emits them. */
export interface ScoreSlice {
  /** Depth index. */
  z: number;
  /** Padded height. */
  height: number;
  /** Padded width. */
  width: number;
  /** Number of classes. */
  classes: number;
  /** Averaged probabilities `[classes, height, width]`, when the stage kept them. */
  probabilities?: Float32Array;
  /** Arg-max classes `[height, width]`, when the model returned those directly. */
  argmax?: Uint8Array;
}

/** Where the original slice sits inside the padded one (the preprocessing's record). */
export type { Crop } from "../data/preprocess.ts";

/** One output slice of labels, cropped back to the volume's in-plane size. */
export interface LabelSlice {
  /** Depth index. */
  z: number;
  /** Labels in the model's convention, `[height, width]`, x fastest. */
  labels: Uint8Array;
}

/**
 * Time spent in each part of the pipeline, in milliseconds, summed over the
 * calls each stage makes (stages overlap in time, so the parts may add up to
 * more than the wall-clock time).
 */
export interface StageTimes {
  /** Reading, decompressing, normalising and padding the inputs. */
  decode: number;
  /** Running the model (dispatch, device work, read-back) and averaging scores. */
  model: number;
  /** Arg-max, cropping, relabelling. */
  label: number;
  /** Encoding, compressing and writing the output. */
  write: number;
}

/**
 * A fresh all-zero {@linkcode StageTimes}.
 *
 * @example
 * ```ts
 * import { newStageTimes } from "./records.ts";
 * const times = newStageTimes();
 * times.decode += 12.5; // each stage adds the milliseconds it spent
 * console.log(times); // { decode: 12.5, model: 0, label: 0, write: 0 }
 * ```
 */
export function newStageTimes(): StageTimes {
  return { decode: 0, model: 0, label: 0, write: 0 };
}
