// `train --folds N [--fold K]`: each fold trained, its validation cases segmented, and a record left once done.

import { loadModel } from "../io/checkpoint.ts";
import { makeDir, pathKind } from "../io/files.ts";
import { sweepStaleTemps } from "../io/temp_files.ts";
import { getDevice } from "../gpu/device.ts";
import { trainingPaths } from "../train/trainer.ts";
import { trainerValidation } from "../train/validate.ts";
import type { Case } from "../data/cases.ts";
import { listenForInterrupt } from "./_interrupt.ts";
import { segmentTasks } from "./_segment_loop.ts";
import { taskFor } from "./_segment_plan.ts";
import type { TrainArgs } from "./_train_args.ts";
import { foldPlan, foldSplit, openTrainingData } from "./_train_data.ts";
import { checkOutput, trainOne } from "./_train_run.ts";
import {
  FOLD_RECORD,
  type FoldRecord,
  keepSplit,
  SPLIT_RECORD,
  writeFoldRecord,
} from "./_fold_record.ts";

/**
 * Where fold `k` of a run whose `--out` is `out` keeps its files, and the
 * folder of all folds (`root`, where the split is kept).
 *
 * @example
 * ```ts
 * import { foldPaths } from "./_train_folds.ts";
 * console.log(foldPaths("cv/model.safetensors", 2));
 * // { root: "cv", dir: "cv/fold_2", out: "cv/fold_2/model.safetensors", val: "cv/fold_2/val", record: "cv/fold_2/fold.json" }
 * ```
 */
export function foldPaths(out: string, k: number): {
  root: string;
  dir: string;
  out: string;
  val: string;
  record: string;
} {
  const slash = out.lastIndexOf("/");
  const root = slash < 0 ? "." : out.slice(0, slash) || "/";
  const dir = `${root}/fold_${k}`;
  return {
    root,
    dir,
    out: `${dir}/${out.slice(slash + 1)}`,
    val: `${dir}/val`,
    record: `${dir}/${FOLD_RECORD}`,
  };
}

/** Segments a fold's validation cases with its best checkpoint; returns the failure lines. */
async function predictFold(
  cases: Case[],
  paths: ReturnType<typeof foldPaths>,
  args: TrainArgs,
): Promise<{ failures: string[]; interrupted: boolean }> {
  await makeDir(paths.val);
  const tasks = await Promise.all(
    cases.map((c) => taskFor(c, { out: `${paths.val}/${c.id}.nii.gz` })),
  );
  const model = await loadModel(paths.out);
  try {
    console.log(`segmenting the ${tasks.length} validation cases into ${paths.val}`);
    return await segmentTasks(tasks, {
      model,
      inference: trainerValidation(args.trainer),
      overwrite: true,
    });
  } finally {
    model.release();
  }
}

/**
 * Trains the folds `args.folds` asks for, one after another; a fold whose
 * record exists is skipped (unless `--overwrite`), one with a last
 * checkpoint is resumed under `--resume`. Returns the exit code.
 *
 * @example
 * ```ts ignore
 * // Needs a GPU adapter and training data.
 * import { trainFolds } from "./_train_folds.ts";
 * import { parseTrainArgs } from "./_train_args.ts";
 * const code = await trainFolds(parseTrainArgs(["cases", "--out", "cv/model.safetensors", "--folds", "5"]) as never);
 * ```
 */
export async function trainFolds(args: TrainArgs): Promise<number> {
  const { n, k } = args.folds!;
  const plan = await foldPlan(args.data, {
    folds: n,
    seed: args.trainer.seed,
    labels: args.labels,
  });
  const sizes = Array.from({ length: n }, (_, f) => plan.fold.filter((x) => x === f).length);
  console.log(
    `${plan.cases.length} cases in ${n} folds of ${sizes.join(", ")} (by case, stratified by ` +
      `enhancing tumour; seed ${args.trainer.seed})`,
  );
  const { root } = foldPaths(args.out, 0);
  await makeDir(root);
  const todo = k === undefined ? [...sizes.keys()] : [k];
  // --overwrite: the folds to retrain stop counting as finished before anything else happens.
  for (const fold of args.overwrite ? todo : []) {
    await Deno.remove(foldPaths(args.out, fold).record).catch(() => {});
  }
  const split = {
    folds: n,
    seed: args.trainer.seed,
    cases: plan.cases.map((c, i) => ({ id: c.id, fold: plan.fold[i] }))
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  };
  const kept = await keepSplit(root, split, { overwrite: args.overwrite });
  console.log(`split ${kept === "same" ? "as in" : "written to"} ${root}/${SPLIT_RECORD}`);
  await getDevice();
  using interrupt = listenForInterrupt();
  for (const fold of todo) {
    const paths = foldPaths(args.out, fold);
    // keepSplit checked every finished fold against this split.
    if (await pathKind(paths.record) === "file") {
      console.log(`fold ${fold}: done earlier (${paths.record}), skipped`);
      continue;
    }
    const hasLast = await pathKind(trainingPaths(paths.out).last) !== null;
    await checkOutput(paths.out, { resume: args.trainer.resume, overwrite: args.overwrite });
    await makeDir(paths.dir);
    const swept = [
      ...await sweepStaleTemps(paths.dir),
      ...(await pathKind(paths.val) === "folder" ? await sweepStaleTemps(paths.val) : []),
    ];
    if (swept.length) console.log(`removed ${swept.length} temporary file(s) of runs that died`);
    const cases = foldSplit(plan, fold);
    console.log(
      `fold ${fold} of ${n}: ${cases.trainCases.length} training and ` +
        `${cases.valCases.length} validation cases → ${paths.dir}`,
    );
    const source = await openTrainingData(cases, { ...args, fold: { k: fold, n } });
    const result = await trainOne(
      source,
      args,
      paths.out,
      interrupt.signal,
      hasLast && args.trainer.resume,
    );
    if (result.stopped === "interrupted") return 130;
    const predicted = await predictFold(cases.valCases, paths, args);
    if (predicted.interrupted) return 130;
    if (predicted.failures.length) {
      console.error(`fold ${fold}: ${predicted.failures.length} validation case(s) failed`);
      return 1;
    }
    const record: FoldRecord = {
      fold,
      folds: n,
      seed: args.trainer.seed,
      labels: args.labels,
      data: args.data,
      checkpoint: paths.out.slice(paths.dir.length + 1),
      train: cases.trainCases.map((c) => c.id),
      val: cases.valCases.map((c) => ({ id: c.id, label: c.label! })),
      best: result.best?.dice ? { epoch: result.best.epoch, dice: result.best.dice } : null,
      stopped: result.stopped,
    };
    await writeFoldRecord(paths.record, record);
    console.log(`fold ${fold}: done (${paths.record})`);
  }
  return 0;
}
