// `segment`'s work: each case streamed through the model under a progress bar, a bad case reported and skipped.

import { segmentCase } from "../io/segment.ts";
import type { SliceModel } from "../model/slice_model.ts";
import type { InferenceOptions } from "../pipeline/segment_case.ts";
import { listenForInterrupt } from "./_interrupt.ts";
import { Progress } from "./_progress.ts";
import { outputsExist, type Task } from "./_segment_plan.ts";
import { messageOf } from "./_usage.ts";

/** How the cases are segmented. */
export interface SegmentLoopOptions {
  /** The loaded model (one network or an ensemble). */
  model: SliceModel<unknown>;
  /** Window, TTA, labels, ... */
  inference: InferenceOptions;
  /** Redo a case whose output exists (else one written meanwhile, by another run on OUT, is skipped). */
  overwrite?: boolean;
}

/** What {@linkcode segmentTasks} did. */
export interface SegmentLoopResult {
  /** Cases written. */
  done: number;
  /** Cases whose output another run wrote after this one planned. */
  skipped: number;
  /** One line per case that failed. */
  failures: string[];
  /** Whether a signal stopped the run. */
  interrupted: boolean;
}

/** Where one case is in the run, for its lines. */
interface Step {
  task: Task;
  tag: string;
  progress: Progress;
  signal: AbortSignal;
}

/** Segments one case; returns true when written, its failure line, or false when interrupted. */
async function segmentOne(step: Step, options: SegmentLoopOptions): Promise<boolean | string> {
  const { task, tag, progress, signal } = step;
  let written = 0;
  try {
    const result = await segmentCase(task.kase, task.out, {
      ...options.inference,
      model: options.model,
      probabilitiesPath: task.probabilities,
      signal,
      onSlice: (n) => {
        // Without a drawn bar, logs (and tests that interrupt mid-case) see output begin.
        if (written === 0 && !progress.tty) {
          progress.log(`${tag} ${task.id}: writing ${task.slices} slices`);
        }
        progress.advance(n - written);
        written = n;
      },
    });
    for (const warning of result.warnings) progress.error(`WARNING ${task.id}: ${warning}`);
    const z = result.shape[2];
    progress.log(
      `${tag} ${task.id}: ${z} slices in ${result.seconds.toFixed(1)} s ` +
        `(${(z / result.seconds).toFixed(1)} slices/s)${
          result.relabelled ? ", small enhancing relabelled as core" : ""
        }${
          result.removed ? `, ${result.removed} voxels outside the largest tumour part removed` : ""
        }`,
    );
    return true;
  } catch (error) {
    progress.shrink(task.slices - written);
    if (signal.aborted) return false;
    const message = messageOf(error);
    const line = message.includes(task.path) || message.includes(task.id)
      ? message
      : `${task.id}: ${message}`;
    progress.error(`FAILED ${line}`);
    return line;
  }
}

/**
 * Segments the cases in order until done or interrupted (SIGINT/SIGTERM);
 * prints a line per case and, when any was written, the overall rate.
 *
 * @example
 * ```ts ignore
 * // Needs a GPU adapter and a checkpoint.
 * import { segmentTasks } from "./_segment_loop.ts";
 * import { planSegmentation } from "./_segment_plan.ts";
 * import { loadModel } from "../io/checkpoint.ts";
 * const plan = await planSegmentation("cases", "pred", { shard: { k: 0, n: 1 }, overwrite: true });
 * const model = await loadModel("models/default.safetensors");
 * const { done, failures } = await segmentTasks(plan.todo, { model, inference: { mode: "windowed" } });
 * model.release();
 * ```
 */
export async function segmentTasks(
  todo: readonly Task[],
  options: SegmentLoopOptions,
): Promise<SegmentLoopResult> {
  using interrupt = listenForInterrupt();
  const { signal } = interrupt;
  const progress = new Progress(todo.reduce((n, t) => n + t.slices, 0));
  const result: SegmentLoopResult = { done: 0, skipped: 0, failures: [], interrupted: false };
  try {
    for (const [i, task] of todo.entries()) {
      if (signal.aborted) break;
      const tag = `[${i + 1}/${todo.length}]`;
      if (!options.overwrite && await outputsExist(task)) {
        progress.shrink(task.slices);
        progress.log(`${tag} ${task.id}: written meanwhile by another run, skipped`);
        result.skipped++;
        continue;
      }
      progress.label(`${tag} ${task.id}`);
      const outcome = await segmentOne({ task, tag, progress, signal }, options);
      if (outcome === false) break;
      if (outcome === true) result.done++;
      else result.failures.push(outcome);
    }
  } finally {
    progress.done();
  }
  result.interrupted = signal.aborted;
  if (result.done > 0) {
    console.log(`${result.done} segmented at ${progress.rate.toFixed(1)} slices/s overall`);
  }
  return result;
}
