// This module is browser compatible.
/**
 * The trainer's schedule (paper section 4.2): option defaults and checks,
 * what each epoch trains on (phase 1: tumour windows, weighted loss, `lr`;
 * phase 2: all windows, unweighted, `lr2`), the settings a resume must
 * match, and when a run stops early.
 *
 * @module
 */

import type { TrainingSource } from "./training_data.ts";
import type { TrainOptions } from "./train_options.ts";
import { DEFAULT_EMPTY_SKIP, type TrainingPhase } from "./window_sampler.ts";

/** {@linkcode TrainOptions} with every default filled in and checked. */
export type ResolvedTrainOptions = ReturnType<typeof resolveTrainOptions>;

/**
 * Fills in the trainer's defaults and checks the numbers.
 *
 * @throws {RangeError} for a non-positive learning rate or time budget, a
 *   fractional epoch count, or nothing to train.
 * @example
 * ```ts
 * import { modelConfig } from "../model/config.ts";
 * import { resolveTrainOptions } from "./schedule.ts";
 * const o = resolveTrainOptions({
 *   config: modelConfig(),
 *   out: "run/model.safetensors",
 *   write: () => Promise.resolve(),
 * });
 * [o.seq, o.batch, o.lr2, o.total]; // [3, 3, 0.0001, 12]
 * ```
 */
export function resolveTrainOptions(options: TrainOptions) {
  const o = {
    seq: 3,
    batch: 3,
    epochs: 8,
    phase2Epochs: 4,
    lr: 1e-3,
    seed: 1,
    emptySkip: DEFAULT_EMPTY_SKIP,
    singlePhase: false,
    cacheCases: 4,
    valMode: "windowed" as "windowed" | "stateful",
    ...options,
    augment: options.augment === false ? false as const : { ...options.augment },
  };
  const lr2 = options.lr2 ?? o.lr / 10;
  const positive = (v: number, name: string) => {
    if (!(Number.isFinite(v) && v > 0)) {
      throw new RangeError(`${name} ${v}: expected a positive number`);
    }
  };
  const count = (v: number, name: string) => {
    if (!(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`${name} ${v}: expected a whole number`);
    }
  };
  positive(o.lr, "--lr");
  positive(lr2, "--lr2");
  count(o.epochs, "--epochs");
  count(o.phase2Epochs, "--phase2-epochs");
  if (o.timeBudget !== undefined) positive(o.timeBudget, "--time-budget");
  const total = o.singlePhase ? o.epochs : o.epochs + o.phase2Epochs;
  if (total < 1) throw new RangeError("nothing to train: --epochs and --phase2-epochs are both 0");
  return { ...o, lr2, total };
}

/** What one epoch trains on, and how. */
export interface EpochPlan {
  /** Phase recorded in the history (1 or 2). */
  phase: 1 | 2;
  /** Which windows the sampler lists. */
  sampling: TrainingPhase;
  /** Whether the loss is class-weighted. */
  weighted: boolean;
  /** Learning rate. */
  lr: number;
}

/**
 * The plan of global epoch `epoch` (0-based, over both phases).
 *
 * @example
 * ```ts
 * import { planEpoch } from "./schedule.ts";
 * const o = { epochs: 2, singlePhase: false, lr: 1e-3, lr2: 1e-4 };
 * planEpoch(0, o); // { phase: 1, sampling: 1, weighted: true, lr: 0.001 }
 * planEpoch(2, o); // { phase: 2, sampling: 2, weighted: false, lr: 0.0001 }
 * ```
 */
export function planEpoch(
  epoch: number,
  o: Pick<ResolvedTrainOptions, "epochs" | "singlePhase" | "lr" | "lr2">,
): EpochPlan {
  // The ablation's one-phase rows: every window, weighted loss, one learning rate.
  if (o.singlePhase) return { phase: 1, sampling: 2, weighted: true, lr: o.lr };
  return epoch < o.epochs
    ? { phase: 1, sampling: 1, weighted: true, lr: o.lr }
    : { phase: 2, sampling: 2, weighted: false, lr: o.lr2 };
}

/**
 * The settings and data a resumed run must share with the run it continues.
 *
 * @example
 * ```ts
 * import { modelConfig } from "../model/config.ts";
 * import { fingerprintOf, resolveTrainOptions } from "./schedule.ts";
 * import type { TrainingSource } from "./training_data.ts";
 * const source: TrainingSource = {
 *   labels: "brats2017",
 *   train: [{ id: "a", depth: 3, tumour: new Uint8Array(3) }],
 *   val: [],
 *   classWeights: [1, 1, 1, 1],
 *   loadTrain: () => Promise.reject(new Error("not needed here")),
 *   loadVal: () => Promise.reject(new Error("not needed here")),
 *   describe: () => ({}),
 * };
 * const o = resolveTrainOptions({ config: modelConfig(), out: "m.safetensors", write: async () => {} });
 * fingerprintOf(o, source).train; // ["a"]
 * ```
 */
export function fingerprintOf(
  o: ResolvedTrainOptions,
  source: TrainingSource,
): Record<string, unknown> {
  return {
    config: o.config,
    labels: source.labels,
    seq: o.seq,
    batch: o.batch,
    seed: o.seed,
    emptySkip: o.emptySkip,
    augment: o.augment,
    singlePhase: o.singlePhase,
    train: source.train.map((c) => c.id),
  };
}

/** How far a run has got, for {@linkcode stopReason}. */
export interface RunClock {
  /** Batches trained in this run. */
  steps: number;
  /** Seconds since this run started. */
  elapsed: number;
  /** Seconds spent in those batches. */
  stepSeconds: number;
  /** Seconds the last validation took. */
  valSeconds: number;
}

/**
 * Why the run must stop before its next batch, or null to go on: the step
 * limit, or a time budget the next batch plus a validation would overrun.
 *
 * @example
 * ```ts
 * import { stopReason } from "./schedule.ts";
 * stopReason({ timeBudget: 10 }, { steps: 4, elapsed: 9, stepSeconds: 4, valSeconds: 1 });
 * // "time-budget"
 * ```
 */
export function stopReason(
  o: Pick<TrainOptions, "stopAfterSteps" | "timeBudget">,
  clock: RunClock,
): "step-limit" | "time-budget" | null {
  if (o.stopAfterSteps !== undefined && clock.steps >= o.stopAfterSteps) return "step-limit";
  const meanStep = clock.steps > 0 ? clock.stepSeconds / clock.steps : 0;
  if (o.timeBudget !== undefined && clock.elapsed + meanStep + clock.valSeconds > o.timeBudget) {
    return "time-budget";
  }
  return null;
}
