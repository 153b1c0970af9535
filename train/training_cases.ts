/**
 * Case files as a {@linkcode TrainingSource} for the trainer: one streaming
 * pass over the training label volumes builds the per-slice tumour index and
 * the median-frequency class weights; cases are then loaded one at a time
 * (z-scored per modality over the brain, padded in-plane to a multiple of
 * 16) when the trainer asks, so the dataset is never held whole.
 *
 * @module
 */

import { type Case, MODALITIES } from "../data/cases.ts";
import { InputError } from "../data/input_error.ts";
import { type LabelConvention, labelConvention, labelsToClasses } from "../data/labels.ts";
import { normaliseSlice, ZScoreAccumulator } from "../data/normalise.ts";
import { MedianFrequencyAccumulator } from "./class_weights.ts";
import type { LoadedCase, TrainingSource } from "./training_data.ts";
import type { CaseSliceIndex } from "./window_sampler.ts";
import { type MhaCache, openModality } from "../pipeline/_modality_reader.ts";

const MULTIPLE = 16;

/** Options of {@linkcode openTrainingCases}. */
export interface TrainingCasesOptions {
  /** Label convention of the label volumes. */
  labels: LabelConvention;
  /** Held-out cases for validation (need label volumes too). */
  val?: readonly Case[];
  /** Called after each training case is indexed (for progress). */
  onIndexed?: (done: number, total: number) => void;
  /** Free-form description recorded in checkpoints (e.g. the data folder). */
  description?: Record<string, unknown>;
}

const roundUp = (n: number) => Math.ceil(n / MULTIPLE) * MULTIPLE;

/**
 * Indexes the training cases and returns them as a lazily loading source.
 *
 * @throws {InputError} for a case without a label volume, a bad file, or label values outside the convention.
 * @example
 * ```ts
 * import { discoverCases } from "../data/cases.ts";
 * import { openTrainingCases } from "./training_cases.ts";
 * const { cases } = await discoverCases("phantoms", { requireLabel: true });
 * const source = await openTrainingCases(cases.slice(2), { labels: "brats2017", val: cases.slice(0, 2) });
 * console.log(source.classWeights);
 * ```
 */
export async function openTrainingCases(
  train: readonly Case[],
  options: TrainingCasesOptions,
): Promise<TrainingSource> {
  const classes = labelConvention(options.labels).labels.length;
  const mfb = new MedianFrequencyAccumulator(classes);
  const index: CaseSliceIndex[] = [];
  let width = 0, height = 0;
  for (const [k, c] of train.entries()) {
    const entry = await indexCase(c, options.labels, mfb);
    index.push(entry.index);
    width = Math.max(width, roundUp(entry.shape[0]));
    height = Math.max(height, roundUp(entry.shape[1]));
    options.onIndexed?.(k + 1, train.length);
  }
  const val = [...(options.val ?? [])];
  for (const c of val) {
    if (!c.label) throw new InputError(c.dir, `validation case ${c.id} has no label volume`);
  }
  return {
    labels: options.labels,
    train: index,
    val: val.map((c) => c.id),
    classWeights: mfb.weights(),
    // Training cases share one padded size so they can share a batch.
    loadTrain: (i) => loadCase(train[i], { labels: options.labels, width, height }),
    loadVal: (i) => loadCase(val[i], { labels: options.labels }),
    describe: () => ({
      ...options.description,
      train: train.map((c) => c.id),
      val: val.map((c) => c.id),
    }),
  };
}

/** Streams one case's label volume: which slices hold tumour, and class counts into `mfb`. */
async function indexCase(
  c: Case,
  convention: LabelConvention,
  mfb: MedianFrequencyAccumulator,
): Promise<{ index: CaseSliceIndex; shape: [number, number, number] }> {
  if (!c.label) {
    throw new InputError(c.dir, `case ${c.id} has no label volume, needed for training`);
  }
  const reader = await openModality(c.label, new Map());
  try {
    const [, , z] = reader.shape;
    const tumour = new Uint8Array(z);
    let k = 0;
    const out = new Uint8Array(reader.shape[0] * reader.shape[1]);
    for await (const slice of reader.slices()) {
      const cls = labelsToClasses(slice, convention, { path: c.label, out });
      mfb.add(cls, { path: c.label });
      tumour[k++] = cls.some((v) => v !== 0) ? 1 : 0;
    }
    return { index: { id: c.id, depth: z, tumour }, shape: reader.shape };
  } finally {
    await reader.close();
  }
}

/**
 * Reads one case whole: modalities z-scored over the brain (background 0),
 * labels as classes, both padded at the high end to `width`×`height` (default:
 * the case's own size rounded up to a multiple of 16).
 *
 * @throws {InputError} for bad files, mismatched shapes, or labels outside the convention.
 * @example
 * ```ts
 * const loaded = await loadCase(kase, { labels: "brats2017" });
 * loaded.image.length; // depth * 4 * height * width
 * ```
 */
export async function loadCase(
  c: Case,
  options: { labels: LabelConvention; width?: number; height?: number },
): Promise<LoadedCase> {
  const cache: MhaCache = new Map();
  let image: Float32Array | null = null;
  let shape: [number, number, number] = [0, 0, 0];
  let W = 0, H = 0;
  for (const [m, name] of MODALITIES.entries()) {
    const reader = await openModality(c.modalities[name], cache);
    try {
      if (m === 0) {
        shape = reader.shape;
        W = options.width ?? roundUp(shape[0]);
        H = options.height ?? roundUp(shape[1]);
        if (shape[0] > W || shape[1] > H) {
          throw new InputError(
            reader.path,
            `slices ${shape[0]}×${shape[1]} exceed the training size ${W}×${H}`,
          );
        }
        image = new Float32Array(shape[2] * MODALITIES.length * W * H);
      } else if (reader.shape.join() !== shape.join()) {
        throw new InputError(
          reader.path,
          `is ${reader.shape.join("×")}, the FLAIR is ${shape.join("×")}`,
        );
      }
      const acc = new ZScoreAccumulator({ path: reader.path });
      let z = 0;
      for await (const slice of reader.slices()) {
        acc.add(slice);
        placeSlice(slice, image!, ((z++ * MODALITIES.length) + m) * W * H, shape[0], shape[1], W);
      }
      const stats = acc.stats();
      for (let k = 0; k < shape[2]; k++) {
        const plane = image!.subarray(
          (k * MODALITIES.length + m) * W * H,
          (k * MODALITIES.length + m + 1) * W * H,
        );
        normaliseSlice(plane, stats, { out: plane }); // in place: each value is read before written
      }
    } finally {
      await reader.close();
    }
  }
  const classes = new Uint8Array(shape[2] * W * H);
  const reader = await openModality(c.label!, cache);
  try {
    if (reader.shape.join() !== shape.join()) {
      throw new InputError(
        reader.path,
        `is ${reader.shape.join("×")}, the FLAIR is ${shape.join("×")}`,
      );
    }
    let z = 0;
    const out = new Uint8Array(shape[0] * shape[1]);
    for await (const slice of reader.slices()) {
      placeSlice(
        labelsToClasses(slice, options.labels, { path: reader.path, out }),
        classes,
        z++ * W * H,
        shape[0],
        shape[1],
        W,
      );
    }
  } finally {
    await reader.close();
  }
  return {
    id: c.id,
    width: W,
    height: H,
    depth: shape[2],
    original: [shape[0], shape[1]],
    image: image!,
    classes,
    modalities: MODALITIES.length,
  };
}

/** Copies an x×y slice into a padded plane of row length `W` starting at `base`. */
function placeSlice(
  slice: ArrayLike<number>,
  into: Float32Array | Uint8Array,
  base: number,
  x: number,
  y: number,
  W: number,
): void {
  for (let j = 0; j < y; j++) {
    for (let i = 0; i < x; i++) into[base + j * W + i] = slice[j * x + i];
  }
}
