/**
 * `deno task segment IN OUT [options]`: segments every case found under IN
 * into `OUT/<id>.nii.gz`, streaming each case slice by slice through the
 * network. Existing outputs are skipped (a rerun resumes), `--shard K/N`
 * splits a cohort between machines, a bad case is reported and skipped.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import type { Case } from "../data/cases.ts";
import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { discoverCases, readVolumeGeometry } from "../io/cases.ts";
import { loadModel } from "../io/checkpoint.ts";
import { segmentCase } from "../io/segment.ts";
import { DEFAULT_INFERENCE, type InferenceOptions, windowing } from "../pipeline/segment_case.ts";
import { Progress } from "./_progress.ts";

/** The checkpoint used when `--model` is not given. */
export const DEFAULT_MODEL: string = decodeURIComponent(
  new URL("../models/default.safetensors", import.meta.url).pathname,
);

const USAGE = `usage: deno task segment IN OUT [options]

Segments every case under IN (BraTS NIfTI or BRATS-2015 MetaImage folders, searched
recursively) into OUT/<id>.nii.gz: uint8 labels with the FLAIR's dims and affine.
  --model FILE         checkpoint (default models/default.safetensors)
  --tta                mirror test-time augmentation (4 passes: identity, x, y, xy flips)
  --window T[,O]       windowed inference: windows of T slices overlapping by O (default 0
                       for T = 3, else T/2), each from a fresh convLSTM state, overlapping
                       probabilities averaged. Default: --window 3,0 (scored best on held-out phantoms)
  --stateful           stateful inference instead: the convLSTM state runs through the
                       whole depth (excludes --window)
  --batch B            stateful mode: slices per GPU batch (default 4)
  --min-enhancing N    if fewer than N voxels are predicted enhancing, relabel them as core
  --labels NAME        write labels in this convention (default: the checkpoint's)
  --shard K/N          only cases K, K+N, K+2N, ... (0 <= K < N, in sorted order), for
                       spreading a cohort over N machines (e.g. a job array index)
  --overwrite          redo cases whose output exists (default: skip them, so reruns resume)

Exit code 0 when every case succeeded, 1 when any failed, 130 when interrupted.`;

/** Parses `K/N`. */
function parseShard(text: string | undefined): { k: number; n: number } {
  if (text === undefined) return { k: 0, n: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && k >= 0 && k < n)) {
    throw new RangeError(`--shard "${text}" must be K/N with 0 <= K < N, e.g. 0/4`);
  }
  return { k, n };
}

function parseCount(text: string | undefined, name: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`--${name} "${text}" must be an integer >= ${min}`);
  }
  return v;
}

/** Parses `T[,O]` into windowed-mode options. */
function parseWindow(text: string | undefined, stateful: boolean): InferenceOptions {
  if (stateful && text !== undefined) {
    throw new RangeError("--stateful and --window exclude each other");
  }
  if (stateful) return { mode: "stateful" };
  if (text === undefined) return { ...DEFAULT_INFERENCE };
  const parts = text.split(",");
  const window = Number(parts[0]);
  const overlap = parts.length > 1 ? Number(parts[1]) : windowing({ window }).overlap;
  if (
    parts.length > 2 || !Number.isInteger(window) || window < 1 || !Number.isInteger(overlap) ||
    overlap < 0 || overlap >= window
  ) {
    throw new RangeError(`--window "${text}" must be T or T,O with T >= 1 and 0 <= O < T`);
  }
  return { mode: "windowed", window, overlap };
}

interface Job {
  id: string;
  path: string;
  kase?: Case;
  problem?: string;
}

/** Cases and discovery problems in one sorted list, so shards split both. */
function jobsOf(cases: Case[], problems: { path: string; reason: string }[]): Job[] {
  const jobs: Job[] = [
    ...cases.map((kase) => ({ id: kase.id, path: kase.dir, kase })),
    ...problems.map((p) => ({
      id: p.path.slice(p.path.lastIndexOf("/") + 1),
      path: p.path,
      problem: p.reason,
    })),
  ];
  return jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.path < b.path ? -1 : 1));
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/**
 * Runs the `segment` command; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await run(["data/val", "out/pred", "--tta", "--shard", "0/4"]);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      tta: { type: "boolean", default: false },
      window: { type: "string" },
      stateful: { type: "boolean", default: false },
      batch: { type: "string" },
      "min-enhancing": { type: "string" },
      labels: { type: "string" },
      shard: { type: "string" },
      overwrite: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const exit = usageExit(USAGE, { help: values.help, positionals, min: 2 });
  if (exit !== null) return exit;
  const [input, output] = positionals.map((p) => p.replace(/\/+$/, "") || "/");
  const shard = parseShard(values.shard);
  const inference: InferenceOptions = {
    ...parseWindow(values.window, values.stateful),
    batch: parseCount(values.batch, "batch", 1),
    tta: values.tta,
    minEnhancing: parseCount(values["min-enhancing"], "min-enhancing", 0),
    labels: values.labels === undefined
      ? undefined
      : labelConvention(values.labels).name as LabelConvention,
  };

  const { cases, problems } = await discoverCases(input);
  const jobs = jobsOf(cases, problems).filter((_, i) => i % shard.n === shard.k);
  await Deno.mkdir(output, { recursive: true });
  const failures: string[] = [];
  const todo: { job: Job; out: string; slices: number }[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (const job of jobs) {
    if (job.problem) {
      failures.push(`${job.path}: ${job.problem}`);
      continue;
    }
    const out = `${output}/${job.id}.nii.gz`;
    if (seen.has(out)) {
      failures.push(`${job.path}: another case with id ${job.id} is written to ${out}`);
      continue;
    }
    seen.add(out);
    if (!values.overwrite && await exists(out)) {
      skipped++;
      continue;
    }
    const slices = await readVolumeGeometry(job.kase!.modalities.flair).then(
      (g) => g.shape[2],
      () => 0,
    );
    todo.push({ job, out, slices });
  }
  const shardNote = shard.n > 1 ? ` (shard ${shard.k}/${shard.n})` : "";
  console.log(
    `${jobs.length} case${
      jobs.length === 1 ? "" : "s"
    } under ${input}${shardNote}: ${todo.length} to segment, ` +
      `${skipped} already done${failures.length ? `, ${failures.length} unusable` : ""}`,
  );
  for (const f of failures) console.error(`FAILED ${f}`);

  let done = 0;
  let interrupted = false;
  if (todo.length > 0) {
    const modelPath = values.model ?? DEFAULT_MODEL;
    if (!values.model && !(await exists(modelPath))) {
      throw new Error(
        `No default model at ${modelPath}: train one (deno task train) or pass --model FILE`,
      );
    }
    const model = await loadModel(modelPath);
    const mode = inference.mode === "windowed"
      ? `windowed ${inference.window},${inference.overlap}`
      : `stateful, batch ${inference.batch ?? 4}`;
    console.log(
      `model ${modelPath}: ${model.info.config.encoder}/${model.info.config.fusion}/${model.info.config.sequence} ` +
        `widths ${model.info.config.widths.join("-")}, labels ${model.convention}; ${mode}` +
        `${inference.tta ? ", mirror TTA" : ""}`,
    );
    const controller = new AbortController();
    const stop = () => {
      if (controller.signal.aborted) Deno.exit(130); // a second Ctrl-C: leave at once
      interrupted = true;
      controller.abort();
    };
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, stop);
    const progress = new Progress(todo.reduce((n, t) => n + t.slices, 0));
    try {
      for (const [i, { job, out, slices }] of todo.entries()) {
        if (controller.signal.aborted) break;
        progress.label(`[${i + 1}/${todo.length}] ${job.id}`);
        let written = 0;
        try {
          const result = await segmentCase(job.kase!, out, {
            ...inference,
            model,
            signal: controller.signal,
            onSlice: (n) => {
              // Without a drawn bar, logs (and tests that interrupt mid-case) see output begin.
              if (written === 0 && !progress.tty) {
                progress.log(`[${i + 1}/${todo.length}] ${job.id}: writing ${slices} slices`);
              }
              progress.advance(n - written);
              written = n;
            },
          });
          done++;
          const z = result.shape[2];
          progress.log(
            `[${i + 1}/${todo.length}] ${job.id}: ${z} slices in ${result.seconds.toFixed(1)} s ` +
              `(${(z / result.seconds).toFixed(1)} slices/s)${
                result.relabelled ? ", small enhancing relabelled as core" : ""
              }`,
          );
        } catch (error) {
          progress.shrink(slices - written);
          if (controller.signal.aborted) break;
          const message = error instanceof Error ? error.message : String(error);
          const line = message.includes(job.path) || message.includes(job.id)
            ? message
            : `${job.id}: ${message}`;
          failures.push(line);
          progress.error(`FAILED ${line}`);
        }
      }
    } finally {
      progress.done();
      for (const s of signals) Deno.removeSignalListener(s, stop);
      model.release();
    }
    if (done > 0) {
      console.log(`${done} segmented at ${progress.rate.toFixed(1)} slices/s overall`);
    }
  }
  const summary =
    `${done} segmented, ${skipped} skipped (output exists), ${failures.length} failed`;
  if (interrupted) {
    console.error(`Interrupted: ${summary}; no partial output was left. Rerun to resume.`);
    return 130;
  }
  console.log(`Summary: ${summary}.`);
  if (failures.length) {
    console.error(`Failed cases:\n${failures.map((f) => `  ${f}`).join("\n")}`);
    return 1;
  }
  return 0;
}
