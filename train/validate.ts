// This module is browser compatible.
/**
 * Validation through `segment`'s inference: each held-out case streams from
 * its volumes in memory through the pipeline's own stages (volume source,
 * model stage, label stage) with `segment`'s windowing and options, and is
 * scored with the data layer's streaming metrics as `eval` scores the
 * written labels, so a validation Dice is what `segment` + `eval` report.
 *
 * @module
 */

import { REGIONS } from "../data/labels.ts";
import { postprocessLabels } from "../data/postprocess.ts";
import { CaseScorer, type CaseScores, type RegionScores } from "../data/metrics.ts";
import type { SliceModel } from "../model/slice_model.ts";
import {
  DEFAULT_INFERENCE,
  type InferenceOptions,
  labelStream,
  sourceOptions,
} from "../pipeline/label_stream.ts";
import { VolumeSource } from "../pipeline/volume_source.ts";
import type { TrainingSource, ValidationCase } from "./training_data.ts";

/** Validation result: mean Dice over cases, and each case's scores. */
export interface ValidationResult {
  /** Mean Dice per region over the cases. */
  dice: RegionScores;
  /** Scores of each case, in `source.val` order. */
  cases: { id: string; scores: CaseScores }[];
}

/**
 * How validation runs inference: `segment`'s options (default
 * {@linkcode DEFAULT_INFERENCE}), labels always in the model's convention.
 */
export type ValidationOptions = Omit<InferenceOptions, "labels">;

/**
 * The `segment` options the trainer validates with: `windowed` is `segment
 * --window SEQ` (with seq 3, `segment`'s default), `stateful` is `segment --stateful`.
 *
 * @example
 * ```ts
 * import { trainerValidation } from "./validate.ts";
 * trainerValidation({ valMode: "windowed", seq: 3 }); // { mode: "windowed", window: 3 }
 * ```
 */
export function trainerValidation(
  options: { valMode?: "windowed" | "stateful"; seq?: number },
): ValidationOptions {
  return options.valMode === "stateful"
    ? { mode: "stateful" }
    : { mode: "windowed", window: options.seq ?? 3 };
}

/**
 * The label volume `segment` would write for a held-out case
 * (`[z][y][x]`, x fastest, in the model's convention).
 *
 * @example
 * ```ts
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
 * import { predictCase } from "./validate.ts";
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const model = await NetworkSliceModel.fromBytes(new Uint8Array(await response.arrayBuffer()));
 * const volume = new Float32Array(48 * 48 * 6).fill(1);
 * const labels = await predictCase(model, {
 *   id: "flat",
 *   shape: [48, 48, 6],
 *   modalities: [volume, volume, volume, volume],
 *   labels: new Uint8Array(48 * 48 * 6),
 * });
 * labels.length; // 48 * 48 * 6
 * model.release();
 * ```
 */
export async function predictCase<State>(
  model: SliceModel<State>,
  held: ValidationCase,
  options: ValidationOptions = DEFAULT_INFERENCE,
): Promise<Uint8Array> {
  const [x, y, z] = held.shape;
  const source = await VolumeSource.fromArrays(held.modalities, held.shape, {
    ...sourceOptions(model, options),
    names: held.modalities.map((_, m) => `${held.id} channel ${m}`),
  });
  const { readable } = labelStream(source, model, options);
  const out = new Uint8Array(x * y * z);
  await readable.pipeTo(
    new WritableStream({ write: (slice) => out.set(slice.labels, slice.z * x * y) }),
  );
  // Postprocessing, as the NIfTI sink applies it once the volume is complete.
  postprocessLabels(out, held.shape, model.convention, options);
  return out;
}

/**
 * Scores the model on every validation case of `source`.
 *
 * @example
 * ```ts
 * import { generatePhantom } from "../data/phantom.ts";
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
 * import type { TrainingSource, ValidationCase } from "./training_data.ts";
 * import { validate } from "./validate.ts";
 * // One held-out phantom in memory (a real source comes from `openTrainingCases`).
 * const p = generatePhantom({ size: [48, 48, 12], seed: 3 });
 * const { flair, t1, t1ce, t2 } = p.modalities;
 * const held: ValidationCase = {
 *   id: "p3",
 *   shape: p.shape,
 *   modalities: [flair, t1, t1ce, t2].map((m) => Float32Array.from(m)),
 *   labels: p.label,
 *   spacing: p.spacing,
 * };
 * const source: TrainingSource = {
 *   labels: "brats2017", train: [], val: ["p3"], classWeights: [],
 *   loadTrain: () => Promise.reject(new Error("no training cases")),
 *   loadVal: () => Promise.resolve(held),
 *   describe: () => ({}),
 * };
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const model = await NetworkSliceModel.fromBytes(new Uint8Array(await response.arrayBuffer()));
 * const { dice, cases } = await validate(model, source);
 * console.log(dice.whole, cases[0].scores.hd95.whole); // Dice, and HD95 in mm
 * model.release();
 * ```
 */
export async function validate<State>(
  model: SliceModel<State>,
  source: TrainingSource,
  options: ValidationOptions = DEFAULT_INFERENCE,
): Promise<ValidationResult> {
  const cases: ValidationResult["cases"] = [];
  for (let i = 0; i < source.val.length; i++) {
    const held = await source.loadVal(i);
    const predicted = await predictCase(model, held, options);
    cases.push({ id: held.id, scores: scorePrediction(held, predicted, source.labels) });
  }
  const dice = { whole: 0, core: 0, enhancing: 0 };
  for (const r of REGIONS) {
    dice[r] = cases.reduce((s, c) => s + c.scores.dice[r], 0) / Math.max(1, cases.length);
  }
  return { dice, cases };
}

/**
 * Scores a predicted label volume against a held-out case's truth, slice by
 * slice as `eval` does (HD95 in mm with the case's voxel spacing).
 *
 * @example
 * ```ts
 * import { scorePrediction } from "./validate.ts";
 * const truth = new Uint8Array([0, 2, 2, 0]);
 * const held = { id: "a", shape: [2, 2, 1] as [number, number, number], modalities: [], labels: truth };
 * scorePrediction(held, truth, "brats2017").dice.whole; // 1
 * ```
 */
export function scorePrediction(
  held: ValidationCase,
  predicted: Uint8Array,
  convention: TrainingSource["labels"],
): CaseScores {
  const [x, y, z] = held.shape;
  const plane = x * y;
  const scorer = new CaseScorer([x, y, z], { convention, spacing: held.spacing });
  for (let k = 0; k < z; k++) {
    scorer.addSlice(
      predicted.subarray(k * plane, (k + 1) * plane),
      held.labels.subarray(k * plane, (k + 1) * plane),
    );
  }
  return scorer.finish();
}
