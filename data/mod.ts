// This module is browser compatible.
/**
 * The data layer: NIfTI and MetaImage codecs on bytes and web streams,
 * case discovery on a listing, labels, normalisation, phantoms and metrics.
 * Knows nothing of the GPU or of files (`io` reads and writes those).
 *
 * @module
 */

export { InputError } from "./input_error.ts";
export { Random } from "./random.ts";
export {
  minimumDataOffset,
  type NiftiDatatypeName,
  type NiftiHeader,
  niftiShape,
  parseNiftiHeader,
  sniffNiftiHeader,
} from "./nifti_header.ts";
export {
  createNiftiHeader,
  type CreateNiftiHeaderOptions,
  serializeNiftiHeader,
} from "./nifti_header_create.ts";
export {
  type ByteInput,
  type ByteSource,
  headBytes,
  type NamedSource,
  namedSource,
  type SourceInput,
  sourceSize,
  toBytes,
  toStream,
} from "./source.ts";
export { niftiHeaderFromStream, type NiftiVolume, parseNifti } from "./nifti_reader.ts";
export {
  type NiftiSliceOptions,
  type NiftiSliceReader,
  niftiSlicesFromStream,
} from "./nifti_slices.ts";
export { encodeNifti, NiftiEncoder, type NiftiEncoderOptions } from "./nifti_encoder.ts";
export {
  type Case,
  type CaseProblem,
  casesFromListing,
  type CasesFromListingOptions,
  type Discovery,
  labelFilesFromListing,
  MODALITIES,
  type Modality,
  type VolumeFileRole,
  volumeFileRole,
} from "./cases.ts";
export { mhaGeometry, niftiGeometry, type VolumeGeometry } from "./volume_geometry.ts";
export {
  decodeMha,
  type DecodeMhaOptions,
  type MhaHeader,
  mhaHeaderFromStream,
  type MhaVolume,
  parseMhaHeader,
} from "./mha.ts";
export {
  argmaxClasses,
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
export {
  PHANTOM_LIMITS,
  PHANTOM_VARIETIES,
  type PhantomSpan,
  type PhantomVariety,
  type PhantomVarietySettings,
} from "./phantom_settings.ts";
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
  type RegionScores,
  scoreCase,
  type ScoreOptions,
} from "./metrics.ts";
export { percentile } from "./hd95.ts";
export {
  coreLabelFor,
  keepLargestComponent,
  parsePostprocessing,
  type Postprocessing,
  POSTPROCESSING_FILE,
  postprocessingActive,
  postprocessLabels,
  type PostprocessResult,
} from "./postprocess.ts";
export {
  type CandidateScore,
  MIN_ENHANCING_GRID,
  PostprocessSearch,
} from "./postprocess_search.ts";
export { type ScoreSummary, summariseScores } from "./score_summary.ts";
