// This module is browser compatible.
/**
 * Streaming inference: a case's modalities read in lockstep as windows of
 * normalised slices, the network run window by window (each window from a
 * fresh convLSTM state by default, or the state carried through the whole
 * depth), class scores turned into labels, and the labels encoded as a
 * NIfTI with the FLAIR's geometry. Sources and byte streams only: `io`'s
 * `segmentCase` takes paths.
 *
 * @example
 * ```ts
 * import { NetworkSliceModel } from "../model/mod.ts";
 * import { segmentToBytes } from "./mod.ts";
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * // Four `File`s, as a page gets them from <input type="file">.
 * const p = generatePhantom({ size: [32, 32, 8], seed: 1 });
 * const [flair, t1, t1ce, t2] = (["flair", "t1", "t1ce", "t2"] as const).map((m) => {
 *   const bytes = encodeNifti(p.modalities[m], { shape: p.shape, datatype: "int16", affine: p.affine });
 *   return new File([bytes], `x_${m}.nii.gz`);
 * });
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const model = await NetworkSliceModel.fromBytes(new Uint8Array(await response.arrayBuffer()));
 * const { bytes } = await segmentToBytes({ flair, t1, t1ce, t2 }, { model });
 * console.log(bytes.length);
 * model.release();
 * ```
 *
 * @module
 */

export {
  type Crop,
  type LabelSlice,
  newStageTimes,
  type ScoreSlice,
  type StageTimes,
} from "./records.ts";
export { VolumeSource, type VolumeSourceOptions } from "./volume_source.ts";
export { type InferenceMode, ModelStage, type ModelStageOptions } from "./model_stage.ts";
export { convertLabels, LabelStage, type LabelStageOptions } from "./label_stage.ts";
export { NiftiSink, type NiftiSinkOptions } from "./nifti_sink.ts";
export {
  PROBABILITY_SCALE,
  ProbabilityStage,
  type ProbabilityStageOptions,
  quantiseProbabilities,
} from "./probability_stage.ts";
export { type LabelStream, labelStream, sourceOptions } from "./label_stream.ts";
export {
  type CaseSources,
  DEFAULT_INFERENCE,
  type InferenceOptions,
  type SegmentCaseOptions,
  type SegmentCaseResult,
  segmentSources,
  segmentToBytes,
  windowing,
} from "./segment_case.ts";
export {
  type NiftiModalities,
  segmentNifti,
  type SegmentNiftiOptions,
  type SegmentProgress,
} from "./segment_nifti.ts";
