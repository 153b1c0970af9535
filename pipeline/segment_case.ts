/**
 * One case end to end: volume source -> model stage -> label stage -> NIfTI
 * sink, joined with `pipeThrough`/`pipeTo` so backpressure holds end to end
 * and an abort signal cancels every stage and removes temporary output.
 *
 * @module
 */

import type { Case } from "../data/cases.ts";
import type { LabelConvention } from "../data/labels.ts";
import { readMhaHeader } from "../data/mha.ts";
import type { NiftiHeader } from "../data/nifti_header.ts";
import { readNiftiHeader } from "../data/nifti_reader.ts";
import { LabelStage } from "./label_stage.ts";
import { type InferenceMode, ModelStage } from "./model_stage.ts";
import { NiftiSink } from "./nifti_sink.ts";
import type { SliceModel } from "../model/slice_model.ts";
import { newStageTimes, type StageTimes } from "./records.ts";
import { VolumeSource } from "./volume_source.ts";

/** How to run inference (shared by every case of a run). */
export interface InferenceOptions {
  /**
   * `stateful`: state carried through the whole depth; `windowed`: fresh per
   * window. Default {@linkcode DEFAULT_INFERENCE}'s.
   */
  mode?: InferenceMode;
  /** Windowed mode: slices per window (default 3, the training sequence length). */
  window?: number;
  /** Windowed mode: slices shared by consecutive windows (default: 0 for 3-slice windows, else half the window). */
  overlap?: number;
  /** Stateful mode: slices the encoder and decoder run on at once (default 4). */
  batch?: number;
  /** Mirror test-time augmentation. */
  tta?: boolean;
  /** Relabel enhancing as core when fewer voxels than this are enhancing (default 0: off). */
  minEnhancing?: number;
  /** Convention of the written labels (default: the model's). */
  labels?: LabelConvention;
}

/** Options of {@linkcode segmentCase}. */
export interface SegmentCaseOptions<State> extends InferenceOptions {
  /** The network. */
  model: SliceModel<State>;
  /** Aborting stops the case and removes its temporary files. */
  signal?: AbortSignal;
  /** Called after each slice is written: slices done, slices in the volume. */
  onSlice?: (done: number, total: number) => void;
}

/** What segmenting one case did. */
export interface SegmentCaseResult {
  /** Volume size [x, y, z]. */
  shape: [number, number, number];
  /** Wall-clock seconds from opening the inputs to the renamed output. */
  seconds: number;
  /** Milliseconds spent in each stage (they overlap in time). */
  times: StageTimes;
  /** Voxels predicted enhancing (before the small-enhancing rule). */
  enhancing: number;
  /** Whether the small-enhancing rule changed the output. */
  relabelled: boolean;
}

/**
 * The inference mode used when none is given: windows of 3 slices (the
 * training sequence length), each from a fresh convLSTM state, no overlap.
 * Chosen by measurement on held-out phantoms (`bench/inference_modes.ts`):
 * it scored higher Dice than state carried through the whole depth.
 */
export const DEFAULT_INFERENCE: Readonly<InferenceOptions> = {
  mode: "windowed",
  window: 3,
  overlap: 0,
};

/**
 * The source's window length and overlap for the chosen mode.
 *
 * @example
 * ```ts
 * windowing({ window: 8 }); // { depth: 8, overlap: 4 }
 * windowing({ mode: "stateful" }); // { depth: 4, overlap: 0 }
 * windowing({}); // DEFAULT_INFERENCE's: { depth: 3, overlap: 0 }
 * ```
 */
export function windowing(options: InferenceOptions): { depth: number; overlap: number } {
  if ((options.mode ?? DEFAULT_INFERENCE.mode) === "stateful") {
    return { depth: options.batch ?? 4, overlap: 0 };
  }
  const depth = options.window ?? DEFAULT_INFERENCE.window!;
  // 3-slice windows (the training length) scored best without overlap; longer ones overlap by half.
  const overlap = options.overlap ?? (depth === 3 ? 0 : Math.floor(depth / 2));
  return { depth, overlap };
}

/**
 * Segments one case into `outPath` (uint8 NIfTI, gzipped if it ends in
 * `.gz`, with the FLAIR's geometry). The file appears only when complete.
 *
 * @throws {InputError} for bad input files; an `AbortError` when aborted.
 * @example
 * ```ts
 * import { segmentCase } from "./segment_case.ts";
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
 * const model = await NetworkSliceModel.load("models/default.safetensors");
 * const result = await segmentCase(kase, "out/BraTS_001.nii.gz", { model, tta: true });
 * console.log(result.seconds, result.times);
 * ```
 */
export async function segmentCase<State>(
  input: Pick<Case, "modalities">,
  outPath: string,
  options: SegmentCaseOptions<State>,
): Promise<SegmentCaseResult> {
  const t0 = performance.now();
  options.signal?.throwIfAborted();
  const times = newStageTimes();
  const model = options.model;
  const flair = input.modalities.flair;
  const geometry = /\.mh[ad]$/i.test(flair)
    ? { affine: (await readMhaHeader(flair)).affine }
    : { reference: await readNiftiHeader(flair) };
  const source = await VolumeSource.open(input.modalities, {
    ...windowing(options),
    multiple: model.multiple,
    times,
  });
  try {
    return await run(source, outPath, geometry, { ...options, times, t0 });
  } catch (error) {
    await source.cancel(error).catch(() => {});
    throw error;
  }
}

async function run<State>(
  source: VolumeSource,
  outPath: string,
  geometry: { affine?: number[][]; reference?: NiftiHeader },
  options: SegmentCaseOptions<State> & { times: StageTimes; t0: number },
): Promise<SegmentCaseResult> {
  const { model, times } = options;
  const labels = new LabelStage({
    convention: model.convention,
    output: options.labels,
    crop: source.crop,
    minEnhancing: options.minEnhancing,
    times,
  });
  const minEnhancing = options.minEnhancing ?? 0;
  let relabelled = false;
  const total = source.shape[2];
  const sink = new NiftiSink(outPath, {
    shape: source.shape,
    ...geometry,
    times,
    onSlice: (done) => options.onSlice?.(done, total),
    relabel: minEnhancing > 0
      ? () => {
        const fix = labels.relabel();
        relabelled = fix !== null;
        return fix;
      }
      : undefined,
  });
  const scores = source.pipeThrough(
    new ModelStage(model, {
      mode: options.mode ?? DEFAULT_INFERENCE.mode,
      tta: options.tta,
      times,
    }),
  );
  await scores.pipeThrough(labels).pipeTo(sink, { signal: options.signal });
  return {
    shape: source.shape,
    seconds: (performance.now() - options.t0) / 1000,
    times,
    enhancing: labels.enhancing,
    relabelled,
  };
}
