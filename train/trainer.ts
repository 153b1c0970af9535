/**
 * The training loop of section 4.2: two phases (1: windows with tumour,
 * median-frequency-balanced cross-entropy, `lr`; 2: all windows with empty
 * ones thinned, unweighted, `lr2`), Adam, augmentation, validation Dice per
 * epoch through the inference path, best and last checkpoints written
 * atomically, exact `--resume`, and a time budget.
 *
 * @module
 */

import { type Region, REGIONS } from "../data/labels.ts";
import { Tape } from "../gpu/autograd.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { Tensor, TensorScope } from "../gpu/tensor.ts";
import type { AugmentOptions } from "./augment.ts";
import { describeConfig, type ModelConfig } from "../model/config.ts";
import { curvesSvg, type EpochRecord } from "./curves_svg.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { assembleBatch, type LoadedCase, type TrainingSource } from "./training_data.ts";
import { validate } from "./validate.ts";
import {
  CaseCache,
  DEFAULT_EMPTY_SKIP,
  type TrainingPhase,
  WindowSampler,
} from "./window_sampler.ts";
import {
  encodeTrainingCheckpoint,
  restoreTrainingCheckpoint,
  type ResumeState,
} from "./_train_checkpoint.ts";
import { writeAtomic } from "../model/checkpoint_file.ts";

/** Options of {@link train}. */
export interface TrainOptions {
  /** The network to train. */
  config: ModelConfig;
  /** Path of the best checkpoint; the last one and the curves go beside it. */
  out: string;
  /** Slices per window (convLSTM sequence length). Default 3. */
  seq?: number;
  /** Windows per batch. Default 3. */
  batch?: number;
  /** Phase-1 epochs (tumour windows, class-weighted loss). Default 8. */
  epochs?: number;
  /** Phase-2 epochs (all windows, unweighted loss, `lr2`). Default 4. */
  phase2Epochs?: number;
  /** Phase-1 learning rate. Default 1e-3. */
  lr?: number;
  /** Phase-2 learning rate. Default `lr / 10`. */
  lr2?: number;
  /** Seed of initialisation, data order and augmentation. Default 1. */
  seed?: number;
  /** Phase 2: fraction of all-empty windows skipped per epoch. Default 0.7. */
  emptySkip?: number;
  /** Augmentation options, or false for none. Default flips + scale/shift 0.1. */
  augment?: AugmentOptions | false;
  /**
   * One phase instead of two (the ablation's "without two-phase"): `epochs`
   * epochs over all windows (empty ones thinned) with the class-weighted loss.
   */
  singlePhase?: boolean;
  /** Stop cleanly after about this many seconds of this run, keeping the best checkpoint. */
  timeBudget?: number;
  /** Continue from the last checkpoint beside `out`. */
  resume?: boolean;
  /** Stop (as if interrupted) after this many batches in this run; for tests. */
  stopAfterSteps?: number;
  /** Cases kept loaded at once. Default 4. */
  cacheCases?: number;
  /**
   * Validation inference: `windowed` (default) runs windows of `seq` slices
   * from a fresh convLSTM state, like training and `segment`'s default;
   * `stateful` carries the state through the whole depth.
   */
  valMode?: "windowed" | "stateful";
  /** Recorded in checkpoint metadata: the command line that started training. */
  command?: string;
  /** Called after every batch. */
  onStep?: (progress: StepProgress) => void;
  /** Called after every validated epoch. */
  onEpoch?: (record: TrainRecord) => void;
  /** Called with one-line messages (checkpoint written, resumed, stopped). */
  onLog?: (message: string) => void;
}

/** Progress after one batch. */
export interface StepProgress {
  /** Phase of the epoch. */
  phase: TrainingPhase;
  /** Epoch number (1-based, over both phases). */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Batches done in this epoch. */
  step: number;
  /** Batches in this epoch. */
  steps: number;
  /** Loss of this batch. */
  loss: number;
  /** Mean loss of the epoch so far. */
  meanLoss: number;
  /** Training windows per second in this run. */
  windowsPerSecond: number;
  /** Seconds since this run started. */
  seconds: number;
}

/** One epoch's record in the history (and the checkpoint's metadata). */
export interface TrainRecord extends EpochRecord {
  /** Batches trained in the epoch (fewer than planned when stopped early). */
  steps: number;
  /** Whether the epoch was cut short (time budget). */
  partial: boolean;
  /** Seconds of training time at the end of the epoch, over all runs. */
  seconds: number;
  /** Learning rate of the epoch. */
  lr: number;
}

/** What {@link train} did. */
export interface TrainResult {
  /** Every epoch record, including those of earlier runs when resumed. */
  history: TrainRecord[];
  /** The best validated epoch (kept at `out`), if any. */
  best: TrainRecord | null;
  /** Why training ended. */
  stopped: "done" | "time-budget" | "step-limit";
  /** Batches trained in this run. */
  steps: number;
  /** Seconds of this run. */
  seconds: number;
  /** Path of the last checkpoint. */
  last: string;
  /** Path of the curves SVG. */
  curves: string;
}

/**
 * The last checkpoint and curves paths beside a best-checkpoint path.
 *
 * @example
 * ```ts
 * trainingPaths("run/model.safetensors");
 * // { last: "run/model.last.safetensors", curves: "run/model.curves.svg" }
 * ```
 */
export function trainingPaths(out: string): { last: string; curves: string } {
  const stem = out.replace(/\.safetensors$/i, "");
  return { last: `${stem}.last.safetensors`, curves: `${stem}.curves.svg` };
}

/** Mean of the three regions' Dice: the score the best checkpoint is chosen by. */
function score(dice: Record<Region, number>): number {
  return REGIONS.reduce((s, r) => s + dice[r], 0) / REGIONS.length;
}

/**
 * Trains a network on `source`, writing checkpoints and curves beside
 * `options.out`. Needs the GPU device (`await getDevice()`).
 *
 * @throws {RangeError} on divergence (non-finite loss) or bad options;
 * {InputError} when `resume` finds no usable last checkpoint.
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * await getDevice();
 * const source = await openTrainingCases("data/phantoms", { labels: "brats2017" });
 * const result = await train(source, { config: modelConfig(), out: "run/model.safetensors" });
 * console.log(result.best?.dice);
 * ```
 */
export async function train(source: TrainingSource, options: TrainOptions): Promise<TrainResult> {
  const o = resolveOptions(options);
  const paths = trainingPaths(o.out);
  const log = options.onLog ?? (() => {});
  const phase1 = o.epochs;
  const total = o.singlePhase ? o.epochs : o.epochs + o.phase2Epochs;
  if (total < 1) throw new RangeError("nothing to train: --epochs and --phase2-epochs are both 0");
  if (source.train.length === 0) throw new RangeError("no training cases");
  const phaseOf = (e: number) => {
    if (o.singlePhase) {
      return { phase: 1 as const, sampling: 2 as TrainingPhase, weighted: true, lr: o.lr };
    }
    return e < phase1
      ? { phase: 1 as const, sampling: 1 as TrainingPhase, weighted: true, lr: o.lr }
      : { phase: 2 as const, sampling: 2 as TrainingPhase, weighted: false, lr: o.lr2 };
  };
  const sampler = new WindowSampler(source.train, {
    seq: o.seq,
    batch: o.batch,
    seed: o.seed,
    emptySkip: o.emptySkip,
    groupCases: o.cacheCases,
  });
  const cache = new CaseCache<LoadedCase>((i) => source.loadTrain(i), {
    capacity: o.cacheCases + 2,
  });
  const fingerprint = {
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
  const dir = o.out.replace(/[^/\\]*$/, "");
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const network = SegmentationNetwork.create(o.config, { seed: o.seed });
  const weights = Tensor.from(source.classWeights, [source.classWeights.length], {
    label: "train.class_weights",
  }).keep();
  let history: TrainRecord[] = [];
  let state: ResumeState = { epoch: 0, step: 0, lossSum: 0, fingerprint, best: null, seconds: 0 };
  try {
    if (o.resume) {
      const restored = await restoreTrainingCheckpoint(paths.last, network);
      const saved = JSON.stringify(restored.resume.fingerprint);
      if (saved !== JSON.stringify(fingerprint)) {
        throw new RangeError(
          `${paths.last}: was trained with different settings or data (${
            diffKeys(restored.resume.fingerprint, fingerprint).join(", ")
          }); resume needs the same ones`,
        );
      }
      history = restored.history as TrainRecord[];
      state = restored.resume;
      log(`resumed from ${paths.last} at epoch ${state.epoch + 1}, batch ${state.step}`);
    }
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    let steps = 0, windows = 0, stepSeconds = 0, valSeconds = 0;
    let stopped: TrainResult["stopped"] = "done";
    let best = (state.best?.record as TrainRecord | undefined) ?? null;

    const training = (record: TrainRecord | null) => ({
      command: o.command,
      data: source.describe(),
      seed: o.seed,
      model: describeConfig(o.config),
      options: {
        ...fingerprint,
        train: undefined,
        epochs: o.epochs,
        phase2Epochs: o.phase2Epochs,
        lr: o.lr,
        lr2: o.lr2,
      },
      classWeights: source.classWeights,
      validation: record
        ? { epoch: record.epoch, dice: record.dice, cases: source.val.length }
        : null,
      seconds: state.seconds + elapsed(),
    });
    const saveLast = async () => {
      const bytes = await encodeTrainingCheckpoint(network, {
        labels: source.labels,
        history,
        training: training(best),
        optimizer: await network.params.readState(),
        resume: {
          ...state,
          seconds: state.seconds + elapsed(),
          best: best && { score: score(best.dice), record: best },
        },
      });
      await writeAtomic(paths.last, bytes);
      await writeAtomic(
        paths.curves,
        new TextEncoder().encode(curvesSvg(history, { title: describeConfig(o.config) })),
      );
    };
    const finishEpoch = async (partial: boolean) => {
      const p = phaseOf(state.epoch);
      const v0 = performance.now();
      const dice = source.val.length > 0
        ? (await validate(network, source, {
          slices: o.valMode === "stateful" ? 4 : o.seq,
          stateful: o.valMode === "stateful",
        })).dice
        : { whole: NaN, core: NaN, enhancing: NaN };
      valSeconds = (performance.now() - v0) / 1000;
      const record: TrainRecord = {
        epoch: state.epoch + 1,
        phase: p.phase,
        loss: state.step > 0 ? state.lossSum / state.step : NaN,
        dice,
        steps: state.step,
        partial,
        seconds: state.seconds + elapsed(),
        lr: p.lr,
      };
      history.push(record);
      options.onEpoch?.(record);
      const better = Number.isFinite(score(dice)) && (!best || score(dice) > score(best.dice));
      // Without validation cases the latest epoch stands in for the best.
      if (better || source.val.length === 0) {
        best = record;
        await writeAtomic(
          o.out,
          await encodeTrainingCheckpoint(network, {
            labels: source.labels,
            history,
            training: training(record),
          }),
        );
        log(`best checkpoint (epoch ${record.epoch}) written to ${o.out}`);
      }
    };

    outer: while (state.epoch < total) {
      const p = phaseOf(state.epoch);
      const batches = sampler.batches(state.epoch, p.sampling);
      while (state.step < batches.length) {
        if (o.stopAfterSteps !== undefined && steps >= o.stopAfterSteps) {
          stopped = "step-limit";
          break outer;
        }
        const meanStep = steps > 0 ? stepSeconds / steps : 0;
        if (o.timeBudget !== undefined && elapsed() + meanStep + valSeconds > o.timeBudget) {
          stopped = "time-budget";
          break outer;
        }
        const s0 = performance.now();
        const batch = batches[state.step];
        const cases = await Promise.all(batch.map((w) => cache.get(w.caseIndex)));
        const arrays = assembleBatch(batch, {
          cases,
          seq: o.seq,
          key: [o.seed, state.epoch, state.step],
          augment: o.augment,
        });
        const loss = await trainStep(network, arrays, {
          weights: p.weighted ? weights : null,
          lr: p.lr,
        });
        if (!Number.isFinite(loss)) {
          throw new RangeError(
            `training diverged at epoch ${state.epoch + 1}, batch ${
              state.step + 1
            } (loss ${loss}); ` +
              `try a lower --lr`,
          );
        }
        state.step++;
        state.lossSum += loss;
        steps++;
        windows += batch.length;
        stepSeconds += (performance.now() - s0) / 1000;
        options.onStep?.({
          phase: p.phase,
          epoch: state.epoch + 1,
          epochs: total,
          step: state.step,
          steps: batches.length,
          loss,
          meanLoss: state.lossSum / state.step,
          windowsPerSecond: windows / Math.max(1e-9, stepSeconds),
          seconds: elapsed(),
        });
      }
      await finishEpoch(false);
      state.epoch++;
      state.step = 0;
      state.lossSum = 0;
      await saveLast();
    }
    if (stopped === "time-budget" && state.step > 0) {
      await finishEpoch(true);
      log(
        `time budget of ${o.timeBudget} s spent: stopped in epoch ${
          state.epoch + 1
        } at batch ${state.step}`,
      );
    }
    if (stopped !== "done") await saveLast();
    log(`last checkpoint written to ${paths.last}; curves to ${paths.curves}`);
    return { history, best, stopped, steps, seconds: elapsed(), ...paths };
  } finally {
    weights.release();
    network.release();
  }
}

/** One optimisation step on a batch; returns its loss. */
async function trainStep(
  network: SegmentationNetwork,
  arrays: ReturnType<typeof assembleBatch>,
  options: { weights: Tensor | null; lr: number },
): Promise<number> {
  const scope = TensorScope.begin();
  try {
    const n = arrays.windows * arrays.seq;
    const x = Tensor.from(arrays.image, [n, arrays.modalities, arrays.height, arrays.width], {
      label: "train.input",
    });
    const y = Tensor.from(arrays.labels, [n, 1, arrays.height, arrays.width], {
      label: "train.labels",
    });
    const tape = new Tape();
    const loss = tape.run(() =>
      softmaxCrossEntropy(network.forward(x, { steps: arrays.seq, mode: "train" }), y, {
        weights: options.weights,
      })
    );
    tape.backward(loss);
    adamStep(network.params, { lr: options.lr });
    network.params.zeroGrad();
    return (await loss.read())[0];
  } finally {
    scope.end();
  }
}

function resolveOptions(options: TrainOptions) {
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
  return { ...o, lr2 };
}

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
