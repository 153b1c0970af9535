// This module is browser compatible.
/**
 * The training loop of section 4.2: epochs as `schedule.ts` plans them (1:
 * windows with tumour, median-frequency-balanced cross-entropy, `lr`; 2: all
 * windows with empty ones thinned, unweighted, `lr2`; each phase's learning
 * rate decaying over it), batches as `step.ts` trains them, validation Dice
 * per epoch through `segment`'s inference, best and last checkpoints as
 * `checkpointing.ts` writes them (through the caller's `write`), exact
 * `resume`, and a time budget that the phases are sized to
 * (`budget_plan.ts`), or a hard time limit.
 *
 * @module
 */

import { Tensor } from "../gpu/tensor.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { meanDice } from "./checkpointing.ts";
import { learningRate, planEpoch, resolveTrainOptions, stopReason } from "./schedule.ts";
import { clockOf, type Run, startRun } from "./_run.ts";
import { BatchPrefetch, epochAssembler } from "./_batch_prefetch.ts";
import { trainBatch } from "./step.ts";
import { trainableWarnings } from "./_trainable.ts";
import type { TrainingSource } from "./training_data.ts";
import { trainerValidation, validate } from "./validate.ts";
import type { TrainingWindow } from "./window_sampler.ts";

import type { TrainOptions, TrainRecord, TrainResult } from "./train_options.ts";

export { trainingPaths } from "./checkpointing.ts";
export type { StepProgress, TrainOptions, TrainRecord, TrainResult } from "./train_options.ts";

/**
 * Trains a network on `source`, writing checkpoints and curves beside
 * `options.out` through `options.write`. Needs the GPU device (`await getDevice()`).
 *
 * @throws {RangeError} on divergence (non-finite loss) or bad options;
 * {InputError} when `resume` finds no usable last checkpoint.
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { train } from "./trainer.ts";
 * import { openTrainingCases } from "./training_cases.ts";
 * // Three tiny phantom cases as NIfTI bytes: two to train on, one to validate.
 * const phantomCase = (seed: number) => {
 *   const p = generatePhantom({ size: [32, 32, 8], seed });
 *   const nifti = (data: Int16Array | Uint8Array, datatype: "int16" | "uint8") =>
 *     encodeNifti(data, { shape: p.shape, datatype, affine: p.affine });
 *   const { flair, t1, t1ce, t2 } = p.modalities;
 *   const modalities = {
 *     flair: nifti(flair, "int16"), t1: nifti(t1, "int16"),
 *     t1ce: nifti(t1ce, "int16"), t2: nifti(t2, "int16"),
 *   };
 *   const label = nifti(p.label, "uint8");
 *   return { id: `p${seed}`, dir: "", format: "nifti" as const, modalities, label };
 * };
 * const source = await openTrainingCases([phantomCase(1), phantomCase(2)], {
 *   labels: "brats2017",
 *   val: [phantomCase(3)],
 * });
 * await getDevice();
 * const files = new Map<string, Uint8Array>();
 * const result = await train(source, {
 *   config: modelConfig("mme+cmc+mrf+convlstm", { widths: [2, 2, 2, 2] }),
 *   epochs: 1,
 *   phase2Epochs: 1,
 *   out: "run/model.safetensors",
 *   write: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
 *   onLog: (line) => console.log(line), // the plan, the checkpoints written
 * });
 * console.log(result.history.map((r) => r.phase)); // [1, 2]
 * console.log([...files.keys()]); // the best and last checkpoints, the curves
 * ```
 */
export async function train(source: TrainingSource, options: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  const log = options.onLog ?? (() => {});
  for (const warning of trainableWarnings(source, o.seq)) log(`warning: ${warning}`);
  const network = SegmentationNetwork.create(o.config, { seed: o.seed });
  const weights = Tensor.from(source.classWeights, [source.classWeights.length], {
    label: "train.class_weights",
  }).keep();
  try {
    const run = await startRun(network, source, { ...o, log });
    if (o.resume) {
      log(
        `resumed from ${run.checkpoints.paths.last} at epoch ${
          run.state.epoch + 1
        }, batch ${run.state.step}`,
      );
    }
    run.keeper.start(clockOf(run), { resumed: o.resume === true, budget: o.timeBudget });
    let stopped: TrainResult["stopped"] = "done";
    while (run.state.epoch < run.keeper.total) {
      const reason = await trainEpoch(run, weights, options);
      if (reason) {
        stopped = reason;
        break;
      }
      run.keeper.trained(clockOf(run));
      await finishEpoch(run, false, options);
      run.state.epoch++;
      run.state.step = 0;
      run.state.lossSum = 0;
      run.keeper.validated(clockOf(run));
      await run.checkpoints.saveLast(run);
    }
    if (stopped === "time-limit" && run.state.step > 0) {
      await finishEpoch(run, true, options);
      log(
        `time limit of ${o.timeLimit} s reached: stopped in epoch ${run.state.epoch + 1} ` +
          `at batch ${run.state.step}`,
      );
    }
    if (stopped !== "done") await run.checkpoints.saveLast(run);
    if (stopped === "interrupted") {
      log(
        `interrupted in epoch ${
          run.state.epoch + 1
        } at batch ${run.state.step}: continue with resume`,
      );
    }
    const paths = run.checkpoints.paths;
    log(`last checkpoint written to ${paths.last}; curves to ${paths.curves}`);
    const { history, best, steps } = run;
    const plan = run.state.plan;
    return { history, best, stopped, steps, seconds: run.elapsed(), plan, ...paths };
  } finally {
    weights.release();
    network.release();
  }
}

/** A step submitted to the GPU whose loss is not read yet. */
interface InFlight {
  loss: Promise<number>;
  windows: number;
  phase: 1 | 2;
  steps: number;
}

/**
 * Trains the rest of the current epoch's batches; returns why it stopped early, if it did.
 * One step stays in flight: the next is encoded and submitted before the last one's loss is read,
 * so the GPU does not idle while the loss comes back (~11 ms a read in Deno) and the next step is
 * encoded. Queue order keeps each step's result as one at a time would; under a time budget the
 * first plan (made as a step's loss is read) applies one step later than it would.
 */
async function trainEpoch(
  run: Run,
  weights: Tensor,
  options: TrainOptions,
): Promise<"step-limit" | "time-limit" | "interrupted" | null> {
  const { o, state } = run;
  let limit = NaN, batches: TrainingWindow[][] = [];
  const prefetch = new BatchPrefetch(epochAssembler(run.cache, o, state.epoch));
  let inFlight = null as InFlight | null;
  let mark = 0;
  // Reads the step in flight's loss, then counts and reports it (timed from the previous read).
  const settle = async () => {
    if (!inFlight) return;
    const { loss: read, windows, phase, steps } = inFlight;
    inFlight = null;
    const loss = await read;
    const now = performance.now();
    const seconds = (now - mark) / 1000;
    mark = now;
    state.step++;
    state.lossSum += loss;
    run.steps++;
    run.windows += windows;
    run.stepSeconds += seconds;
    run.keeper.step(windows, seconds, clockOf(run));
    options.onStep?.({
      phase,
      epoch: state.epoch + 1,
      epochs: run.keeper.total,
      step: state.step,
      steps,
      loss,
      meanLoss: state.lossSum / state.step,
      windowsPerSecond: run.windows / Math.max(1e-9, run.stepSeconds),
      seconds: run.elapsed(),
    });
  };
  while (true) {
    // Planned afresh each batch: the first budget plan may resize (or shorten) the phases mid-epoch.
    const plan = planEpoch(state.epoch, o, state.plan.epochs);
    const windows = state.plan.windowLimits?.[plan.phase - 1] ?? Infinity;
    if (windows !== limit) {
      limit = windows;
      batches = run.sampler.batches(state.epoch, plan.sampling, limit);
    }
    const ahead: number = inFlight ? 1 : 0;
    const step = state.step + ahead;
    if (step >= batches.length) break;
    const { stepSeconds, valSeconds } = run;
    const steps = run.steps + ahead;
    const elapsed = run.elapsed() + ahead * (stepSeconds / Math.max(1, run.steps));
    const reason = stopReason(o, { steps, elapsed, stepSeconds, valSeconds });
    if (reason) {
      await settle();
      return reason;
    }
    if (!inFlight) mark = performance.now();
    const batch = batches[step];
    const next = batches[step + 1];
    const loss = trainBatch(run.network, await prefetch.take(batch, step), {
      at: { seed: o.seed, epoch: state.epoch, step },
      weights: plan.weighted ? weights : null,
      lr: learningRate(plan, step / batches.length),
      dice: o.dice,
      whileRunning: next ? () => prefetch.ahead(next, step + 1) : undefined,
    });
    loss.catch(() => {}); // reported when settled, unless the step before fails first
    await settle();
    inFlight = { loss, windows: batch.length, phase: plan.phase, steps: batches.length };
  }
  await settle();
  return null;
}

/** Validates the epoch, records it, and writes the best checkpoint when it is the best so far. */
async function finishEpoch(run: Run, partial: boolean, options: TrainOptions): Promise<void> {
  const { o, source, state } = run;
  const plan = planEpoch(state.epoch, o, state.plan.epochs);
  const v0 = performance.now();
  const dice = source.val.length > 0
    ? (await validate(run.model, source, trainerValidation(o))).dice
    : { whole: NaN, core: NaN, enhancing: NaN };
  run.valSeconds = (performance.now() - v0) / 1000;
  const record: TrainRecord = {
    epoch: state.epoch + 1,
    phase: plan.phase,
    loss: state.step > 0 ? state.lossSum / state.step : NaN,
    dice,
    steps: state.step,
    partial,
    seconds: state.seconds + run.elapsed(),
    lr: plan.lr,
  };
  run.history.push(record);
  options.onEpoch?.(record);
  const score = meanDice(dice);
  const better = Number.isFinite(score) && (!run.best || score > meanDice(run.best.dice));
  // Without validation cases the latest epoch stands in for the best.
  if (better || source.val.length === 0) {
    run.best = record;
    await run.checkpoints.saveBest(run, record);
    options.onLog?.(`best checkpoint (epoch ${record.epoch}) written to ${o.out}`);
  }
}
