// This module is browser compatible.
/**
 * The segmentation network (multi-modal encoder, cross-modality convolution,
 * convLSTM, multi-resolution fusion decoder) and its ablation variants on the
 * GPU, initialisation, safetensors checkpoints, and the network as the
 * pipeline's slice model. (Its float64 reference, `reference_network.ts`,
 * is for tests and is not exported.)
 *
 * @module
 */

export {
  DEFAULT_CONFIG,
  describeConfig,
  type EncoderKind,
  type FusionKind,
  modalityNames,
  type ModelConfig,
  modelConfig,
  type PresetName,
  PRESETS,
  sameConfig,
  type SequenceKind,
  validateConfig,
} from "./config.ts";
export { heNormal, orthogonal } from "./init.ts";
export {
  type ConvBnPlan,
  type DecoderStagePlan,
  initialValues,
  type InitKind,
  type NetworkPlan,
  networkPlan,
  parameterCount,
  type ParamSpec,
} from "./plan.ts";
export {
  type ForwardOptions,
  type NetworkOptions,
  type NormMode,
  releaseState,
  SegmentationNetwork,
  type StepResult,
  type StreamState,
} from "./network.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  type Safetensors,
} from "./safetensors.ts";
export {
  type Checkpoint,
  CHECKPOINT_VERSION,
  type CheckpointInfo,
  decodeCheckpoint,
  encodeCheckpoint,
  networkFromCheckpoint,
  restoreCheckpoint,
} from "./checkpoint.ts";
export { type SliceModel, type SliceStepResult, type SliceWindow } from "./slice_model.ts";
export { NetworkSliceModel } from "./network_slice_model.ts";
export { type EnsembleMember, EnsembleSliceModel } from "./ensemble_slice_model.ts";
export { DEFAULT_MODEL_URL, fetchCheckpoint } from "./default_model.ts";
