/**
 * `deno task train DATA --out FILE [options]`: two-phase training with
 * median-frequency balancing (paper section 4.2) on the cases under DATA,
 * with validation Dice per epoch, best and last checkpoints, `--resume`,
 * `--time-budget`, and `--ablation` to train and compare the paper's variants.
 *
 * @module
 */

import { getDevice } from "../gpu/device.ts";
import { makeDir } from "../io/files.ts";
import { sweepStaleTemps } from "../io/temp_files.ts";
import { trainingFiles } from "../io/training_files.ts";
import { describeConfig } from "../model/config.ts";
import { runAblation } from "../train/ablation.ts";
import type { TrainingSource } from "../train/training_data.ts";
import { listenForInterrupt } from "./_interrupt.ts";
import { parseTrainArgs, type TrainArgs } from "./_train_args.ts";
import { openTrainingData, splitCases } from "./_train_data.ts";
import { trainDisplay } from "./_train_report.ts";
import { checkOutput, trainOne } from "./_train_run.ts";
import { trainFolds } from "./_train_folds.ts";

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
  if (parsed.folds) return await trainFolds(parsed);
  if (!parsed.ablation) await checkOutput(parsed.out, { ...parsed.trainer, ...parsed });
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
    : (await trainOne(source, parsed, parsed.out, interrupt.signal)).stopped === "interrupted"
    ? 130
    : 0;
}
