/**
 * `deno task cv DIR [--labels NAME] [--data DATA] [--json FILE] [--partial]`:
 * scores the out-of-fold predictions of a `train --folds` run (the paper's
 * Table 4: Dice, sensitivity and PPV of complete, core and enhancing tumour
 * over all cases, mean ± sd over folds, each fold), chooses the postprocessing on them and
 * writes it to `DIR/postprocessing.json`, which `segment --model DIR` applies.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { type CaseScores, scoreCase } from "../data/metrics.ts";
import { POSTPROCESSING_FILE, postprocessLabels } from "../data/postprocess.ts";
import { PostprocessSearch } from "../data/postprocess_search.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { findLabelFiles, readVolume } from "../io/cases.ts";
import { pathKind } from "../io/files.ts";
import { cvLines, type CvResult, foldStats } from "./_cv_report.ts";
import {
  findFoldRecords,
  FOLD_RECORD,
  type FoldRecord,
  readSplitRecord,
  recordDifference,
  SPLIT_RECORD,
} from "./_fold_record.ts";
import { folderArg, parseCommand } from "./_usage.ts";

const USAGE = `usage: deno task cv DIR [--labels NAME] [--data DATA] [--json FILE] [--partial]

Scores the out-of-fold predictions of deno task train --folds N --out DIR/NAME.safetensors
(DIR/fold_K/val/<id>.nii.gz against the label files each DIR/fold_K/fold.json names) in the
paper's Table 4 layout: Dice, sensitivity and PPV of complete, core and enhancing tumour, mean
over all cases, mean ± sd over the folds, and each fold. Then chooses the postprocessing on the
same cases (enhancing under T voxels relabelled core, T from 0 to 1000; keep the largest tumour
component or not) by mean Dice over the three regions, prints both, and writes the choice to
DIR/${POSTPROCESSING_FILE}, which deno task segment --model DIR applies (--no-postprocessing
turns it off). Every fold must be finished (have its fold.json), and the folds must agree with
each other and with DIR/${SPLIT_RECORD}.
  --labels NAME   label convention of the cases, for folds trained before it was recorded in
                  fold.json (otherwise the recorded one; a different one is refused)
  --data DATA     find the label files by case id under DATA instead (the data moved)
  --json FILE     also write every score as JSON (all cases, each fold, each case)
  --partial       score the finished folds when some are not; writes no postprocessing file`;

/** The finished folds' records under `dir`, by fold, checked to be one cross-validation. */
async function foldRecords(
  dir: string,
  partial: boolean,
): Promise<{ records: FoldRecord[]; missing: number[] }> {
  if (await pathKind(dir) !== "folder") throw new InputError(dir, "is not a folder");
  const found = await findFoldRecords(dir);
  if (found.length === 0) {
    throw new InputError(
      dir,
      `holds no finished fold (fold_K/${FOLD_RECORD}): run train --folds first`,
    );
  }
  const records = found.map((f) => f.record);
  const [first] = records;
  const seen = new Map<string, number>();
  for (const { path, record: r } of found) {
    if (r.folds !== first.folds || r.seed !== first.seed) {
      throw new InputError(
        path,
        `is of --folds ${r.folds} --seed ${r.seed}, fold_${first.fold} of --folds ${first.folds} ` +
          `--seed ${first.seed}: one folder must hold one cross-validation`,
      );
    }
    for (const { id } of r.val) {
      if (seen.has(id)) {
        throw new InputError(
          path,
          `validates case ${id}, which fold ${seen.get(id)} validates too`,
        );
      }
      seen.set(id, r.fold);
    }
  }
  const split = await readSplitRecord(dir);
  for (const r of split ? records : []) {
    const difference = recordDifference(split!, r);
    if (difference) {
      throw new InputError(
        `${dir}/${SPLIT_RECORD}`,
        `disagrees with fold_${r.fold}/${FOLD_RECORD}: ${difference}; the fold was trained on ` +
          `another split`,
      );
    }
  }
  const done = new Set(records.map((r) => r.fold));
  const missing = Array.from({ length: first.folds }, (_, f) => f).filter((f) => !done.has(f));
  if (missing.length && !partial) {
    throw new InputError(
      dir,
      `fold${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of ${first.folds} not ` +
        `finished (no fold_K/${FOLD_RECORD}): Table 4 needs every fold; --partial scores the ` +
        `finished ones`,
    );
  }
  return { records, missing };
}

/** The convention the folds were trained with (all the same), or `--labels` for older records. */
function foldConvention(records: FoldRecord[], dir: string, flag?: string): LabelConvention {
  const asked = flag === undefined ? undefined : labelConvention(flag).name as LabelConvention;
  const recorded = records.find((r) => r.labels);
  const want = recorded?.labels ?? asked ?? "brats2017";
  for (const r of records) {
    const trained = r.labels ?? want;
    if (trained !== want || (asked && trained !== asked)) {
      throw new InputError(
        `${dir}/fold_${r.fold}/${FOLD_RECORD}`,
        `was trained with labels ${trained}, not ${asked ?? want}` +
          (asked ? " (--labels)" : ` as fold_${recorded!.fold}`),
      );
    }
  }
  return want;
}

/** A label volume as bytes, with its shape and spacing. */
async function readLabels(
  path: string,
): Promise<{ data: Uint8Array; shape: number[]; spacing: number[] }> {
  const { data, geometry } = await readVolume(path);
  return {
    data: Uint8Array.from(data),
    shape: geometry.shape.slice(0, 3),
    spacing: geometry.spacing,
  };
}

/** A prediction and its truth, checked to share a shape, with the scoring options. */
async function readPair(pred: string, truth: string, convention: LabelConvention) {
  const [p, t] = [await readLabels(pred), await readLabels(truth)];
  if (p.shape.join() !== t.shape.join()) {
    throw new InputError(
      pred,
      `shape ${p.shape.join("×")} differs from ${truth}'s ${t.shape.join("×")}`,
    );
  }
  const options = {
    shape: t.shape as [number, number, number],
    convention,
    spacing: t.spacing as [number, number, number],
  };
  return { p, t, options };
}

/** One out-of-fold case: its prediction scored as written and with `post` applied later. */
interface OofCase {
  id: string;
  fold: number;
  raw: CaseScores;
  pred: string;
  truth: string;
}

/**
 * Runs `cv`; returns the exit code (1 when a prediction or label is missing or bad).
 *
 * @example
 * ```ts
 * import { run } from "./cv.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: {
      labels: { type: "string" },
      data: { type: "string" },
      json: { type: "string" },
      partial: { type: "boolean", default: false },
    },
    min: 1,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const dir = folderArg(positionals[0]);
  const { records, missing } = await foldRecords(dir, values.partial);
  const convention = foldConvention(records, dir, values.labels);
  const moved = values.data === undefined
    ? undefined
    : new Map((await findLabelFiles(folderArg(values.data))).map((l) => [l.id, l.path]));
  const search = new PostprocessSearch(convention);
  const cases: OofCase[] = [];
  for (const record of records) {
    for (const { id, label } of record.val) {
      const truth = moved ? moved.get(id) : label;
      if (!truth) throw new InputError(values.data!, `no label file of case ${id}`);
      const pred = `${dir}/fold_${record.fold}/val/${id}.nii.gz`;
      const { p, t, options } = await readPair(pred, truth, convention);
      cases.push({ id, fold: record.fold, raw: scoreCase(p.data, t.data, options), pred, truth });
      search.add(p.data, t.data, t.shape);
    }
  }
  const chosen = search.best();
  // The chosen postprocessing's full scores (PPV, sensitivity too), one case at a time again.
  const post: CaseScores[] = [];
  for (const c of cases) {
    const { p, t, options } = await readPair(c.pred, c.truth, convention);
    postprocessLabels(p.data, t.shape, convention, chosen.post);
    post.push(scoreCase(p.data, t.data, options));
  }
  const result: CvResult = {
    folds: records.map((r) => r.fold),
    cases: cases.map((c) => ({ id: c.id, fold: c.fold })),
    without: foldStats(cases.map((c) => c.raw), cases.map((c) => c.fold)),
    with: foldStats(post, cases.map((c) => c.fold)),
    postprocessing: chosen,
    candidates: search.scores(),
  };
  for (const line of cvLines(result, { dir, missing })) console.log(line);
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");
  if (values.json) {
    await writeAtomic(
      values.json,
      text({
        ...result,
        missing,
        perCase: cases.map((c, i) => ({ id: c.id, fold: c.fold, without: c.raw, with: post[i] })),
      }),
    );
  }
  if (missing.length) {
    console.log(`no ${POSTPROCESSING_FILE} written: not every fold is finished`);
    return 0;
  }
  const file = {
    ...chosen.post,
    chosenBy: `mean Dice of whole, core and enhancing over ${cases.length} out-of-fold cases of ` +
      `${records.length} folds (deno task cv)`,
    dice: { without: result.without.all.dice, with: result.with.all.dice },
  };
  await writeAtomic(`${dir}/${POSTPROCESSING_FILE}`, text(file));
  console.log(`postprocessing written to ${dir}/${POSTPROCESSING_FILE}`);
  return 0;
}
