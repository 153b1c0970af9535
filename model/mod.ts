/**
 * The segmentation network (multi-modal encoder, cross-modality convolution,
 * convLSTM, multi-resolution fusion decoder) and its ablation variants on the
 * GPU, its float64 reference, initialisation and safetensors checkpoints.
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
export { heNormal, orthogonal, Random } from "./init.ts";
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
  referenceForward,
  type ReferenceOptions,
  type ReferenceParams,
  type ReferenceResult,
  type RefTensor,
} from "./reference_network.ts";
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
export { loadCheckpoint, loadCheckpointInto, saveCheckpoint } from "./checkpoint_file.ts";
export {
  type ClassFrequencyCounts,
  MedianFrequencyAccumulator,
  medianFrequencyWeights,
} from "./class_weights.ts";
export {
  CaseCache,
  type CaseSliceIndex,
  type TrainingPhase,
  type TrainingWindow,
  WindowSampler,
  type WindowSamplerOptions,
} from "./window_sampler.ts";
export {
  type AugmentDraw,
  type AugmentOptions,
  augmentWindow,
  type WindowData,
} from "./augment.ts";
export {
  assembleBatch,
  type BatchArrays,
  type LoadedCase,
  type TrainingSource,
} from "./training_data.ts";
export {
  type StepProgress,
  train,
  trainingPaths,
  type TrainOptions,
  type TrainRecord,
  type TrainResult,
} from "./trainer.ts";
export {
  predictCase,
  type PredictOptions,
  scoreLoaded,
  validate,
  type ValidationResult,
} from "./validate.ts";
export {
  ABLATION_VARIANTS,
  type AblationOptions,
  type AblationRow,
  ablationTable,
  type AblationVariant,
  runAblation,
} from "./ablation.ts";
export { curvesSvg, type EpochRecord } from "./curves_svg.ts";
