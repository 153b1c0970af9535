// One training run of `train`: refused over an earlier run's files unless told, trained, reported.

import { InputError } from "../data/input_error.ts";
import { pathKind } from "../io/files.ts";
import { trainingFiles } from "../io/training_files.ts";
import { describeConfig } from "../model/config.ts";
import { train, trainingPaths, type TrainResult } from "../train/trainer.ts";
import type { TrainingSource } from "../train/training_data.ts";
import type { TrainArgs } from "./_train_args.ts";
import { resultLines, trainDisplay } from "./_train_report.ts";

/**
 * Refuses to start over an earlier run's checkpoints at `out` unless told
 * to (`--resume`, `--overwrite`).
 *
 * @throws {InputError} naming the checkpoint that is in the way.
 * @example
 * ```ts
 * import { checkOutput } from "./_train_run.ts";
 * await checkOutput("no/such/model.safetensors", { resume: false, overwrite: false });
 * ```
 */
export async function checkOutput(
  out: string,
  options: { resume?: boolean; overwrite: boolean },
): Promise<void> {
  if (options.resume || options.overwrite) return;
  for (const path of [out, trainingPaths(out).last]) {
    if (await pathKind(path) !== null) {
      throw new InputError(
        path,
        "exists: pass --resume to continue that run or --overwrite to start over it",
      );
    }
  }
}

/**
 * Trains the one network `args` describe into `out`, with the progress
 * display, and prints where the checkpoints went.
 *
 * @example
 * ```ts ignore
 * // Needs a GPU adapter and training data.
 * import { trainOne } from "./_train_run.ts";
 * const result = await trainOne(source, args, args.out, signal);
 * ```
 */
export async function trainOne(
  source: TrainingSource,
  args: TrainArgs,
  out: string,
  signal: AbortSignal,
  resume = args.trainer.resume,
): Promise<TrainResult> {
  const display = trainDisplay(describeConfig(args.config));
  const result = await train(source, {
    ...args.trainer,
    resume,
    ...trainingFiles,
    config: args.config,
    out,
    signal,
    ...display.callbacks,
  });
  display.done();
  for (const line of resultLines(result, out)) console.log(line);
  return result;
}
