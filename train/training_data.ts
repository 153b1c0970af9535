/**
 * What the trainer needs of a dataset (an index of which slices hold tumour,
 * class weights, lazy loading of one preprocessed training case at a time,
 * and held-out cases as read), and the assembly of a batch of windows into
 * network input and label arrays. File reading lives in
 * `training_cases.ts`, so the trainer also runs on in-memory data, e.g. in
 * tests or a browser.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";
import type { Crop } from "../data/preprocess.ts";
import { type AugmentOptions, augmentWindow } from "./augment.ts";
import type { CaseSliceIndex, TrainingWindow } from "./window_sampler.ts";

/**
 * One training case in memory, preprocessed as `data/preprocess.ts` does for
 * every path: normalised and padded in-plane, centred, to the training size.
 */
export interface LoadedCase {
  /** Case identifier. */
  id: string;
  /** Padded width (x) and height (y). */
  width: number;
  /** Padded height (y). */
  height: number;
  /** Number of axial slices. */
  depth: number;
  /** Where the original slices sit in the padded ones. */
  crop: Crop;
  /** Normalised modalities, layout [depth][modalities][height][width], x fastest. */
  image: Float32Array;
  /** Class indices (0..classes-1), layout [depth][height][width]. */
  classes: Uint8Array;
  /** Number of modalities (4). */
  modalities: number;
}

/** A dataset as the trainer sees it. */
export interface TrainingSource {
  /** Label convention of the cases (class c is `labelConvention(labels).labels[c]`). */
  labels: LabelConvention;
  /** Per training case: depth and which slices hold tumour. */
  train: readonly CaseSliceIndex[];
  /** Held-out case identifiers (for validation). */
  val: readonly string[];
  /** Median-frequency-balanced class weights of the training labels. */
  classWeights: readonly number[];
  /** Loads training case `i` (in the order of `train`). */
  loadTrain(i: number): Promise<LoadedCase>;
  /** Reads validation case `i` (in the order of `val`) as it is, for the inference path. */
  loadVal(i: number): Promise<ValidationCase>;
  /** A description of the data for checkpoint metadata (e.g. folder and case ids). */
  describe(): Record<string, unknown>;
}

/** A held-out case as read: raw modality volumes and truth labels, neither normalised nor padded. */
export interface ValidationCase {
  /** Case identifier. */
  id: string;
  /** Volume size [x, y, z]. */
  shape: [number, number, number];
  /** The modalities in channel order (FLAIR, T1, T1c, T2), each `[z][y][x]`, x fastest. */
  modalities: readonly Float32Array[];
  /** Truth label values in the source's convention, same layout. */
  labels: Uint8Array;
}

/** A batch ready for the GPU. */
export interface BatchArrays {
  /** Input, layout [B·T][modalities][height][width]. */
  image: Float32Array;
  /** Class index per pixel as float, layout [B·T][1][height][width]. */
  labels: Float32Array;
  /** Number of windows B. */
  windows: number;
  /** Slices per window T. */
  seq: number;
  /** Modalities per slice. */
  modalities: number;
  /** Height of every slice. */
  height: number;
  /** Width of every slice. */
  width: number;
}

/**
 * Copies the windows of a batch out of their loaded cases, augments each
 * (with draws keyed by `key` and the window's position in the batch), and
 * packs them as network input and labels.
 *
 * @throws {RangeError} when the cases of one batch differ in slice size.
 * @example
 * ```ts
 * import { cropFor } from "../data/preprocess.ts";
 * import { assembleBatch, type LoadedCase } from "./training_data.ts";
 * const plane = 16 * 16;
 * const loaded: LoadedCase = {
 *   id: "a", width: 16, height: 16, depth: 4, crop: cropFor(16, 16), modalities: 4,
 *   image: new Float32Array(4 * 4 * plane), classes: new Uint8Array(4 * plane),
 * };
 * const batch = [{ caseIndex: 0, start: 1, tumour: false }];
 * const arrays = assembleBatch(batch, { cases: [loaded], seq: 3, key: [1, 0, 0] });
 * arrays.image.length; // 3 * 4 * 16 * 16
 * ```
 */
export function assembleBatch(
  windows: readonly TrainingWindow[],
  options: {
    cases: readonly LoadedCase[];
    seq: number;
    key: readonly [number, number, number];
    augment?: AugmentOptions | false;
  },
): BatchArrays {
  const first = options.cases[0];
  const { width, height, modalities } = first;
  const seq = options.seq;
  const plane = width * height;
  const perWindow = seq * modalities * plane;
  const image = new Float32Array(windows.length * perWindow);
  const labels = new Float32Array(windows.length * seq * plane);
  windows.forEach((w, b) => {
    const c = options.cases[b];
    if (c.width !== width || c.height !== height || c.modalities !== modalities) {
      throw new RangeError(
        `case ${c.id} has ${c.width}×${c.height}×${c.modalities} slices, case ${first.id} ` +
          `${width}×${height}×${modalities}: training cases must share one padded slice size`,
      );
    }
    if (w.start + seq > c.depth) {
      throw new RangeError(`window at slice ${w.start} runs past case ${c.id}'s ${c.depth} slices`);
    }
    const data = {
      seq,
      channels: modalities,
      height,
      width,
      image: c.image.slice(w.start * modalities * plane, (w.start + seq) * modalities * plane),
      classes: c.classes.slice(w.start * plane, (w.start + seq) * plane),
    };
    if (options.augment !== false) {
      augmentWindow(data, [options.key[0], options.key[1], options.key[2], b], options.augment);
    }
    image.set(data.image, b * perWindow);
    labels.set(data.classes, b * seq * plane);
  });
  return { image, labels, windows: windows.length, seq, modalities, height, width };
}
