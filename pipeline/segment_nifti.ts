// This module is browser compatible.
/**
 * The one call a page or a script holding files in memory needs: four
 * modality files in, the label volume's `.nii.gz` bytes out, the same bytes
 * `deno task segment` writes for the same inputs, model and options.
 *
 * @module
 */

import { MODALITIES, type Modality } from "../data/cases.ts";
import { InputError } from "../data/input_error.ts";
import { fetchCheckpoint } from "../model/default_model.ts";
import { EnsembleSliceModel } from "../model/ensemble_slice_model.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import type { SliceModel } from "../model/slice_model.ts";
import type { InferenceOptions } from "./label_stream.ts";
import { segmentToBytes } from "./segment_case.ts";

/** A case's four modalities, each a `.nii` or `.nii.gz` file's bytes or a `Blob`/`File` of it. */
export type NiftiModalities = Readonly<Record<Modality, Uint8Array | Blob>>;

/** How far {@linkcode segmentNifti} is. */
export interface SegmentProgress {
  /** Label slices written so far. */
  slicesDone: number;
  /** Slices in the volume. */
  slicesTotal: number;
}

/** One model for {@linkcode segmentNifti}: loaded (any slice model, an ensemble too), or checkpoint bytes. */
export type ModelInput = SliceModel<unknown> | Uint8Array;

/** Options of {@linkcode segmentNifti}: the inference options `segment` has, and the model. */
export interface SegmentNiftiOptions extends InferenceOptions {
  /**
   * A loaded model (kept: the caller releases it), or a checkpoint's bytes
   * (loaded and released here), or a list of these: an ensemble whose class
   * probabilities are averaged, as `segment --model a,b` does. Default: the
   * shipped model, fetched from beside the module.
   */
  model?: ModelInput | readonly ModelInput[];
  /** Called after each label slice is written. */
  onProgress?: (progress: SegmentProgress) => void;
  /** Called with each line saying the labels may be unreliable (a blank modality, non-axial slices). */
  onWarning?: (line: string) => void;
  /** Aborting stops the case; the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/**
 * Segments one case held in memory: resolves to the labels as gzipped NIfTI
 * bytes (uint8, the FLAIR's geometry), byte for byte what `deno task segment`
 * writes for the same files, model and options.
 *
 * @throws {InputError} one line naming the file and the problem (a missing
 * modality, a bad or mismatched volume, a bad checkpoint), as the CLI prints it.
 * @example
 * ```ts
 * import { segmentNifti } from "./segment_nifti.ts";
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { parseNifti } from "../data/nifti_reader.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * // Four `File`s, as a page gets them from <input type="file">.
 * const p = generatePhantom({ size: [32, 32, 8], seed: 1 });
 * const [flair, t1, t1ce, t2] = (["flair", "t1", "t1ce", "t2"] as const).map((m) => {
 *   const bytes = encodeNifti(p.modalities[m], { shape: p.shape, datatype: "int16", affine: p.affine });
 *   return new File([bytes], `x_${m}.nii.gz`);
 * });
 * const labels = await segmentNifti({ flair, t1, t1ce, t2 }, {
 *   tta: true,
 *   onProgress: ({ slicesDone, slicesTotal }) => console.log(`${slicesDone}/${slicesTotal}`),
 * });
 * console.log(parseNifti(labels).header.dims.slice(1, 4)); // [32, 32, 8]
 * ```
 */
export async function segmentNifti(
  modalities: NiftiModalities,
  options: SegmentNiftiOptions = {},
): Promise<Uint8Array> {
  const missing = MODALITIES.filter((m) => modalities?.[m] === undefined);
  if (missing.length > 0) {
    throw new InputError("case", `missing ${missing.join(", ")} (four modalities are needed)`);
  }
  options.signal?.throwIfAborted();
  const { model, onProgress, onWarning, ...inference } = options;
  const inputs: readonly ModelInput[] = model === undefined
    ? [await fetchCheckpoint()]
    : (Array.isArray(model) ? model : [model as ModelInput]);
  if (inputs.length === 0) throw new InputError("model", "an empty list of models");
  const owned: NetworkSliceModel[] = [];
  try {
    const members: SliceModel<unknown>[] = [];
    for (const input of inputs) {
      if (!(input instanceof Uint8Array)) members.push(input);
      else members.push(owned[owned.push(await NetworkSliceModel.fromBytes(input)) - 1]);
    }
    const result = await segmentToBytes(modalities, {
      ...inference,
      model: members.length === 1 ? members[0] : new EnsembleSliceModel(members),
      gzip: true,
      onSlice: onProgress && ((slicesDone, slicesTotal) => onProgress({ slicesDone, slicesTotal })),
    });
    if (onWarning) result.warnings.forEach((line) => onWarning(line));
    return result.bytes;
  } finally {
    owned.forEach((m) => m.release());
  }
}
