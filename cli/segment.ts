/**
 * `deno task segment IN OUT [options]`: segments every case found under IN
 * into `OUT/<id>.nii.gz`, streaming each case slice by slice through the
 * network. Existing outputs are skipped (a rerun resumes), `--shard K/N`
 * splits a cohort between machines, a bad case is reported and skipped.
 *
 * @module
 */

import { loadModel } from "../io/checkpoint.ts";
import { trainedOnSynthetic } from "../model/checkpoint.ts";
import { DEFAULT_MODEL_URL } from "../model/default_model.ts";
import { pathKind } from "../io/files.ts";
import type { NetworkSliceModel } from "../model/network_slice_model.ts";
import type { InferenceOptions } from "../pipeline/segment_case.ts";
import { parseSegmentArgs } from "./_segment_args.ts";
import { segmentTasks } from "./_segment_loop.ts";
import { planLine, planSegmentation } from "./_segment_plan.ts";

/** The checkpoint used when `--model` is not given. */
export const DEFAULT_MODEL: string = decodeURIComponent(DEFAULT_MODEL_URL.pathname);

/** Loads `--model` or the default checkpoint, and says which and how it segments. */
async function openModel(
  path: string | undefined,
  inference: InferenceOptions,
): Promise<NetworkSliceModel> {
  const modelPath = path ?? DEFAULT_MODEL;
  if (!path && await pathKind(modelPath) === null) {
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
  if (trainedOnSynthetic(model.info)) {
    console.log(
      "note: this model was trained on synthetic phantoms: it is for trying the tool, not for " +
        "real scans (train one on your data: deno task train)",
    );
  }
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
  if (plan.found === 0) {
    console.error(
      `${input}: no cases found (four modality volumes each; see --help for the names)`,
    );
    return 1;
  }
  console.log(planLine(plan, input, shard));
  if (plan.swept.length) {
    console.log(
      `removed ${plan.swept.length} temporary file(s) left in ${output} by runs that died`,
    );
  }
  for (const f of plan.failures) console.error(`FAILED ${f}`);
  if (plan.todo.length === 0) {
    return finish({ done: 0, skipped: plan.skipped, interrupted: false }, plan.failures);
  }
  const model = await openModel(parsed.model, inference);
  try {
    const result = await segmentTasks(plan.todo, { model, inference, overwrite: parsed.overwrite });
    const skipped = plan.skipped + result.skipped;
    return finish({ ...result, skipped }, [...plan.failures, ...result.failures]);
  } finally {
    model.release();
  }
}
