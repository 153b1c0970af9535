// This module is browser compatible.
/**
 * Case files as a {@linkcode TrainingSource} for the trainer: one streaming
 * pass over the training label volumes builds the per-slice tumour index and
 * the median-frequency class weights; cases are then loaded one at a time
 * when the trainer asks (through `data/preprocess.ts`, the preprocessing
 * `segment` uses), so the dataset is never held whole.
 *
 * @module
 */

import { type Case, MODALITIES } from "../data/cases.ts";
import type { SourceInput } from "../data/source.ts";
import { InputError } from "../data/input_error.ts";
import { type LabelConvention, labelConvention, labelsToClasses } from "../data/labels.ts";
import { ZScoreAccumulator, type ZScoreStats } from "../data/normalise.ts";
import { cropFor, padSlice, preprocessSlice, roundUp } from "../data/preprocess.ts";
import { MedianFrequencyAccumulator } from "./class_weights.ts";
import type { LoadedCase, TrainingSource, ValidationCase } from "./training_data.ts";
import type { CaseSliceIndex } from "./window_sampler.ts";
import { type MhaCache, type ModalityReader, openModality } from "../pipeline/_modality_reader.ts";

/** Options of {@linkcode openTrainingCases}. */
export interface TrainingCasesOptions {
  /** Label convention of the label volumes. */
  labels: LabelConvention;
  /** Held-out cases for validation (need label volumes too). */
  val?: readonly Case<SourceInput>[];
  /** Called after each training case is indexed (for progress). */
  onIndexed?: (done: number, total: number) => void;
  /** Free-form description recorded in checkpoints (e.g. the data folder). */
  description?: Record<string, unknown>;
}

/**
 * Indexes the training cases and returns them as a lazily loading source.
 *
 * @throws {InputError} for a case without a label volume, a bad file, or label values outside the convention.
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * const phantomCase = (seed: number) => { // a case in memory, as a browser builds from dropped files
 *   const p = generatePhantom({ size: [32, 32, 8], seed });
 *   const nii = (v: ArrayLike<number>, datatype: "int16" | "uint8" = "int16") =>
 *     encodeNifti(v, { shape: p.shape, datatype });
 *   const { flair, t1, t1ce, t2 } = p.modalities;
 *   return { id: `p${seed}`, dir: "memory", format: "nifti" as const, label: nii(p.label, "uint8"),
 *     modalities: { flair: nii(flair), t1: nii(t1), t1ce: nii(t1ce), t2: nii(t2) } };
 * };
 * import { openTrainingCases } from "./training_cases.ts";
 * const cases = [1, 2, 3].map(phantomCase);
 * const source = await openTrainingCases(cases.slice(1), { labels: "brats2017", val: cases.slice(0, 1) });
 * console.log(source.classWeights);
 * ```
 */
export async function openTrainingCases(
  train: readonly Case<SourceInput>[],
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
    loadVal: (i) => loadValidationCase(val[i], { labels: options.labels }),
    describe: () => ({
      ...options.description,
      train: train.map((c) => c.id),
      val: val.map((c) => c.id),
    }),
  };
}

/** Streams one case's label volume: which slices hold tumour, and class counts into `mfb`. */
async function indexCase(
  c: Case<SourceInput>,
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
      const cls = labelsToClasses(slice, convention, { path: reader.path, out });
      mfb.add(cls, { path: reader.path });
      tumour[k++] = cls.some((v) => v !== 0) ? 1 : 0;
    }
    return { index: { id: c.id, depth: z, tumour }, shape: reader.shape };
  } finally {
    await reader.close();
  }
}

/**
 * Reads one training case whole through the one preprocessing path
 * (`data/preprocess.ts`): modalities z-scored over the brain (background 0),
 * labels as classes, both centred in `width`×`height` planes (default: the
 * case's own size rounded up to the network's multiple).
 *
 * @throws {InputError} for bad files, mismatched shapes, or labels outside the convention.
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * const phantomCase = (seed: number) => { // a case in memory, as a browser builds from dropped files
 *   const p = generatePhantom({ size: [32, 32, 8], seed });
 *   const nii = (v: ArrayLike<number>, datatype: "int16" | "uint8" = "int16") =>
 *     encodeNifti(v, { shape: p.shape, datatype });
 *   const { flair, t1, t1ce, t2 } = p.modalities;
 *   return { id: `p${seed}`, dir: "memory", format: "nifti" as const, label: nii(p.label, "uint8"),
 *     modalities: { flair: nii(flair), t1: nii(t1), t1ce: nii(t1ce), t2: nii(t2) } };
 * };
 * import { loadCase } from "./training_cases.ts";
 * const loaded = await loadCase(phantomCase(1), { labels: "brats2017" });
 * loaded.image.length; // depth * 4 * height * width
 * ```
 */
export async function loadCase(
  c: Case<SourceInput>,
  options: { labels: LabelConvention; width?: number; height?: number },
): Promise<LoadedCase> {
  const cache: MhaCache = new Map();
  const flair = await readModality(c.modalities.flair, cache, null);
  const [x, y, z] = flair.shape;
  const W = options.width ?? roundUp(x), H = options.height ?? roundUp(y);
  if (x > W || y > H) {
    throw new InputError(flair.path, `slices ${x}×${y} exceed the training size ${W}×${H}`);
  }
  const crop = cropFor(x, y, { size: [W, H] });
  const plane = W * H, channels = MODALITIES.length;
  const image = new Float32Array(z * channels * plane);
  for (const [m, name] of MODALITIES.entries()) {
    const { slices, stats } = m === 0
      ? flair
      : await readModality(c.modalities[name], cache, flair.shape);
    slices.forEach((slice, k) => {
      preprocessSlice(slice, stats, crop, { out: image, offset: (k * channels + m) * plane });
    });
  }
  const classes = new Uint8Array(z * plane);
  await readLabels(
    c.label!,
    cache,
    { shape: flair.shape, convention: options.labels },
    (k, cls) => {
      padSlice(cls, crop, classes, k * plane);
    },
  );
  return { id: c.id, width: W, height: H, depth: z, crop, image, classes, modalities: channels };
}

/**
 * Reads one held-out case as it is (raw modality volumes and truth labels),
 * for validation through the inference path.
 *
 * @throws {InputError} for bad files, mismatched shapes, or labels outside the convention.
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * const phantomCase = (seed: number) => { // a case in memory, as a browser builds from dropped files
 *   const p = generatePhantom({ size: [32, 32, 8], seed });
 *   const nii = (v: ArrayLike<number>, datatype: "int16" | "uint8" = "int16") =>
 *     encodeNifti(v, { shape: p.shape, datatype });
 *   const { flair, t1, t1ce, t2 } = p.modalities;
 *   return { id: `p${seed}`, dir: "memory", format: "nifti" as const, label: nii(p.label, "uint8"),
 *     modalities: { flair: nii(flair), t1: nii(t1), t1ce: nii(t1ce), t2: nii(t2) } };
 * };
 * import { loadValidationCase } from "./training_cases.ts";
 * const held = await loadValidationCase(phantomCase(1), { labels: "brats2017" });
 * held.shape; // [32, 32, 8]
 * ```
 */
export async function loadValidationCase(
  c: Case<SourceInput>,
  options: { labels: LabelConvention },
): Promise<ValidationCase> {
  const cache: MhaCache = new Map();
  const modalities: Float32Array[] = [];
  let shape: [number, number, number] | null = null;
  for (const name of MODALITIES) {
    const read = await readModality(c.modalities[name], cache, shape);
    shape = read.shape;
    modalities.push(stack(read.slices, shape[0] * shape[1]));
  }
  const [x, y, z] = shape!;
  const labels = new Uint8Array(x * y * z);
  const spacing = await readLabels(
    c.label!,
    cache,
    { shape: shape!, convention: options.labels },
    (k, _, raw) => labels.set(raw, k * x * y),
  );
  return { id: c.id, shape: shape!, modalities, labels, spacing };
}

/** A modality's slices and brain statistics, checking its dims against the FLAIR's `shape`. */
async function readModality(
  source: SourceInput,
  cache: MhaCache,
  shape: readonly number[] | null,
): Promise<{ slices: Float32Array[]; stats: ZScoreStats; path: string; shape: Shape }> {
  const reader = await openModality(source, cache);
  try {
    checkShape(reader, shape);
    const acc = new ZScoreAccumulator({ path: reader.path });
    const slices: Float32Array[] = [];
    for await (const slice of reader.slices()) {
      acc.add(slice);
      slices.push(slice);
    }
    return { slices, stats: acc.stats(), path: reader.path, shape: reader.shape };
  } finally {
    await reader.close();
  }
}

/** Streams a label volume, calling `each` with each slice's classes and raw label values; returns its spacing. */
async function readLabels(
  source: SourceInput,
  cache: MhaCache,
  options: { shape: Shape; convention: LabelConvention },
  each: (z: number, classes: Uint8Array, labels: Uint8Array) => void,
): Promise<Shape | undefined> {
  const reader = await openModality(source, cache);
  try {
    checkShape(reader, options.shape);
    const out = new Uint8Array(options.shape[0] * options.shape[1]);
    let z = 0;
    for await (const slice of reader.slices()) {
      const classes = labelsToClasses(slice, options.convention, { path: reader.path, out });
      each(z++, classes, Uint8Array.from(slice));
    }
    return reader.spacing;
  } finally {
    await reader.close();
  }
}

type Shape = [number, number, number];

function checkShape(reader: ModalityReader, shape: readonly number[] | null): void {
  if (shape && reader.shape.join() !== shape.join()) {
    throw new InputError(
      reader.path,
      `is ${reader.shape.join("×")}, the FLAIR is ${shape.join("×")}`,
    );
  }
}

/** Slices of `plane` voxels stacked into one volume. */
function stack(slices: readonly Float32Array[], plane: number): Float32Array {
  const volume = new Float32Array(slices.length * plane);
  slices.forEach((slice, z) => volume.set(slice, z * plane));
  return volume;
}
