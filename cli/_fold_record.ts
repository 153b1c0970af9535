// What a `train --folds` run leaves for `cv` and `segment`: the split it made, and each finished fold's record.

import { InputError } from "../data/input_error.ts";
import type { LabelConvention } from "../data/labels.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { pathKind, readBytes } from "../io/files.ts";
import type { TrainResult } from "../train/trainer.ts";

/** The record a finished fold leaves in its folder; `cv` reads it. */
export const FOLD_RECORD = "fold.json";
/** The split of a cross-validation, beside its `fold_K/` folders. */
export const SPLIT_RECORD = "splits.json";

/** What a finished fold's `fold.json` says. */
export interface FoldRecord {
  /** This fold's index. */
  fold: number;
  /** Number of folds. */
  folds: number;
  /** The split's seed. */
  seed: number;
  /** The label convention trained with (absent in records written before it was kept). */
  labels?: LabelConvention;
  /** The data folder split. */
  data: string;
  /** The best checkpoint's file name, in the fold's folder. */
  checkpoint: string;
  /** Cases trained on. */
  train: string[];
  /** Cases validated on, with their label files; predictions are `val/<id>.nii.gz`. */
  val: { id: string; label: string }[];
  /** The best epoch and its validation Dice. */
  best: { epoch: number; dice: { whole: number; core: number; enhancing: number } } | null;
  /** Why training ended. */
  stopped: TrainResult["stopped"];
}

/** A cross-validation's split: every case's fold, and what the split was made from. */
export interface SplitRecord {
  /** Number of folds. */
  folds: number;
  /** The split's seed. */
  seed: number;
  /** Every case, sorted by id, with its fold. */
  cases: { id: string; fold: number }[];
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");

async function readJson(path: string): Promise<unknown> {
  const bytes = await readBytes(path);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InputError(path, "is not JSON");
  }
}

/**
 * Reads and checks a fold's `fold.json`.
 *
 * @throws {InputError} when it is not JSON or not a fold record.
 * @example
 * ```ts
 * import { readFoldRecord } from "./_fold_record.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, JSON.stringify({ fold: 1, folds: 5, val: [] }));
 * console.log((await readFoldRecord(path)).folds); // 5
 * await Deno.remove(path);
 * ```
 */
export async function readFoldRecord(path: string): Promise<FoldRecord> {
  const record = await readJson(path) as FoldRecord;
  if (
    !Number.isInteger(record?.fold) || !Number.isInteger(record?.folds) ||
    !Array.isArray(record?.val)
  ) {
    throw new InputError(path, "is not a fold record (fold, folds, val) of train --folds");
  }
  return record;
}

/**
 * The finished folds under `root`: each `fold_K/fold.json`, read, checked
 * to name its own folder's fold, and sorted by fold.
 *
 * @throws {InputError} for a record that is bad or names another fold.
 * @example
 * ```ts
 * import { findFoldRecords } from "./_fold_record.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/fold_1`);
 * await Deno.writeTextFile(`${root}/fold_1/fold.json`, JSON.stringify({ fold: 1, folds: 2, val: [] }));
 * console.log((await findFoldRecords(root)).map((f) => f.record.fold)); // [1]
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function findFoldRecords(
  root: string,
): Promise<{ path: string; record: FoldRecord }[]> {
  const found: { path: string; record: FoldRecord }[] = [];
  if (await pathKind(root) !== "folder") return found;
  for await (const e of Deno.readDir(root)) {
    const name = /^fold_(\d+)$/.exec(e.name);
    const path = `${root}/${e.name}/${FOLD_RECORD}`;
    if (!name || await pathKind(path) !== "file") continue;
    const record = await readFoldRecord(path);
    if (record.fold !== Number(name[1])) {
      throw new InputError(path, `is the record of fold ${record.fold}, in ${e.name}`);
    }
    found.push({ path, record });
  }
  return found.sort((a, b) => a.record.fold - b.record.fold);
}

/**
 * Reads `root/splits.json`, or null when there is none (folders trained
 * before it was kept have none).
 *
 * @throws {InputError} when it is not JSON or not a split.
 * @example
 * ```ts
 * import { readSplitRecord } from "./_fold_record.ts";
 * console.log(await readSplitRecord(await Deno.makeTempDir())); // null
 * ```
 */
export async function readSplitRecord(root: string): Promise<SplitRecord | null> {
  const path = `${root}/${SPLIT_RECORD}`;
  if (await pathKind(path) !== "file") return null;
  const split = await readJson(path) as SplitRecord;
  if (
    !Number.isInteger(split?.folds) || !Number.isInteger(split?.seed) ||
    !Array.isArray(split?.cases)
  ) {
    throw new InputError(path, "is not the split (folds, seed, cases) of a train --folds run");
  }
  return split;
}

/**
 * What differs between the split on disk and the one made now, in words, or
 * null when they are the same.
 *
 * @example
 * ```ts
 * import { splitDifference } from "./_fold_record.ts";
 * const a = { folds: 2, seed: 1, cases: [{ id: "a", fold: 0 }, { id: "b", fold: 1 }] };
 * console.log(splitDifference(a, { ...a, cases: [{ id: "a", fold: 0 }] }));
 * // "case b is in the split but not in the data now"
 * ```
 */
export function splitDifference(saved: SplitRecord, now: SplitRecord): string | null {
  if (saved.folds !== now.folds || saved.seed !== now.seed) {
    return `it was made with --folds ${saved.folds} --seed ${saved.seed}, ` +
      `not --folds ${now.folds} --seed ${now.seed}`;
  }
  const before = new Map(saved.cases.map((c) => [c.id, c.fold]));
  const after = new Map(now.cases.map((c) => [c.id, c.fold]));
  for (const [id, fold] of after) {
    if (!before.has(id)) return `case ${id} is in the data now but not in the split`;
    if (before.get(id) !== fold) {
      return `case ${id} is in fold ${before.get(id)} there, ${fold} now`;
    }
  }
  for (const id of before.keys()) {
    if (!after.has(id)) return `case ${id} is in the split but not in the data now`;
  }
  return null;
}

/**
 * Why a fold's record does not belong to `split`, or null when it does: the
 * fold count and seed, and the cases it validated against those the split
 * puts in its fold.
 *
 * @example
 * ```ts
 * import { recordDifference } from "./_fold_record.ts";
 * const split = { folds: 2, seed: 1, cases: [{ id: "a", fold: 0 }, { id: "b", fold: 1 }] };
 * const record = { fold: 0, folds: 2, seed: 1, val: [{ id: "b", label: "" }] };
 * console.log(recordDifference(split, record as never));
 * // "it validated 1 case(s) where the split has 1 in fold 0 (case b differs)"
 * ```
 */
export function recordDifference(split: SplitRecord, record: FoldRecord): string | null {
  if (split.folds !== record.folds || split.seed !== record.seed) {
    return `it is of --folds ${record.folds} --seed ${record.seed}, the split of --folds ` +
      `${split.folds} --seed ${split.seed}`;
  }
  const want = split.cases.filter((c) => c.fold === record.fold).map((c) => c.id).sort();
  const got = record.val.map((v) => v.id).sort();
  if (want.join("\n") === got.join("\n")) return null;
  const odd = got.find((id) => !want.includes(id)) ?? want.find((id) => !got.includes(id));
  return `it validated ${got.length} case(s) where the split has ${want.length} in fold ` +
    `${record.fold} (case ${odd} differs)`;
}

/**
 * Keeps a cross-validation on one split: writes `root/splits.json` the
 * first time (or with `overwrite`), and afterwards refuses a split that
 * differs from it, so that jobs started at different times (a job array,
 * a rerun after the data changed) cannot train folds of different splits.
 * Before writing, every finished fold under `root` must belong to the new
 * split; of jobs starting together, the first to write wins and the others
 * compare with what it wrote.
 *
 * @throws {InputError} naming the file and the first difference.
 * @example
 * ```ts
 * import { keepSplit } from "./_fold_record.ts";
 * const dir = await Deno.makeTempDir();
 * const split = { folds: 2, seed: 1, cases: [{ id: "a", fold: 0 }, { id: "b", fold: 1 }] };
 * console.log(await keepSplit(dir, split), await keepSplit(dir, split)); // "written" "same"
 * await keepSplit(dir, { ...split, seed: 2 }).catch((e) => console.log(e.message));
 * // ".../splits.json: holds another split: it was made with --folds 2 --seed 1, not ..."
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function keepSplit(
  root: string,
  split: SplitRecord,
  options: { overwrite?: boolean } = {},
): Promise<"written" | "same"> {
  const path = `${root}/${SPLIT_RECORD}`;
  const compare = (saved: SplitRecord): "same" => {
    const difference = splitDifference(saved, split);
    if (difference === null) return "same";
    throw new InputError(
      path,
      `holds another split: ${difference}; train into another --out folder, or with the data ` +
        `and --seed this one was made from (--overwrite without --fold starts it afresh)`,
    );
  };
  const saved = options.overwrite ? null : await readSplitRecord(root);
  if (saved) return compare(saved);
  for (const { path: at, record } of await findFoldRecords(root)) {
    const difference = recordDifference(split, record);
    if (difference) {
      throw new InputError(
        at,
        `belongs to another split: ${difference}; --overwrite without --fold retrains every ` +
          `fold, or train into another --out folder`,
      );
    }
  }
  if (await writeAtomic(path, json(split), { exclusive: !options.overwrite })) return "written";
  return compare((await readSplitRecord(root))!);
}

/**
 * Writes a finished fold's record (atomically: `cv` and `segment` take
 * its presence to mean the fold is done).
 *
 * @example
 * ```ts ignore
 * import { writeFoldRecord } from "./_fold_record.ts";
 * await writeFoldRecord("cv/fold_2/fold.json", record);
 * ```
 */
export async function writeFoldRecord(path: string, record: FoldRecord): Promise<void> {
  await writeAtomic(path, json(record));
}
