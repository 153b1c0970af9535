/**
 * Validation through the inference path: each held-out case is streamed
 * through `SegmentationNetwork.step` (batch norm folded; windows from a fresh
 * convLSTM state or the state carried over the whole depth, as `segment`
 * does) and scored with the data layer's streaming metrics.
 *
 * @module
 */

import { classesToLabels, REGIONS } from "../data/labels.ts";
import { CaseScorer, type CaseScores, type RegionScores } from "../data/metrics.ts";
import { Tensor } from "../gpu/tensor.ts";
import { releaseState, type SegmentationNetwork, type StreamState } from "../model/network.ts";
import type { LoadedCase, TrainingSource } from "./training_data.ts";

/** Validation result: mean Dice over cases, and each case's scores. */
export interface ValidationResult {
  /** Mean Dice per region over the cases. */
  dice: RegionScores;
  /** Scores of each case, in `source.val` order. */
  cases: { id: string; scores: CaseScores }[];
}

/** How validation runs the network over a case's depth. */
export interface PredictOptions {
  /** Slices per inference step (default 3). */
  slices?: number;
  /**
   * false (default): each step starts from a fresh convLSTM state, as in
   * training and `segment`'s default windowed mode; true: the state runs
   * through the whole depth (`segment --stateful`).
   */
  stateful?: boolean;
}

/**
 * Predicted class indices of a loaded case, slice by slice ([depth][height][width], padded).
 *
 * @example
 * ```ts
 * const classes = await predictCase(network, loaded, { slices: 3 });
 * ```
 */
export async function predictCase(
  network: SegmentationNetwork,
  loaded: LoadedCase,
  options: PredictOptions = {},
): Promise<Uint8Array> {
  const n = Math.max(1, options.slices ?? 3);
  const { width, height, depth, modalities } = loaded;
  const plane = width * height;
  const out = new Uint8Array(depth * plane);
  let state: StreamState | null = null;
  try {
    for (let z0 = 0; z0 < depth; z0 += n) {
      const t = Math.min(n, depth - z0);
      const input = Tensor.from(
        loaded.image.subarray(z0 * modalities * plane, (z0 + t) * modalities * plane),
        [t, modalities, height, width],
        { label: "validate.window" },
      );
      const result = network.step(input, state, { output: "labels" });
      input.release();
      releaseState(state);
      state = result.state;
      if (!options.stateful) {
        releaseState(state);
        state = null;
      }
      const labels = await result.labels!.read();
      result.labels!.release();
      for (let i = 0; i < labels.length; i++) out[z0 * plane + i] = labels[i];
    }
  } finally {
    releaseState(state);
  }
  return out;
}

/**
 * Scores the network on every validation case of `source`.
 *
 * @example
 * ```ts
 * const { dice } = await validate(network, source);
 * console.log(dice.whole, dice.core, dice.enhancing);
 * ```
 */
export async function validate(
  network: SegmentationNetwork,
  source: TrainingSource,
  options: PredictOptions = {},
): Promise<ValidationResult> {
  const cases: ValidationResult["cases"] = [];
  for (let i = 0; i < source.val.length; i++) {
    const loaded = await source.loadVal(i);
    const predicted = await predictCase(network, loaded, options);
    cases.push({ id: loaded.id, scores: scoreLoaded(loaded, predicted, source.labels) });
  }
  const dice = { whole: 0, core: 0, enhancing: 0 };
  for (const r of REGIONS) {
    dice[r] = cases.reduce((s, c) => s + c.scores.dice[r], 0) / Math.max(1, cases.length);
  }
  return { dice, cases };
}

/**
 * Scores predicted classes against a loaded case's truth on the unpadded region.
 *
 * @example
 * ```ts
 * const scores = scoreLoaded(loaded, await predictCase(network, loaded), "brats2017");
 * scores.dice.whole;
 * ```
 */
export function scoreLoaded(
  loaded: LoadedCase,
  predicted: Uint8Array,
  convention: TrainingSource["labels"],
): CaseScores {
  const [X, Y] = loaded.original;
  const { width, height, depth } = loaded;
  const scorer = new CaseScorer([X, Y, depth], { convention });
  const pred = new Uint8Array(X * Y), truth = new Uint8Array(X * Y);
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < Y; y++) {
      const at = (z * height + y) * width;
      pred.set(predicted.subarray(at, at + X), y * X);
      truth.set(loaded.classes.subarray(at, at + X), y * X);
    }
    scorer.addSlice(classesToLabels(pred, convention), classesToLabels(truth, convention));
  }
  return scorer.finish();
}
