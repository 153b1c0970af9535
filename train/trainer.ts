// This module is browser compatible.
/**
 * The training loop of section 4.2: epochs as `schedule.ts` plans them (1:
 * windows with tumour, median-frequency-balanced cross-entropy, `lr`; 2: all
 * windows with empty ones thinned, unweighted, `lr2`), batches as `step.ts`
 * trains them, validation Dice per epoch through `segment`'s inference, best
 * and last checkpoints as `checkpointing.ts` writes them (through the
 * caller's `write`), exact `resume`, and a time budget.
 *
 * @module
 */

import { Tensor } from "../gpu/tensor.ts";
import { CHECKPOINT_VERSION } from "../model/checkpoint.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { meanDice, type RunProgress, TrainingCheckpoints } from "./checkpointing.ts";
import {
  planEpoch,
  type ResolvedTrainOptions,
  resolveTrainOptions,
  stopReason,
} from "./schedule.ts";
import { trainBatch } from "./step.ts";
import type { LoadedCase, TrainingSource } from "./training_data.ts";
import { trainerValidation, validate } from "./validate.ts";
import { CaseCache, WindowSampler } from "./window_sampler.ts";

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
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { train } from "./trainer.ts";
 * import type { TrainingSource } from "./training_data.ts";
 * declare const source: TrainingSource;
 * await getDevice();
 * const files = new Map<string, Uint8Array>();
 * const result = await train(source, {
 *   config: modelConfig(),
 *   out: "run/model.safetensors",
 *   write: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
 * });
 * console.log(result.best?.dice);
 * ```
 */
export async function train(source: TrainingSource, options: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  if (source.train.length === 0) throw new RangeError("no training cases");
  const log = options.onLog ?? (() => {});
  const network = SegmentationNetwork.create(o.config, { seed: o.seed });
  const weights = Tensor.from(source.classWeights, [source.classWeights.length], {
    label: "train.class_weights",
  }).keep();
  try {
    const run = await startRun(network, source, o);
    if (o.resume) {
      log(
        `resumed from ${run.checkpoints.paths.last} at epoch ${
          run.state.epoch + 1
        }, batch ${run.state.step}`,
      );
    }
    let stopped: TrainResult["stopped"] = "done";
    while (run.state.epoch < o.total) {
      const reason = await trainEpoch(run, weights, options);
      if (reason) {
        stopped = reason;
        break;
      }
      await finishEpoch(run, false, options);
      run.state.epoch++;
      run.state.step = 0;
      run.state.lossSum = 0;
      await run.checkpoints.saveLast(run);
    }
    if (stopped === "time-budget" && run.state.step > 0) {
      await finishEpoch(run, true, options);
      log(
        `time budget of ${o.timeBudget} s spent: stopped in epoch ${run.state.epoch + 1} ` +
          `at batch ${run.state.step}`,
      );
    }
    if (stopped !== "done") await run.checkpoints.saveLast(run);
    const paths = run.checkpoints.paths;
    log(`last checkpoint written to ${paths.last}; curves to ${paths.curves}`);
    const { history, best, steps } = run;
    return { history, best, stopped, steps, seconds: run.elapsed(), ...paths };
  } finally {
    weights.release();
    network.release();
  }
}

/** A run in progress: its data, checkpoints, position and clocks. */
interface Run extends RunProgress {
  o: ResolvedTrainOptions;
  source: TrainingSource;
  network: SegmentationNetwork;
  /** The network as `segment` runs it, for validation (not owned: the network is released by `train`). */
  model: NetworkSliceModel;
  checkpoints: TrainingCheckpoints;
  sampler: WindowSampler;
  cache: CaseCache<LoadedCase>;
  /** Batches, windows, and seconds of training and of the last validation, in this run. */
  steps: number;
  windows: number;
  stepSeconds: number;
  valSeconds: number;
}

/** Sets up a run: sampler, case cache, checkpoints, and the resumed position if asked. */
async function startRun(
  network: SegmentationNetwork,
  source: TrainingSource,
  o: ResolvedTrainOptions,
): Promise<Run> {
  const checkpoints = new TrainingCheckpoints(network, source, o);
  let history: TrainRecord[] = [];
  let state = {
    epoch: 0,
    step: 0,
    lossSum: 0,
    fingerprint: checkpoints.fingerprint,
    best: null as { score: number; record: unknown } | null,
    seconds: 0,
  };
  if (o.resume) ({ history, state } = await checkpoints.resume());
  const t0 = performance.now();
  return {
    o,
    source,
    network,
    model: new NetworkSliceModel(network, {
      config: network.config,
      labels: source.labels,
      history: [],
      version: CHECKPOINT_VERSION,
    }),
    checkpoints,
    sampler: new WindowSampler(source.train, {
      seq: o.seq,
      batch: o.batch,
      seed: o.seed,
      emptySkip: o.emptySkip,
      groupCases: o.cacheCases,
    }),
    cache: new CaseCache<LoadedCase>((i) => source.loadTrain(i), { capacity: o.cacheCases + 2 }),
    state,
    history,
    best: (state.best?.record as TrainRecord | undefined) ?? null,
    elapsed: () => (performance.now() - t0) / 1000,
    steps: 0,
    windows: 0,
    stepSeconds: 0,
    valSeconds: 0,
  };
}

/** Trains the rest of the current epoch's batches; returns why it stopped early, if it did. */
async function trainEpoch(
  run: Run,
  weights: Tensor,
  options: TrainOptions,
): Promise<"step-limit" | "time-budget" | null> {
  const { o, state } = run;
  const plan = planEpoch(state.epoch, o);
  const batches = run.sampler.batches(state.epoch, plan.sampling);
  while (state.step < batches.length) {
    const { steps, stepSeconds, valSeconds } = run;
    const reason = stopReason(o, { steps, elapsed: run.elapsed(), stepSeconds, valSeconds });
    if (reason) return reason;
    const s0 = performance.now();
    const batch = batches[state.step];
    const loss = await trainBatch(run.network, batch, {
      cases: await Promise.all(batch.map((w) => run.cache.get(w.caseIndex))),
      seq: o.seq,
      at: { seed: o.seed, epoch: state.epoch, step: state.step },
      augment: o.augment,
      weights: plan.weighted ? weights : null,
      lr: plan.lr,
    });
    state.step++;
    state.lossSum += loss;
    run.steps++;
    run.windows += batch.length;
    run.stepSeconds += (performance.now() - s0) / 1000;
    options.onStep?.({
      phase: plan.phase,
      epoch: state.epoch + 1,
      epochs: o.total,
      step: state.step,
      steps: batches.length,
      loss,
      meanLoss: state.lossSum / state.step,
      windowsPerSecond: run.windows / Math.max(1e-9, run.stepSeconds),
      seconds: run.elapsed(),
    });
  }
  return null;
}

/** Validates the epoch, records it, and writes the best checkpoint when it is the best so far. */
async function finishEpoch(run: Run, partial: boolean, options: TrainOptions): Promise<void> {
  const { o, source, state } = run;
  const plan = planEpoch(state.epoch, o);
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
