// This module is browser compatible.
/**
 * What the trainer needs of a dataset (an index of which slices hold tumour,
 * class weights, lazy loading of one preprocessed training case at a time,
 * and held-out cases as read), and the assembly of a batch of windows into
 * network input and label arrays, each window cropped (patch training) and
 * augmented in one resampling pass. File reading lives in
 * `training_cases.ts`, so the trainer also runs on in-memory data, e.g. in
 * tests or a browser.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";
import type { Crop } from "../data/preprocess.ts";
import { augmentInto, drawWindowAugmentation } from "./augment.ts";
import { type AugmentOptions, resolveAugmentation } from "./augment_settings.ts";
import {
  type CaseSliceIndex,
  checkPatch,
  choosePatch,
  type PatchOptions,
  type TrainingWindow,
} from "./window_sampler.ts";

/** Offset of the patch draws' key from the augmentation's, so the two streams never meet. */
const PATCH_STREAM = 0x40000;

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
  /** Voxel spacing in mm [x, y, z] of the label volume, for HD95 as `eval` scores it (default 1 mm). */
  spacing?: [number, number, number];
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
 * Copies the windows of a batch out of their loaded cases, crops each to
 * `patch.size`² when asked (else whole slices), augments each (with draws
 * keyed by `key` and the window's position in the batch; crop and spatial
 * transform in one resampling pass), and packs them as network input and labels.
 *
 * @throws {RangeError} when the cases of one batch differ in slice size
 *   (whole slices only) or modalities, or for a bad patch size.
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
 * const crops = assembleBatch(batch, { cases: [loaded], seq: 3, key: [1, 0, 0], patch: { size: 32 } });
 * [crops.width, crops.height]; // [32, 32]: the 16² slices padded, centred
 * ```
 */
export function assembleBatch(
  windows: readonly TrainingWindow[],
  options: {
    cases: readonly LoadedCase[];
    seq: number;
    key: readonly [number, number, number];
    augment?: AugmentOptions | false;
    patch?: PatchOptions;
  },
): BatchArrays {
  const first = options.cases[0];
  const { modalities } = first;
  const size = options.patch?.size ?? 0;
  checkPatch(size, options.patch?.tumourShare);
  const width = size || first.width, height = size || first.height;
  const seq = options.seq;
  const plane = width * height;
  const perWindow = seq * modalities * plane;
  const image = new Float32Array(windows.length * perWindow);
  const labels = new Float32Array(windows.length * seq * plane);
  const settings = options.augment === false ? null : resolveAugmentation(options.augment);
  const [k0, k1, k2] = options.key;
  windows.forEach((w, b) => {
    const c = options.cases[b];
    checkCase(c, first, { seq, start: w.start, wholeSlices: size === 0 });
    const cPlane = c.width * c.height;
    const src = {
      width: c.width,
      height: c.height,
      image: c.image.subarray(w.start * modalities * cPlane, (w.start + seq) * modalities * cPlane),
      classes: c.classes.subarray(w.start * cPlane, (w.start + seq) * cPlane),
    };
    const place = size
      ? choosePatch({ ...src, seq }, { ...options.patch!, key: [k0, k1, k2, PATCH_STREAM + b] })
      : { left: 0, top: 0 };
    augmentInto(src, {
      width,
      height,
      image: image.subarray(b * perWindow, (b + 1) * perWindow),
      classes: labels.subarray(b * seq * plane, (b + 1) * seq * plane),
    }, {
      seq,
      channels: modalities,
      ...place,
      draw: drawWindowAugmentation(settings, [k0, k1, k2, b], modalities),
    });
  });
  return { image, labels, windows: windows.length, seq, modalities, height, width };
}

/** Checks that a window's case fits the batch: modalities, slice size (whole slices), depth. */
function checkCase(
  c: LoadedCase,
  first: LoadedCase,
  o: { seq: number; start: number; wholeSlices: boolean },
): void {
  const sameSize = c.width === first.width && c.height === first.height;
  if (c.modalities !== first.modalities || (o.wholeSlices && !sameSize)) {
    throw new RangeError(
      `case ${c.id} has ${c.width}×${c.height}×${c.modalities} slices, case ${first.id} ` +
        `${first.width}×${first.height}×${first.modalities}: training cases must share one ` +
        `padded slice size (or train on patches)`,
    );
  }
  if (o.start + o.seq > c.depth) {
    throw new RangeError(`window at slice ${o.start} runs past case ${c.id}'s ${c.depth} slices`);
  }
}
