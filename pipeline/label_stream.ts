// This module is browser compatible.
/**
 * The inference chain every caller shares: a {@linkcode VolumeSource}'s
 * windows through the {@linkcode ModelStage} and the {@linkcode LabelStage},
 * with `segment`'s windowing rule and defaults. `segment` pipes the label
 * slices into its NIfTI sink, training's validation into a volume in memory,
 * so a validation Dice is what `segment` + `eval` report.
 *
 * @module
 */

import type { SliceModel } from "../model/slice_model.ts";
import { LabelStage } from "./label_stage.ts";
import { type InferenceMode, ModelStage } from "./model_stage.ts";
import type { LabelSlice, ScoreSlice, StageTimes } from "./records.ts";
import type { VolumeSource, VolumeSourceOptions } from "./volume_source.ts";
import type { LabelConvention } from "../data/labels.ts";
import type { Postprocessing } from "../data/postprocess.ts";

/** How to run inference and postprocess its labels (shared by every case of a run). */
export interface InferenceOptions extends Postprocessing {
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
  /** Convention of the written labels (default: the model's). */
  labels?: LabelConvention;
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
 * import { windowing } from "./label_stream.ts";
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
 * The {@linkcode VolumeSource} options that feed `model` with `options`'
 * windowing: window length, overlap and the model's in-plane multiple.
 *
 * @example
 * ```ts
 * import { sourceOptions } from "./label_stream.ts";
 * sourceOptions({ multiple: 16 }, { window: 8 }); // { depth: 8, overlap: 4, multiple: 16 }
 * ```
 */
export function sourceOptions(
  model: { readonly multiple: number },
  options: InferenceOptions,
): VolumeSourceOptions & { depth: number; overlap: number; multiple: number } {
  return { ...windowing(options), multiple: model.multiple };
}

/** A case's label slices, and the stage that counted its enhancing voxels. */
export interface LabelStream {
  /** Cropped label slices in depth order. */
  readable: ReadableStream<LabelSlice>;
  /** The label stage (it counts the enhancing voxels). */
  stage: LabelStage;
}

/**
 * Runs `model` over `source` (opened with {@linkcode sourceOptions}) and
 * turns the scores into label slices: the stage chain of `segment` and of
 * training's validation.
 *
 * @throws {RangeError} for a bad inference mode.
 * @example
 * ```ts
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
 * import { labelStream, sourceOptions } from "./label_stream.ts";
 * import { VolumeSource } from "./volume_source.ts";
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const model = await NetworkSliceModel.fromBytes(new Uint8Array(await response.arrayBuffer()));
 * const volume = new Float32Array(40 * 36 * 5).fill(1);
 * const source = await VolumeSource.fromArrays(
 *   [volume, volume, volume, volume],
 *   [40, 36, 5],
 *   sourceOptions(model, {}),
 * );
 * const { readable } = labelStream(source, model, {});
 * for await (const slice of readable) console.log(slice.z, slice.labels.length); // 40 * 36 each
 * model.release();
 * ```
 */
export function labelStream<State>(
  source: VolumeSource,
  model: SliceModel<State>,
  options: InferenceOptions & {
    times?: StageTimes;
    /** Sees every score slice, with probabilities, on its way to the labels. */
    tap?: TransformStream<ScoreSlice, ScoreSlice>;
  },
): LabelStream {
  const { times } = options;
  const stage = new LabelStage({
    convention: model.convention,
    output: options.labels,
    crop: source.crop,
    times,
  });
  const scores = source.pipeThrough(
    new ModelStage(model, {
      mode: options.mode ?? DEFAULT_INFERENCE.mode,
      tta: options.tta,
      probabilities: options.tap !== undefined,
      times,
    }),
  );
  const tapped = options.tap ? scores.pipeThrough(options.tap) : scores;
  return { readable: tapped.pipeThrough(stage), stage };
}
