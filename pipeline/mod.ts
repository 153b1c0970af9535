/**
 * Streaming inference: a case's modalities read in lockstep as windows of
 * normalised slices, the network run window by window (each window from a
 * fresh convLSTM state by default, or the state carried through the whole
 * depth), class scores turned into labels, and the
 * labels streamed into a NIfTI file with the FLAIR's geometry.
 *
 * @example
 * ```ts
 * import { NetworkSliceModel } from "../model/mod.ts";
 * import { segmentCase } from "./mod.ts";
 * const model = await NetworkSliceModel.load("models/default.safetensors");
 * await segmentCase(
 *   { modalities: { flair: "x_flair.nii.gz", t1: "x_t1.nii.gz", t1ce: "x_t1ce.nii.gz", t2: "x_t2.nii.gz" } },
 *   "out/x.nii.gz",
 *   { model },
 * );
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
export {
  convertLabels,
  coreLabelFor,
  LabelStage,
  type LabelStageOptions,
  type Relabel,
} from "./label_stage.ts";
export { NiftiSink, type NiftiSinkOptions } from "./nifti_sink.ts";
export {
  DEFAULT_INFERENCE,
  type InferenceOptions,
  segmentCase,
  type SegmentCaseOptions,
  type SegmentCaseResult,
  windowing,
} from "./segment_case.ts";
