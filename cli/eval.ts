/**
 * `deno task eval PRED TRUTH [--labels brats2017] [--json FILE] [--csv FILE]`:
 * scores predicted label volumes against the truth, streaming slice by slice.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import type { CaseScores } from "../data/metrics.ts";
import { labelConvention } from "../data/labels.ts";
import { summariseScores } from "../data/score_summary.ts";
import { findLabelFiles } from "../io/cases.ts";
import { pathKind } from "../io/files.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { reportLines, scoresCsv, scoresJson } from "./_eval_report.ts";
import { scoreCase } from "./_eval_score.ts";
import { folderArg, messageOf, parseCommand } from "./_usage.ts";

const USAGE = `usage: deno task eval PRED TRUTH [--labels brats2017] [--json FILE] [--csv FILE]

Scores PRED/<id>.nii.gz (or PRED/<id>_seg.nii.gz, PRED/<id>/<id>_seg.nii.gz) against the truth
label volumes under TRUTH (case folders with <id>_seg / <id>-seg / BRATS-2015 OT files, or a
folder of <id>.nii.gz label files).
  --labels NAME   label convention of both: brats2015, brats2017 (default), brats2023
  --json FILE     also write the scores as JSON
  --csv FILE      also write the scores as CSV (one row per case, then the mean)`;

/** The prediction file of case `id` under `pred`, if any. */
async function findPrediction(pred: string, id: string): Promise<string | undefined> {
  for (const stem of [`${id}`, `${id}_seg`, `${id}/${id}_seg`, `${id}-seg`]) {
    for (const ext of [".nii.gz", ".nii"]) {
      if (await pathKind(`${pred}/${stem}${ext}`) === "file") return `${pred}/${stem}${ext}`;
    }
  }
  return undefined;
}

/** The truth label volumes: case folders' label files, else a folder of `<id>.nii.gz`. */
async function truthFiles(root: string): Promise<{ id: string; path: string }[]> {
  const labels = await findLabelFiles(root);
  if (labels.length) return labels;
  const out: { id: string; path: string }[] = [];
  for await (const e of Deno.readDir(root)) {
    const m = /^(.+)\.nii(\.gz)?$/i.exec(e.name);
    if (e.isFile && m) out.push({ id: m[1], path: `${root}/${e.name}` });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Runs the `eval` command; returns the exit code (1 when any prediction was
 * missing or bad, or any truth unreadable; 2 for misuse).
 *
 * @example
 * ```ts
 * import { run } from "./eval.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: {
      labels: { type: "string", default: "brats2017" },
      json: { type: "string" },
      csv: { type: "string" },
    },
    min: 2,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const [predDir, truthDir] = positionals.map(folderArg);
  const info = labelConvention(values.labels);
  if (await pathKind(predDir) !== "folder") {
    throw new InputError(predDir, "is not a folder");
  }
  const truths = await truthFiles(truthDir);
  if (truths.length === 0) {
    throw new InputError(truthDir, "holds no label volumes (<id>_seg, <id>-seg or <id>.nii.gz)");
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const rows: { id: string; s: CaseScores }[] = [];
  for (const { id, path } of truths) {
    const predPath = await findPrediction(predDir, id);
    if (!predPath) problems.push(`${id}: no prediction in ${predDir}; scored as empty`);
    try {
      rows.push({
        id,
        s: await scoreCase(predPath, path, { convention: info.name, problems, warnings }),
      });
    } catch (e) {
      problems.push(`${messageOf(e)}; case skipped`);
    }
  }
  const summary = summariseScores(rows.map((r) => r.s), { convention: info.name });
  for (const line of reportLines(rows, summary, info)) console.log(line);
  for (const w of warnings) console.error(`warning: ${w}`);
  for (const p of problems) console.error(p);
  const text = (s: string) => new TextEncoder().encode(s);
  if (values.json) {
    const json = scoresJson(info.name, rows, summary);
    await writeAtomic(values.json, text(JSON.stringify(json, null, 2) + "\n"));
  }
  if (values.csv) await writeAtomic(values.csv, text(scoresCsv(rows, summary, info.labels)));
  return problems.length || rows.length === 0 ? 1 : 0;
}
