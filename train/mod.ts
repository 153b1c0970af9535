// This module is browser compatible.
/**
 * Training: the two-phase median-frequency-balanced trainer, its window
 * sampler, augmentation, class weights, validation, ablation and curves.
 *
 * @module
 */

export {
  type ClassFrequencyCounts,
  MedianFrequencyAccumulator,
  medianFrequencyWeights,
} from "./class_weights.ts";
export {
  CaseCache,
  type CaseSliceIndex,
  choosePatch,
  type PatchOptions,
  type PatchPlace,
  type TrainingPhase,
  type TrainingWindow,
  WindowSampler,
  type WindowSamplerOptions,
} from "./window_sampler.ts";
export {
  AUGMENT_PRESETS,
  type AugmentDraw,
  type AugmentOptions,
  type AugmentPreset,
  type AugmentSettings,
  augmentWindow,
  type ChannelDraw,
  type ChannelTransformSetting,
  describeAugmentation,
  type ElasticSetting,
  type GammaSetting,
  resolveAugmentation,
  type TransformSetting,
  type WindowData,
} from "./augment.ts";
export {
  assembleBatch,
  type BatchArrays,
  type LoadedCase,
  type TrainingSource,
  type ValidationCase,
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
  scorePrediction,
  validate,
  type ValidationOptions,
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
export {
  describePlan,
  type EpochsPlan,
  planEpochs,
  type PlanRequest,
  type SchedulePlan,
} from "./budget_plan.ts";
export { type LearningRateSchedule } from "./schedule.ts";
export {
  loadCase,
  loadValidationCase,
  openTrainingCases,
  type TrainingCasesOptions,
} from "./training_cases.ts";
export { assignFolds, type FoldCase, hasEnhancing } from "./folds.ts";
