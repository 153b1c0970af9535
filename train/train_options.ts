// This module is browser compatible.
/**
 * The trainer's options, progress reports and results (types only), shared
 * by the trainer's schedule, step and checkpointing modules.
 *
 * @module
 */

import type { ModelConfig } from "../model/config.ts";
import type { AugmentOptions } from "./augment.ts";
import type { SchedulePlan } from "./budget_plan.ts";
import type { EpochRecord } from "./curves_svg.ts";
import type { LearningRateSchedule } from "./schedule.ts";
import type { TrainingPhase } from "./window_sampler.ts";

/** Options of `train` (`trainer.ts`). */
export interface TrainOptions {
  /** The network to train. */
  config: ModelConfig;
  /** Path of the best checkpoint; the last one and the curves go beside it. */
  out: string;
  /**
   * Writes one checkpoint or curves file whole, e.g. atomically (temporary
   * file, then rename; the CLI passes `io/files.ts`'s `writeAtomic`).
   */
  write: (path: string, bytes: Uint8Array) => Promise<void>;
  /** Reads a file back, resolving to null when it does not exist; needed by `resume`. */
  read?: (path: string) => Promise<Uint8Array | null>;
  /** Slices per window (convLSTM sequence length). Default 3. */
  seq?: number;
  /** Windows per batch. Default 3. */
  batch?: number;
  /** Phase-1 epochs (tumour windows, class-weighted loss). Default 4; a ratio with `timeBudget`. */
  epochs?: number;
  /** Phase-2 epochs (all windows, unweighted loss, `lr2`). Default 8; a ratio with `timeBudget`. */
  phase2Epochs?: number;
  /**
   * Weight of the soft Dice term added to the cross-entropy (both phases):
   * Dice weighs each region's overlap, so small regions (core, enhancing)
   * count as much as oedema. Default 1; 0 trains on cross-entropy alone (the paper's loss).
   */
  dice?: number;
  /** Phase-1 learning rate. Default 2e-3. */
  lr?: number;
  /** Phase-2 learning rate. Default `lr / 2`. */
  lr2?: number;
  /**
   * Learning rate within each phase: `cosine` (default) decays from the
   * phase's rate to a tenth of it over the phase; `constant` keeps it.
   */
  lrSchedule?: LearningRateSchedule;
  /** Seed of initialisation, data order and augmentation. Default 1. */
  seed?: number;
  /** Phase 2: fraction of all-empty windows skipped per epoch. Default 0.7. */
  emptySkip?: number;
  /** Augmentation options (`augment_settings.ts`), or false for none. Default nnU-Net's set. */
  augment?: AugmentOptions | false;
  /**
   * Train on random P×P in-plane crops (P a multiple of 16); 0 = whole
   * slices, as is a P covering the (padded) slices whole. Default 64.
   */
  patch?: number;
  /** Share of patch crops centred on a tumour voxel. Default 1/3. */
  patchTumourShare?: number;
  /**
   * One phase instead of two (the ablation's "without two-phase"): `epochs`
   * epochs over all windows (empty ones thinned) with the class-weighted loss.
   */
  singlePhase?: boolean;
  /**
   * Fit the schedule into about this many seconds of training (over resumed
   * runs): throughput is measured over the first batches, then both phases
   * get as many epochs as fit, in the ratio of `epochs` to `phase2Epochs`
   * (not capped by them), so the run ends with a completed phase 2. A
   * resumed run follows the plan of the run it continues.
   */
  timeBudget?: number;
  /** With `timeBudget`: at most this many epochs of both phases together. */
  maxEpochs?: number;
  /** Hard stop: end cleanly mid-epoch after about this many seconds of this run, validating it. */
  timeLimit?: number;
  /** Continue from the last checkpoint beside `out`. */
  resume?: boolean;
  /** Stop (as if interrupted) after this many batches in this run; for tests. */
  stopAfterSteps?: number;
  /**
   * Aborting stops the run before its next batch, writing the last
   * checkpoint (resumable exactly with `resume`); the result says
   * `stopped: "interrupted"`. The CLI feeds it from SIGINT/SIGTERM.
   */
  signal?: AbortSignal;
  /** Cases kept loaded at once. Default 4. */
  cacheCases?: number;
  /**
   * Validation inference, through `segment`'s pipeline: `windowed` (default)
   * runs windows of `seq` slices from a fresh convLSTM state (`segment
   * --window SEQ`; with seq 3, `segment`'s default); `stateful` carries the
   * state through the whole depth (`segment --stateful`).
   */
  valMode?: "windowed" | "stateful";
  /** Recorded in checkpoint metadata: the command line that started training. */
  command?: string;
  /** Called after every batch. */
  onStep?: (progress: StepProgress) => void;
  /** Called after every validated epoch. */
  onEpoch?: (record: TrainRecord) => void;
  /** Called with one-line messages (the plan, checkpoint written, resumed, stopped). */
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

/** What `train` (`trainer.ts`) did. */
export interface TrainResult {
  /** Every epoch record, including those of earlier runs when resumed. */
  history: TrainRecord[];
  /** The best validated epoch (kept at `out`), if any. */
  best: TrainRecord | null;
  /** Why training ended. */
  stopped: "done" | "time-limit" | "step-limit" | "interrupted";
  /** The schedule followed: epochs per phase, and what they were sized from. */
  plan: SchedulePlan;
  /** Batches trained in this run. */
  steps: number;
  /** Seconds of this run. */
  seconds: number;
  /** Path of the last checkpoint. */
  last: string;
  /** Path of the curves SVG. */
  curves: string;
}
