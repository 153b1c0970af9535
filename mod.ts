/**
 * Brain-tumour segmentation of multi-modal MRI (FLAIR, T1, T1c, T2) on
 * WebGPU: the cross-modality convolution + convLSTM network of Tseng et al.
 * (CVPR 2017) in WGSL, streaming inference from NIfTI or MetaImage cases to
 * NIfTI label volumes, scoring, and two-phase training.
 *
 * These are the names a user calls; the layers beneath have their own entry
 * points: `./data` (codecs on bytes, labels, phantoms, metrics), `./gpu`
 * (device, tensors, kernels), `./model` (network, configs, checkpoints),
 * `./pipeline` (inference streams), `./train` (trainer and its parts),
 * `./io` (files). Everything except `./io` and the path functions here
 * works on bytes and web streams, so it runs in a browser with WebGPU.
 *
 * @example Segment every case of a folder, then score one against its labels
 * ```ts
 * import {
 *   discoverCases,
 *   generatePhantom,
 *   loadModel,
 *   readNifti,
 *   scoreCase,
 *   segmentCase,
 *   writeNifti,
 * } from "./mod.ts";
 *
 * // A tiny BraTS-style case to work on (your data: a folder of BraTS cases).
 * const dir = await Deno.makeTempDir();
 * const phantom = generatePhantom({ seed: 1, size: [96, 96, 24] });
 * for (const [name, data] of Object.entries({ ...phantom.modalities, seg: phantom.label })) {
 *   await writeNifti(`${dir}/case1_${name}.nii.gz`, data, {
 *     shape: phantom.shape,
 *     datatype: name === "seg" ? "uint8" : "int16",
 *   });
 * }
 *
 * const model = await loadModel("models/default.safetensors");
 * const { cases } = await discoverCases(dir);
 * for (const c of cases) await segmentCase(c, `${dir}/${c.id}.nii.gz`, { model });
 * model.release();
 *
 * const prediction = await readNifti(`${dir}/case1.nii.gz`);
 * const truth = await readNifti(`${dir}/case1_seg.nii.gz`);
 * const scores = scoreCase(prediction.data, truth.data, {
 *   shape: phantom.shape,
 *   convention: "brats2017",
 * });
 * console.log(scores.dice.whole > 0.8); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Segment a case held in memory (a page's `File`s, a fetch's bytes) with the shipped model
 * ```ts
 * import { encodeNifti, generatePhantom, parseNifti, segmentNifti } from "./mod.ts";
 *
 * const phantom = generatePhantom({ seed: 2, size: [64, 64, 12] });
 * const [flair, t1, t1ce, t2] = (["flair", "t1", "t1ce", "t2"] as const).map((m) =>
 *   new File([encodeNifti(phantom.modalities[m], { shape: phantom.shape, datatype: "int16" })], `c_${m}.nii.gz`)
 * );
 * const labels = await segmentNifti({ flair, t1, t1ce, t2 }, {
 *   onProgress: ({ slicesDone, slicesTotal }) => console.log(`${slicesDone}/${slicesTotal} slices`),
 * });
 * console.log(parseNifti(labels).header.datatypeName); // "uint8": the label volume's .nii.gz bytes
 * ```
 *
 * @module
 */

// Segmenting: a case from files, or from bytes (a browser's File or Blob too).
export { segmentCase } from "./io/segment.ts";
export { type CaseSources, type SegmentCaseOptions } from "./pipeline/segment_case.ts";
export {
  type ModelInput,
  type NiftiModalities,
  segmentNifti,
  type SegmentNiftiOptions,
  type SegmentProgress,
} from "./pipeline/segment_nifti.ts";
// Models: a checkpoint from a path or bytes, as the network the pipeline runs.
export { checkpointPaths, loadModel } from "./io/checkpoint.ts";
export type { NetworkSliceModel } from "./model/network_slice_model.ts";
export { EnsembleSliceModel } from "./model/ensemble_slice_model.ts";
export { DEFAULT_MODEL_URL } from "./model/default_model.ts";
// NIfTI volumes and cases.
export { readNifti, writeNifti } from "./io/nifti.ts";
export { type NiftiVolume, parseNifti } from "./data/nifti_reader.ts";
export { encodeNifti } from "./data/nifti_encoder.ts";
export { discoverCases } from "./io/cases.ts";
export type { Case } from "./data/cases.ts";
// Built-in data: BraTS-style synthetic cases, to try the tool without a data set.
export { generatePhantom } from "./data/phantom.ts";
// Labels and scores.
export {
  LABEL_CONVENTIONS,
  type LabelConvention,
  labelConvention,
  type Region,
  REGIONS,
} from "./data/labels.ts";
export { type CaseScores, scoreCase } from "./data/metrics.ts";
export { type ScoreSummary, summariseScores } from "./data/score_summary.ts";
// Training.
export { train, type TrainOptions, type TrainResult } from "./train/trainer.ts";
export { openTrainingCases } from "./train/training_cases.ts";
export { trainingFiles } from "./io/training_files.ts";
// Errors: bad input (one line naming the file), and no WebGPU adapter.
export { InputError } from "./data/input_error.ts";
export { GpuUnavailableError } from "./gpu/device.ts";
