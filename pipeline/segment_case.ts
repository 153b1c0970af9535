// This module is browser compatible.
/**
 * One case end to end: volume source -> model stage -> label stage -> NIfTI
 * sink, joined with `pipeThrough`/`pipeTo` so backpressure holds end to end
 * and an abort signal cancels every stage and aborts the output. Inputs are
 * sources (bytes, `Blob`s/`File`s, `io`'s file sources), the output a byte
 * stream; `io`'s `segmentCase` is the face that takes paths.
 *
 * @module
 */

import { MODALITIES, type Modality } from "../data/cases.ts";
import { mhaHeaderFromStream } from "../data/mha.ts";
import type { NiftiHeader } from "../data/nifti_header.ts";
import { niftiHeaderFromStream } from "../data/nifti_reader.ts";
import { type NamedSource, namedSource, type SourceInput, toBytes } from "../data/source.ts";
import { type InferenceOptions, labelStream, sourceOptions } from "./label_stream.ts";
import { NiftiSink } from "./nifti_sink.ts";
import type { SliceModel } from "../model/slice_model.ts";
import { inputWarnings } from "./_input_warnings.ts";
import { newStageTimes, type StageTimes } from "./records.ts";
import {
  postprocessingActive,
  postprocessLabels,
  type PostprocessResult,
} from "../data/postprocess.ts";
import { VolumeSource } from "./volume_source.ts";
import { ProbabilityStage } from "./probability_stage.ts";

export { DEFAULT_INFERENCE, type InferenceOptions, windowing } from "./label_stream.ts";

/** A case's four modality volumes (unnamed ones are named by their modality in errors). */
export type CaseSources = Readonly<Record<Modality, SourceInput>>;

/** Options of {@linkcode segmentSources}. */
export interface SegmentCaseOptions<State> extends InferenceOptions {
  /** The network. */
  model: SliceModel<State>;
  /** Aborting stops the case and aborts its output (no file is left). */
  signal?: AbortSignal;
  /** Gzip the output (default true: `.nii.gz`). */
  gzip?: boolean;
  /** Names the output in error messages. */
  name?: string;
  /**
   * Also write the class probabilities here: a 4-D uint8 NIfTI (x, y, z,
   * class; 255 = 1, scl_slope 1/255) with the labels' geometry and gzip.
   * Aborted when the case fails.
   */
  probabilities?: WritableStream<Uint8Array>;
  /** Called after each slice is written: slices done, slices in the volume. */
  onSlice?: (done: number, total: number) => void;
}

/** What segmenting one case did. */
export interface SegmentCaseResult {
  /** Volume size [x, y, z]. */
  shape: [number, number, number];
  /** Wall-clock seconds from opening the inputs to the finished output. */
  seconds: number;
  /** Milliseconds spent in each stage (they overlap in time). */
  times: StageTimes;
  /** Voxels predicted enhancing (before postprocessing). */
  enhancing: number;
  /** Whether the small-enhancing rule changed the output. */
  relabelled: boolean;
  /** Tumour voxels the largest-component rule set to background. */
  removed: number;
  /** Inputs that make the labels unreliable (a blank modality, non-axial slices), one line each. */
  warnings: string[];
}

/** The geometry the output copies from the FLAIR: its header, or a MetaImage's affine. */
async function flairGeometry(
  flair: NamedSource,
): Promise<{ affine?: number[][]; reference?: NiftiHeader }> {
  if (/\.mh[ad]$/i.test(flair.name)) {
    return { affine: (await mhaHeaderFromStream(flair, flair.name)).affine };
  }
  return { reference: await niftiHeaderFromStream(flair, { name: flair.name }) };
}

/**
 * Segments one case from its four modalities into `output`: the bytes of a
 * uint8 NIfTI (gzipped by default) with the FLAIR's geometry. On failure or
 * abort `output` is aborted.
 *
 * @throws {InputError} for bad inputs; an `AbortError` when aborted.
 * @example
 * ```ts
 * import { segmentSources } from "./segment_case.ts";
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
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
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const download = new Response(readable).blob();
 * await segmentSources({ flair, t1, t1ce, t2 }, writable, { model });
 * console.log((await download).size);
 * model.release();
 * ```
 */
export async function segmentSources<State>(
  sources: CaseSources,
  output: WritableStream<Uint8Array>,
  options: SegmentCaseOptions<State>,
): Promise<SegmentCaseResult> {
  const t0 = performance.now();
  const times = newStageTimes();
  let source: VolumeSource | undefined;
  try {
    options.signal?.throwIfAborted();
    const named = Object.fromEntries(
      MODALITIES.map((m) => [m, namedSource(sources[m], m)]),
    ) as Record<Modality, NamedSource>;
    const geometry = await flairGeometry(named.flair);
    source = await VolumeSource.open(named, { ...sourceOptions(options.model, options), times });
    return await run(source, output, geometry, { ...options, times, t0 });
  } catch (error) {
    await source?.cancel(error).catch(() => {});
    // Before the sinks took the outputs, nothing else can abort them.
    for (const out of [output, options.probabilities]) {
      if (out && !out.locked) await out.abort(error).catch(() => {});
    }
    throw error;
  }
}

/**
 * {@linkcode segmentSources} into memory: the output file's bytes with the result.
 *
 * @example
 * ```ts
 * import { segmentToBytes } from "./segment_case.ts";
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
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
 * const { bytes, seconds } = await segmentToBytes({ flair, t1, t1ce, t2 }, { model });
 * console.log(bytes.length, seconds);
 * model.release();
 * ```
 */
export async function segmentToBytes<State>(
  sources: CaseSources,
  options: SegmentCaseOptions<State>,
): Promise<SegmentCaseResult & { bytes: Uint8Array }> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const bytes = toBytes(readable);
  bytes.catch(() => {}); // a failure is segmentSources' to report
  const result = await segmentSources(sources, writable, options);
  return { ...result, bytes: await bytes };
}

async function run<State>(
  source: VolumeSource,
  output: WritableStream<Uint8Array>,
  geometry: { affine?: number[][]; reference?: NiftiHeader },
  options: SegmentCaseOptions<State> & { times: StageTimes; t0: number },
): Promise<SegmentCaseResult> {
  const { model, times } = options;
  const tap = options.probabilities &&
    new ProbabilityStage({ shape: source.shape, classes: model.classes, crop: source.crop, times });
  const { readable, stage } = labelStream(source, model, { ...options, tap: tap || undefined });
  const convention = options.labels ?? model.convention;
  let post: PostprocessResult = { removed: 0, relabelled: false, enhancing: 0 };
  const total = source.shape[2];
  let sink: NiftiSink;
  try {
    sink = new NiftiSink(output, {
      shape: source.shape,
      ...geometry,
      gzip: options.gzip,
      name: options.name,
      times,
      onSlice: (done) => options.onSlice?.(done, total),
      finish: postprocessingActive(options)
        ? (volume) => void (post = postprocessLabels(volume, source.shape, convention, options))
        : undefined,
    });
  } catch (error) {
    await readable.cancel(error).catch(() => {});
    throw error;
  }
  // Once the sink exists, only the pipe (which aborts it on failure) may fail.
  await readable.pipeTo(sink, { signal: options.signal });
  if (tap) {
    await tap.write(options.probabilities!, {
      ...geometry,
      gzip: options.gzip,
      name: options.name && `${options.name} (probabilities)`,
    });
  }
  return {
    shape: source.shape,
    seconds: (performance.now() - options.t0) / 1000,
    times,
    enhancing: stage.enhancing,
    relabelled: post.relabelled,
    removed: post.removed,
    warnings: inputWarnings(source.stats, geometry.affine ?? geometry.reference?.affine),
  };
}
