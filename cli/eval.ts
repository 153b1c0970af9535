/**
 * `deno task eval PRED TRUTH [--labels brats2017] [--json FILE] [--csv FILE]`:
 * scores predicted label volumes against the truth, streaming slice by slice.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import { InputError } from "../data/input_error.ts";
import { type LabelConvention, labelConvention, REGIONS } from "../data/labels.ts";
import { CaseScorer, type CaseScores, EMPTY_REGION_RULE } from "../data/metrics.ts";
import { type ScoreSummary, summariseScores } from "../data/score_summary.ts";
import { findLabelFiles } from "../io/cases.ts";
import { readMha } from "../io/mha.ts";
import { openNiftiSlices } from "../io/nifti.ts";

const USAGE = `usage: deno task eval PRED TRUTH [--labels brats2017] [--json FILE] [--csv FILE]

Scores PRED/<id>.nii.gz (or PRED/<id>_seg.nii.gz, PRED/<id>/<id>_seg.nii.gz) against the truth
label volumes under TRUTH (case folders with <id>_seg / <id>-seg / BRATS-2015 OT files, or a
folder of <id>.nii.gz label files).
  --labels NAME   label convention of both: brats2015, brats2017 (default), brats2023
  --json FILE     also write the scores as JSON
  --csv FILE      also write the scores as CSV (one row per case, then the mean)`;

interface Source {
  shape: number[];
  spacing: number[];
  slices: AsyncIterator<ArrayLike<number>>;
  close(): Promise<void>;
}

async function openVolume(path: string): Promise<Source> {
  if (/\.mh[ad]$/i.test(path)) {
    const vol = await readMha(path);
    const [X, Y = 1, Z = 1] = vol.shape;
    const n = X * Y;
    const gen = async function* () {
      for (let z = 0; z < Z; z++) yield vol.data.subarray(z * n, z * n + n);
    };
    return {
      shape: [X, Y, Z],
      spacing: [...vol.header.spacing, 1, 1].slice(0, 3),
      slices: gen(),
      close: async () => {},
    };
  }
  const reader = await openNiftiSlices(path);
  const [X, Y = 1, Z = 1] = reader.shape;
  return {
    shape: [X, Y, Z, ...reader.shape.slice(3)],
    spacing: reader.header.pixdim.slice(1, 4).map(Math.abs),
    slices: reader.slices(),
    close: () => reader.close(),
  };
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined))?.isFile ?? false;
}

async function findPrediction(pred: string, id: string): Promise<string | undefined> {
  for (const stem of [`${id}`, `${id}_seg`, `${id}/${id}_seg`, `${id}-seg`]) {
    for (const ext of [".nii.gz", ".nii"]) {
      if (await exists(`${pred}/${stem}${ext}`)) return `${pred}/${stem}${ext}`;
    }
  }
  return undefined;
}

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

/** Scores one case; a missing, misshapen or invalid prediction is reported and scored as empty. */
async function scoreOne(
  predPath: string | undefined,
  truthPath: string,
  convention: LabelConvention,
  problems: string[],
): Promise<CaseScores> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const truth = await openVolume(truthPath);
    const [X, Y, Z] = truth.shape;
    if (truth.shape.length > 3 && truth.shape.slice(3).some((d) => d !== 1)) {
      await truth.close();
      throw new InputError(truthPath, `label volume is ${truth.shape.join("×")}, not 3-D`);
    }
    let pred: Source | undefined;
    if (predPath && attempt === 0) {
      try {
        pred = await openVolume(predPath);
        if (
          pred.shape.slice(0, 3).join() !== truth.shape.slice(0, 3).join() ||
          pred.shape.slice(3).some((d) => d !== 1)
        ) {
          problems.push(
            `${predPath}: shape ${
              pred.shape.join("×")
            } differs from the truth's ${X}×${Y}×${Z}; scored as empty`,
          );
          await pred.close();
          pred = undefined;
        }
      } catch (e) {
        problems.push(`${e instanceof Error ? e.message : e}; scored as empty`);
        pred = undefined;
      }
    }
    const scorer = new CaseScorer([X, Y, Z], {
      convention,
      spacing: truth.spacing as [number, number, number],
    });
    const empty = new Uint8Array(X * Y);
    try {
      for (let z = 0; z < Z; z++) {
        const t = await truth.slices.next();
        if (t.done) throw new InputError(truthPath, `ended after ${z} of ${Z} slices`);
        let p: ArrayLike<number> = empty;
        if (pred) {
          const r = await pred.slices.next();
          if (r.done) throw new InputError(predPath!, `ended after ${z} of ${Z} slices`);
          p = r.value;
        }
        scorer.addSlice(p, t.value);
      }
      return scorer.finish();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (pred && !(e instanceof InputError && e.path === truthPath) && !/^truth /.test(message)) {
        // The prediction was at fault: report it and score the case again as empty.
        problems.push(
          `${message.startsWith(predPath!) ? message : `${predPath}: ${message}`}; scored as empty`,
        );
        continue;
      }
      throw e instanceof InputError ? e : new InputError(truthPath, message.replace(/^truth /, ""));
    } finally {
      await truth.close();
      await pred?.close();
    }
  }
  throw new Error("unreachable");
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

function table(
  rows: { id: string; s: Omit<CaseScores, "confusion"> }[],
  labels: readonly number[],
): string {
  const head = [
    "case",
    "Dice WT",
    "TC",
    "ET",
    "Sens WT",
    "TC",
    "ET",
    "PPV WT",
    "TC",
    "ET",
    "HD95 WT",
    "TC",
    "ET",
  ]
    .concat(labels.map((l) => `IoU ${l}`), ["MeanIU"]);
  const body = rows.map(({ id, s }) =>
    [id]
      .concat(
        (["dice", "sensitivity", "ppv"] as const).flatMap((k) => REGIONS.map((r) => fmt(s[k][r]))),
      )
      .concat(REGIONS.map((r) => fmt(s.hd95[r], 1)))
      .concat(labels.map((l) => (String(l) in s.iou ? fmt(s.iou[l]) : "-")), [fmt(s.meanIoU)])
  );
  const all = [head, ...body];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) =>
    r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ")
  ).join("\n");
}

function toJson(
  convention: LabelConvention,
  rows: { id: string; s: CaseScores }[],
  summary: ScoreSummary,
) {
  const pick = (s: Omit<CaseScores, "confusion">) => ({
    dice: s.dice,
    sensitivity: s.sensitivity,
    ppv: s.ppv,
    hd95: s.hd95,
    iou: s.iou,
    meanIoU: s.meanIoU,
  });
  return {
    labels: convention,
    rule: EMPTY_REGION_RULE,
    cases: rows.map(({ id, s }) => ({ id, ...pick(s) })),
    mean: pick(summary.mean),
    pooled: summary.pooled,
  };
}

function toCsv(
  rows: { id: string; s: Omit<CaseScores, "confusion"> }[],
  labels: readonly number[],
): string {
  const head = ["id"]
    .concat(
      (["dice", "sensitivity", "ppv", "hd95"] as const).flatMap((k) =>
        REGIONS.map((r) => `${k}_${r}`)
      ),
    )
    .concat(labels.map((l) => `iou_${l}`), ["meanIoU"]);
  const lines = rows.map(({ id, s }) =>
    [id]
      .concat((["dice", "sensitivity", "ppv", "hd95"] as const).flatMap((k) =>
        REGIONS.map((r) => String(s[k][r]))
      ))
      .concat(labels.map((l) => (String(l) in s.iou ? String(s.iou[l]) : "")), [String(s.meanIoU)])
      .join(",")
  );
  return [head.join(","), ...lines].join("\n") + "\n";
}

/**
 * Runs the `eval` command; returns the exit code (1 when any prediction was
 * missing or bad, or any truth unreadable).
 *
 * @example
 * ```ts
 * const code = await run(["out/pred", "data/val", "--labels", "brats2017", "--json", "scores.json"]);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      labels: { type: "string", default: "brats2017" },
      json: { type: "string" },
      csv: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const exit = usageExit(USAGE, { help: values.help, positionals, min: 2 });
  if (exit !== null) return exit;
  const [predDir, truthDir] = positionals.map((p) => p.replace(/\/+$/, "") || "/");
  const info = labelConvention(values.labels);
  if (!(await Deno.stat(predDir).catch(() => undefined))?.isDirectory) {
    throw new InputError(predDir, "is not a folder");
  }
  const truths = await truthFiles(truthDir);
  if (truths.length === 0) {
    throw new InputError(truthDir, "holds no label volumes (<id>_seg, <id>-seg or <id>.nii.gz)");
  }
  const problems: string[] = [];
  const rows: { id: string; s: CaseScores }[] = [];
  for (const { id, path } of truths) {
    const predPath = await findPrediction(predDir, id);
    if (!predPath) problems.push(`${id}: no prediction in ${predDir}; scored as empty`);
    try {
      rows.push({ id, s: await scoreOne(predPath, path, info.name, problems) });
    } catch (e) {
      problems.push(`${e instanceof Error ? e.message : e}; case skipped`);
    }
  }
  const summary = summariseScores(rows.map((r) => r.s), { convention: info.name });
  const lines = table([...rows, { id: `mean (${rows.length})`, s: summary.mean }], info.labels);
  console.log(lines);
  console.log(
    `pooled IoU over all voxels: ${
      info.labels.map((l) => `${l}: ${fmt(summary.pooled.iou[l] ?? NaN)}`).join(", ")
    }; MeanIU ${fmt(summary.pooled.meanIoU)}`,
  );
  console.log(
    `labels: ${info.name}; HD95 in mm; IoU per label occurring in the case (incl. background 0)`,
  );
  console.log(`rule: ${EMPTY_REGION_RULE}`);
  for (const p of problems) console.error(p);
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify(toJson(info.name, rows, summary), null, 2) + "\n",
    );
  }
  if (values.csv) {
    await Deno.writeTextFile(
      values.csv,
      toCsv([...rows, { id: "mean", s: summary.mean }], info.labels),
    );
  }
  return problems.length || rows.length === 0 ? 1 : 0;
}
