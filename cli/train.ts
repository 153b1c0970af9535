/**
 * `deno task train DATA --out FILE [options]`: two-phase training with
 * median-frequency balancing (paper section 4.2) on the cases under DATA,
 * with validation Dice per epoch, best and last checkpoints, `--resume`,
 * `--time-budget`, and `--ablation` to train and compare the paper's variants.
 *
 * @module
 */

import { getDevice } from "../gpu/device.ts";
import { InputError } from "../data/input_error.ts";
import { makeDir, pathKind } from "../io/files.ts";
import { sweepStaleTemps } from "../io/temp_files.ts";
import { trainingFiles } from "../io/training_files.ts";
import { describeConfig } from "../model/config.ts";
import { runAblation } from "../train/ablation.ts";
import { train, trainingPaths } from "../train/trainer.ts";
import type { TrainingSource } from "../train/training_data.ts";
import { listenForInterrupt } from "./_interrupt.ts";
import { parseTrainArgs, type TrainArgs } from "./_train_args.ts";
import { openTrainingData, splitCases } from "./_train_data.ts";
import { resultLines, trainDisplay } from "./_train_report.ts";

/** Trains every ablation variant and prints the table (of the variants done, when interrupted). */
async function ablate(
  source: TrainingSource,
  args: TrainArgs,
  signal: AbortSignal,
): Promise<number> {
  const table = await runAblation(source, {
    ...args.trainer,
    ...trainingFiles,
    out: args.out,
    widths: args.config.widths,
    classes: args.classes,
    report: trainDisplay,
    signal,
  });
  console.log(table);
  return signal.aborted ? 130 : 0;
}

/** Trains the one network the flags describe and prints where it went. */
async function trainOne(
  source: TrainingSource,
  args: TrainArgs,
  signal: AbortSignal,
): Promise<number> {
  const display = trainDisplay(describeConfig(args.config));
  const result = await train(source, {
    ...args.trainer,
    ...trainingFiles,
    config: args.config,
    out: args.out,
    signal,
    ...display.callbacks,
  });
  display.done();
  for (const line of resultLines(result, args.out)) console.log(line);
  return result.stopped === "interrupted" ? 130 : 0;
}

/** Refuses to start over an earlier run's checkpoints unless told to (`--resume`, `--overwrite`). */
async function checkOutput(args: TrainArgs): Promise<void> {
  if (args.trainer.resume || args.overwrite || args.ablation) return;
  for (const path of [args.out, trainingPaths(args.out).last]) {
    if (await pathKind(path) !== null) {
      throw new InputError(
        path,
        "exists: pass --resume to continue that run or --overwrite to start over it",
      );
    }
  }
}

/**
 * Runs `train`; returns the exit code (0 trained, 1 cannot train, 2 misuse,
 * 130 interrupted with a resumable last checkpoint).
 *
 * @example
 * ```ts
 * import { run } from "./train.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseTrainArgs(args);
  if (typeof parsed === "number") return parsed;
  await checkOutput(parsed);
  const split = await splitCases(parsed.data, parsed);
  await getDevice();
  console.log(
    `${split.trainCases.length} training and ${split.valCases.length} validation cases; ` +
      `${describeConfig(parsed.config)}; seed ${parsed.trainer.seed}`,
  );
  const source = await openTrainingData(split, parsed);
  const outDir = parsed.out.replace(/[^/\\]*$/, "");
  if (outDir) await makeDir(outDir);
  const swept = await sweepStaleTemps(outDir || ".");
  if (swept.length) console.log(`removed ${swept.length} temporary file(s) of runs that died`);
  using interrupt = listenForInterrupt();
  return parsed.ablation
    ? await ablate(source, parsed, interrupt.signal)
    : await trainOne(source, parsed, interrupt.signal);
}
