/**
 * `deno task segment IN OUT [options]`: segments every case found under IN
 * into `OUT/<id>.nii.gz`, streaming each case slice by slice through the
 * network. Existing outputs are skipped (a rerun resumes), `--shard K/N`
 * splits a cohort between machines, a bad case is reported and skipped.
 *
 * @module
 */

import { loadModel } from "../io/checkpoint.ts";
import type { NetworkSliceModel } from "../model/network_slice_model.ts";
import type { InferenceOptions } from "../pipeline/segment_case.ts";
import { parseSegmentArgs } from "./_segment_args.ts";
import { segmentTasks } from "./_segment_loop.ts";
import { planLine, planSegmentation } from "./_segment_plan.ts";

/** The checkpoint used when `--model` is not given. */
export const DEFAULT_MODEL: string = decodeURIComponent(
  new URL("../models/default.safetensors", import.meta.url).pathname,
);

/** Loads `--model` or the default checkpoint, and says which and how it segments. */
async function openModel(
  path: string | undefined,
  inference: InferenceOptions,
): Promise<NetworkSliceModel> {
  const modelPath = path ?? DEFAULT_MODEL;
  if (!path && !(await Deno.lstat(modelPath).then(() => true, () => false))) {
    throw new Error(
      `No default model at ${modelPath}: train one (deno task train) or pass --model FILE`,
    );
  }
  const model = await loadModel(modelPath);
  const { encoder, fusion, sequence, widths } = model.info.config;
  const mode = inference.mode === "windowed"
    ? `windowed ${inference.window},${inference.overlap}`
    : `stateful, batch ${inference.batch ?? 4}`;
  console.log(
    `model ${modelPath}: ${encoder}/${fusion}/${sequence} widths ${widths.join("-")}, ` +
      `labels ${model.convention}; ${mode}${inference.tta ? ", mirror TTA" : ""}`,
  );
  return model;
}

/** The closing lines and the exit code. */
function finish(
  counts: { done: number; skipped: number; interrupted: boolean },
  failures: string[],
): number {
  const summary =
    `${counts.done} segmented, ${counts.skipped} skipped (output exists), ${failures.length} failed`;
  if (counts.interrupted) {
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

/**
 * Runs the `segment` command; returns the exit code (0 all written, 1 some
 * failed, 2 misuse, 130 interrupted).
 *
 * @example
 * ```ts
 * import { run } from "./segment.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseSegmentArgs(args);
  if (typeof parsed === "number") return parsed;
  const { input, output, shard, inference } = parsed;
  const plan = await planSegmentation(input, output, parsed);
  console.log(planLine(plan, input, shard));
  for (const f of plan.failures) console.error(`FAILED ${f}`);
  if (plan.todo.length === 0) {
    return finish({ done: 0, skipped: plan.skipped, interrupted: false }, plan.failures);
  }
  const model = await openModel(parsed.model, inference);
  try {
    const result = await segmentTasks(plan.todo, { model, inference });
    return finish({ ...result, skipped: plan.skipped }, [...plan.failures, ...result.failures]);
  } finally {
    model.release();
  }
}
