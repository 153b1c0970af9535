/**
 * `deno task cv DIR [--labels NAME] [--data DATA] [--json FILE]`: scores the
 * out-of-fold predictions of a `train --folds` run (the paper's Table 4:
 * Dice, PPV and sensitivity of complete, core and enhancing tumour over all
 * cases, and mean ± sd over folds), chooses the postprocessing on them and
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
import { pathKind, readBytes } from "../io/files.ts";
import { cvLines, type CvResult, foldStats } from "./_cv_report.ts";
import { FOLD_RECORD, type FoldRecord } from "./_train_folds.ts";
import { folderArg, parseCommand } from "./_usage.ts";

const USAGE = `usage: deno task cv DIR [--labels NAME] [--data DATA] [--json FILE]

Scores the out-of-fold predictions of deno task train --folds N --out DIR/NAME.safetensors
(DIR/fold_K/val/<id>.nii.gz against the label files each DIR/fold_K/fold.json names) in the
paper's Table 4 layout: Dice, PPV and sensitivity of complete, core and enhancing tumour, mean
over all cases and mean ± sd over the folds. Then chooses the postprocessing on the same cases
(enhancing under T voxels relabelled core, T from 0 to 1000; keep the largest tumour component
or not) by mean Dice over the three regions, prints both, and writes the choice to
DIR/${POSTPROCESSING_FILE}, which deno task segment --model DIR applies (--no-postprocessing
turns it off). Folds without fold.json (not finished) are reported and left out.
  --labels NAME   label convention of the cases (default brats2017)
  --data DATA     find the label files by case id under DATA instead (the data moved)
  --json FILE     also write every score as JSON`;

/** A fold's record, read and checked. */
async function readRecord(path: string): Promise<FoldRecord> {
  let record: FoldRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(await readBytes(path)));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, "is not JSON");
  }
  if (!Number.isInteger(record?.fold) || !Array.isArray(record?.val)) {
    throw new InputError(path, "is not a fold record (fold, val) of train --folds");
  }
  return record;
}

/** The finished folds' records under `dir`, by fold; the unfinished folders' names. */
async function foldRecords(dir: string): Promise<{ records: FoldRecord[]; unfinished: string[] }> {
  if (await pathKind(dir) !== "folder") throw new InputError(dir, "is not a folder");
  const records: FoldRecord[] = [];
  const unfinished: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!/^fold_\d+$/.test(e.name)) continue;
    const path = `${dir}/${e.name}/${FOLD_RECORD}`;
    if (await pathKind(path) === "file") records.push(await readRecord(path));
    else unfinished.push(e.name);
  }
  if (records.length === 0) {
    throw new InputError(
      dir,
      `holds no finished fold (fold_K/${FOLD_RECORD}): run train --folds first`,
    );
  }
  return { records: records.sort((a, b) => a.fold - b.fold), unfinished: unfinished.sort() };
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
      labels: { type: "string", default: "brats2017" },
      data: { type: "string" },
      json: { type: "string" },
    },
    min: 1,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const dir = folderArg(positionals[0]);
  const convention = labelConvention(values.labels).name as LabelConvention;
  const { records, unfinished } = await foldRecords(dir);
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
  for (const line of cvLines(result, { dir, unfinished })) console.log(line);
  const file = {
    ...chosen.post,
    chosenBy: `mean Dice of whole, core and enhancing over ${cases.length} out-of-fold cases of ` +
      `${records.length} folds (deno task cv)`,
    dice: { without: result.without.all.dice, with: result.with.all.dice },
  };
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");
  await writeAtomic(`${dir}/${POSTPROCESSING_FILE}`, text(file));
  console.log(`postprocessing written to ${dir}/${POSTPROCESSING_FILE}`);
  if (values.json) {
    await writeAtomic(
      values.json,
      text({
        ...result,
        perCase: cases.map((c, i) => ({ id: c.id, fold: c.fold, without: c.raw, with: post[i] })),
      }),
    );
  }
  return 0;
}
