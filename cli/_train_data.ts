// `train`'s data: labelled cases discovered, split into training and validation, opened for the trainer.

import type { Case } from "../data/cases.ts";
import { Random } from "../data/random.ts";
import { caseSources, discoverCases } from "../io/cases.ts";
import { pathKind } from "../io/files.ts";
import { SYNTH_MARK } from "./synth.ts";
import type { TrainingSource } from "../train/training_data.ts";
import { openTrainingCases } from "../train/training_cases.ts";
import { assignFolds, hasEnhancing } from "../train/folds.ts";
import type { LabelConvention } from "../data/labels.ts";
import type { TrainArgs } from "./_train_args.ts";

/** Training and validation cases. */
export interface CaseSplit {
  /** Cases trained on. */
  trainCases: Case[];
  /** Cases validated on. */
  valCases: Case[];
}

/** Labelled cases under `dir`, sorted by id; skipped ones are reported on stderr. */
async function labelledCases(dir: string): Promise<Case[]> {
  const { cases, problems } = await discoverCases(dir, { requireLabel: true });
  for (const p of problems) console.error(`skipping ${p.path}: ${p.reason}`);
  if (cases.length === 0) {
    throw new RangeError(`${dir}: no cases with four modalities and a label volume`);
  }
  return cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Training and validation cases: `--val DIR`, or a seeded hold-out of
 * `valFraction` of DATA (none when DATA has fewer than two cases).
 *
 * @throws {RangeError} when a folder holds no labelled case.
 * @example
 * ```ts
 * import { splitCases } from "./_train_data.ts";
 * import { run as synth } from "./synth.ts";
 * const dir = await Deno.makeTempDir();
 * await synth([dir, "--cases", "3", "--size", "16,16,8"]);
 * const { trainCases, valCases } = await splitCases(dir, { valFraction: 0.2, trainer: { seed: 1 } });
 * console.log(trainCases.length, valCases.length); // 2 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function splitCases(
  data: string,
  options: Pick<TrainArgs, "valDir" | "valFraction"> & { trainer: { seed: number } },
): Promise<CaseSplit> {
  const all = await labelledCases(data);
  if (options.valDir !== undefined) {
    return { trainCases: all, valCases: await labelledCases(options.valDir) };
  }
  const fraction = options.valFraction;
  const order = Random.forKey(options.trainer.seed, 0x5eed).shuffle([...all.keys()]);
  const nVal = all.length < 2 || fraction === 0
    ? 0
    : Math.max(1, Math.round(all.length * fraction));
  const val = new Set(order.slice(0, nVal));
  return {
    trainCases: all.filter((_, i) => !val.has(i)),
    valCases: all.filter((_, i) => val.has(i)),
  };
}

/** The labelled cases of a cross-validation and the fold each validates in. */
export interface FoldPlan {
  /** Labelled cases under DATA, sorted by id. */
  cases: Case[];
  /** Fold of each case (same order). */
  fold: number[];
  /** Number of folds. */
  folds: number;
}

/**
 * Splits the labelled cases under `data` into `folds` folds, stratified by
 * whether each case's label holds enhancing tumour (every label is read once).
 *
 * @throws {RangeError} when DATA holds fewer cases than folds.
 * @example
 * ```ts
 * import { foldPlan, foldSplit } from "./_train_data.ts";
 * import { run as synth } from "./synth.ts";
 * const dir = await Deno.makeTempDir();
 * await synth([dir, "--cases", "4", "--size", "16,16,8"]);
 * const plan = await foldPlan(dir, { folds: 2, seed: 1, labels: "brats2017" });
 * console.log(foldSplit(plan, 0).valCases.length); // 2
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function foldPlan(
  data: string,
  options: { folds: number; seed: number; labels: LabelConvention },
): Promise<FoldPlan> {
  const cases = await labelledCases(data);
  const enhancing: boolean[] = [];
  for (const c of cases) enhancing.push(await hasEnhancing(await caseSources(c), options.labels));
  const fold = assignFolds(
    cases.map((c, i) => ({ id: c.id, enhancing: enhancing[i] })),
    options.folds,
    options.seed,
  );
  return { cases, fold, folds: options.folds };
}

/**
 * Fold `k` of `plan`: its cases validate, the others train.
 *
 * @example
 * ```ts
 * import { foldSplit } from "./_train_data.ts";
 * const kase = (id: string) => ({ id, dir: id, format: "nifti" as const, modalities: { flair: "", t1: "", t1ce: "", t2: "" } });
 * const split = foldSplit({ cases: [kase("a"), kase("b"), kase("c")], fold: [0, 1, 0], folds: 2 }, 0);
 * console.log(split.valCases.map((c) => c.id), split.trainCases.map((c) => c.id)); // ["a", "c"] ["b"]
 * ```
 */
export function foldSplit(plan: FoldPlan, k: number): CaseSplit {
  return {
    trainCases: plan.cases.filter((_, i) => plan.fold[i] !== k),
    valCases: plan.cases.filter((_, i) => plan.fold[i] === k),
  };
}

/**
 * Opens the split's files for the trainer (class weights are counted over
 * the training labels) and prints the class weights.
 *
 * @example
 * ```ts
 * import { openTrainingData, splitCases } from "./_train_data.ts";
 * import { run as synth } from "./synth.ts";
 * const dir = await Deno.makeTempDir();
 * await synth([dir, "--cases", "2", "--size", "16,16,8"]);
 * const split = await splitCases(dir, { valFraction: 0.5, trainer: { seed: 1 } });
 * const source = await openTrainingData(split, { data: dir, labels: "brats2017" });
 * console.log(source.train.length, source.val.length); // 1 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openTrainingData(
  split: CaseSplit,
  args: Pick<TrainArgs, "data" | "labels" | "valDir" | "dataNote"> & {
    /** Recorded with the data: which fold of how many this run trains. */
    fold?: { k: number; n: number };
  },
): Promise<TrainingSource> {
  const source = await openTrainingCases(await Promise.all(split.trainCases.map(caseSources)), {
    labels: args.labels,
    val: await Promise.all(split.valCases.map(caseSources)),
    description: {
      folder: args.data,
      valFolder: args.valDir ?? null,
      ...(await pathKind(`${args.data}/${SYNTH_MARK}`) === "file" ? { synthetic: true } : {}),
      ...(args.dataNote ? { note: args.dataNote } : {}),
      ...(args.fold ? { fold: args.fold.k, folds: args.fold.n } : {}),
    },
  });
  console.log(
    `class weights (median-frequency balancing, phase 1): ${
      source.classWeights.map((w) => w.toFixed(3)).join(", ")
    }`,
  );
  return source;
}
