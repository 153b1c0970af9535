/**
 * The data layer: NIfTI reading and writing, and (from other modules) cases,
 * labels, normalisation, phantoms and metrics. Knows nothing of the GPU.
 *
 * @module
 */

export { InputError } from "./input_error.ts";
export {
  createNiftiHeader,
  type CreateNiftiHeaderOptions,
  minimumDataOffset,
  type NiftiDatatypeName,
  type NiftiHeader,
  niftiShape,
  parseNiftiHeader,
  serializeNiftiHeader,
  sniffNiftiHeader,
} from "./nifti_header.ts";
export { type NiftiVolume, parseNifti, readNifti, readNiftiHeader } from "./nifti_reader.ts";
export {
  type NiftiSliceOptions,
  type NiftiSliceReader,
  niftiSlicesFromStream,
  openNiftiSlices,
} from "./nifti_slices.ts";
export { createNiftiWriter, type NiftiWriterOptions, writeNifti } from "./nifti_writer.ts";
export {
  type Case,
  type CaseProblem,
  discoverCases,
  type Discovery,
  findLabelFiles,
  MODALITIES,
  type Modality,
  readVolumeGeometry,
  type VolumeFileRole,
  volumeFileRole,
  type VolumeGeometry,
} from "./cases.ts";
export { type MhaHeader, type MhaVolume, parseMhaHeader, readMha, readMhaHeader } from "./mha.ts";
export {
  checkLabels,
  classesToLabels,
  type ConventionInfo,
  invalidLabels,
  LABEL_CONVENTIONS,
  type LabelConvention,
  labelConvention,
  labelsToClasses,
  type Region,
  regionMasks,
  REGIONS,
  regionTables,
} from "./labels.ts";
export {
  normaliseSlice,
  NormaliseStream,
  ZScoreAccumulator,
  type ZScoreStats,
  zScoreStats,
} from "./normalise.ts";
export { generatePhantom, type Phantom, type PhantomOptions } from "./phantom.ts";
export { encodePng } from "./png.ts";
export {
  greyImage,
  imageToPng,
  labelColours,
  labelImage,
  overlayPng,
  previewPng,
  type RgbaImage,
  sideBySide,
} from "./overlay.ts";
export {
  CaseScorer,
  type CaseScores,
  EMPTY_REGION_RULE,
  percentile,
  type RegionScores,
  scoreCase,
  type ScoreOptions,
  type ScoreSummary,
  summariseScores,
} from "./metrics.ts";
