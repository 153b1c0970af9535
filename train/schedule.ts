// This module is browser compatible.
/**
 * The trainer's schedule (paper section 4.2): option defaults and checks,
 * what each epoch trains on (phase 1: tumour windows, weighted loss, `lr`;
 * phase 2: all windows, unweighted, `lr2`), the learning rate within each
 * phase (a cosine decay to a tenth over the phase), the settings a resume must match,
 * and when a run stops early. How many epochs each phase gets under a time
 * budget is `budget_plan.ts`'s.
 *
 * @module
 */

import type { TrainingSource } from "./training_data.ts";
import type { TrainOptions } from "./train_options.ts";
import { describeAugmentation } from "./augment_settings.ts";
import { DEFAULT_EMPTY_SKIP, DEFAULT_TUMOUR_SHARE, type TrainingPhase } from "./window_sampler.ts";

/**
 * The trainer's defaults, for the library and the CLI alike. Widths
 * (`model/config.ts`), learning rates, the phase ratio and the patch size
 * were chosen by measurement: the README's "Training defaults" says how.
 */
export const TRAIN_DEFAULTS = {
  seq: 3,
  batch: 3,
  epochs: 4,
  phase2Epochs: 8,
  lr: 2e-3,
  dice: 1,
  /** Phase 2 starts at this share of `lr`. */
  lr2Share: 0.5,
  patch: 64,
  seed: 1,
  cacheCases: 4,
} as const;

/** {@linkcode TrainOptions} with every default filled in and checked. */
export type ResolvedTrainOptions = ReturnType<typeof resolveTrainOptions>;

/**
 * Fills in the trainer's defaults and checks the numbers.
 *
 * @throws {RangeError} for a non-positive learning rate, time budget or
 *   time limit, a fractional epoch count, or nothing to train.
 * @example
 * ```ts
 * import { modelConfig } from "../model/config.ts";
 * import { resolveTrainOptions } from "./schedule.ts";
 * const o = resolveTrainOptions({
 *   config: modelConfig(),
 *   out: "run/model.safetensors",
 *   write: () => Promise.resolve(),
 * });
 * [o.seq, o.batch, o.lr2, o.total, o.lrSchedule]; // [3, 3, 0.001, 12, "cosine"]
 * ```
 */
export function resolveTrainOptions(options: TrainOptions) {
  const { lr2Share: _, ...defaults } = TRAIN_DEFAULTS;
  const o = {
    ...defaults,
    emptySkip: DEFAULT_EMPTY_SKIP,
    singlePhase: false,
    valMode: "windowed" as "windowed" | "stateful",
    lrSchedule: "cosine" as LearningRateSchedule,
    ...options,
    augment: describeAugmentation(options.augment),
  };
  const lr2 = options.lr2 ?? o.lr * TRAIN_DEFAULTS.lr2Share;
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
  if (!(Number.isFinite(o.dice) && o.dice >= 0)) {
    throw new RangeError(`--dice ${o.dice}: expected a number >= 0`);
  }
  positive(lr2, "--lr2");
  count(o.epochs, "--epochs");
  count(o.phase2Epochs, "--phase2-epochs");
  if (o.timeBudget !== undefined) positive(o.timeBudget, "--time-budget");
  if (o.timeLimit !== undefined) positive(o.timeLimit, "--time-limit");
  if (o.maxEpochs !== undefined && !(Number.isInteger(o.maxEpochs) && o.maxEpochs >= 1)) {
    throw new RangeError(`--max-epochs ${o.maxEpochs}: expected a whole number >= 1`);
  }
  if (o.lrSchedule !== "cosine" && o.lrSchedule !== "constant") {
    throw new RangeError(`--lr-schedule "${o.lrSchedule}": expected cosine or constant`);
  }
  const total = o.singlePhase ? o.epochs : o.epochs + o.phase2Epochs;
  if (total < 1) throw new RangeError("nothing to train: --epochs and --phase2-epochs are both 0");
  return { ...o, lr2, total };
}

/** How the learning rate moves within a phase: `cosine` decay to a tenth, or `constant`. */
export type LearningRateSchedule = "cosine" | "constant";

/** Where a phase's cosine decay ends, as a share of its starting learning rate. */
export const LR_FLOOR = 0.1;

/** What one epoch trains on, and how. */
export interface EpochPlan {
  /** Phase recorded in the history (1 or 2). */
  phase: 1 | 2;
  /** Which windows the sampler lists. */
  sampling: TrainingPhase;
  /** Whether the loss is class-weighted. */
  weighted: boolean;
  /** Learning rate at the epoch's first batch. */
  lr: number;
  /** The phase's starting learning rate (`lr` or `lr2`). */
  peak: number;
  /** The epoch's index within its phase. */
  index: number;
  /** Epochs of the phase. */
  count: number;
  /** How the learning rate moves within the phase. */
  schedule: LearningRateSchedule;
}

/**
 * The plan of global epoch `epoch` (0-based, over both phases) when the
 * phases have `epochs` epochs (`[phase 1, phase 2]`, the schedule's plan).
 *
 * @example
 * ```ts
 * import { planEpoch } from "./schedule.ts";
 * const o = { singlePhase: false, lr: 1e-3, lr2: 1e-4, lrSchedule: "cosine" as const };
 * planEpoch(0, o, [2, 1]).lr; // 0.001: phase 1 starts at lr
 * planEpoch(1, o, [2, 1]).lr; // 0.00055: halfway down the cosine to lr / 10
 * planEpoch(2, o, [2, 1]); // { phase: 2, sampling: 2, weighted: false, lr: 0.0001, ... }
 * ```
 */
export function planEpoch(
  epoch: number,
  o: Pick<ResolvedTrainOptions, "singlePhase" | "lr" | "lr2" | "lrSchedule">,
  epochs: readonly [number, number],
): EpochPlan {
  const first = o.singlePhase || epoch < epochs[0];
  // The ablation's one-phase rows: every window, weighted loss, one learning rate.
  const kind = o.singlePhase
    ? { phase: 1 as const, sampling: 2 as const, weighted: true, peak: o.lr }
    : first
    ? { phase: 1 as const, sampling: 1 as const, weighted: true, peak: o.lr }
    : { phase: 2 as const, sampling: 2 as const, weighted: false, peak: o.lr2 };
  const plan: EpochPlan = {
    ...kind,
    lr: kind.peak,
    index: first ? epoch : epoch - epochs[0],
    count: Math.max(1, first ? epochs[0] : epochs[1]),
    schedule: o.lrSchedule,
  };
  plan.lr = learningRate(plan, 0);
  return plan;
}

/**
 * The learning rate once `fraction` (0..1) of the epoch's batches are done.
 *
 * @example
 * ```ts
 * import { learningRate, planEpoch } from "./schedule.ts";
 * const o = { singlePhase: false, lr: 1e-3, lr2: 1e-4, lrSchedule: "cosine" as const };
 * learningRate(planEpoch(0, o, [1, 1]), 1); // 0.0001: the end of phase 1 is lr / 10
 * ```
 */
export function learningRate(plan: EpochPlan, fraction: number): number {
  if (plan.schedule === "constant") return plan.peak;
  const t = Math.min(1, Math.max(0, (plan.index + fraction) / plan.count));
  return plan.peak * (LR_FLOOR + (1 - LR_FLOOR) * (1 + Math.cos(Math.PI * t)) / 2);
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
    dice: o.dice,
    augment: o.augment,
    patch: o.patch ?? 0,
    patchTumourShare: o.patchTumourShare ?? DEFAULT_TUMOUR_SHARE,
    singlePhase: o.singlePhase,
    lrSchedule: o.lrSchedule,
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
 * Why the run must stop before its next batch, or null to go on: an
 * aborted signal, the step limit, or a hard time limit the next batch plus a validation would
 * overrun (a time budget never stops a run: it sizes the schedule).
 *
 * @example
 * ```ts
 * import { stopReason } from "./schedule.ts";
 * stopReason({ timeLimit: 10 }, { steps: 4, elapsed: 9, stepSeconds: 4, valSeconds: 1 });
 * // "time-limit"
 * ```
 */
export function stopReason(
  o: Pick<TrainOptions, "stopAfterSteps" | "timeLimit" | "signal">,
  clock: RunClock,
): "step-limit" | "time-limit" | "interrupted" | null {
  if (o.signal?.aborted) return "interrupted";
  if (o.stopAfterSteps !== undefined && clock.steps >= o.stopAfterSteps) return "step-limit";
  const meanStep = clock.steps > 0 ? clock.stepSeconds / clock.steps : 0;
  if (o.timeLimit !== undefined && clock.elapsed + meanStep + clock.valSeconds > o.timeLimit) {
    return "time-limit";
  }
  return null;
}
