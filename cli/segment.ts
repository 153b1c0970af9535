/**
 * `deno task segment IN OUT [options]`: segments every case found under IN
 * into `OUT/<id>.nii.gz`, streaming each case slice by slice through the
 * network. Existing outputs are skipped (a rerun resumes), `--shard K/N`
 * splits a cohort between machines, a bad case is reported and skipped.
 *
 * @module
 */

import type { InferenceOptions } from "../pipeline/segment_case.ts";
import { parseSegmentArgs, type SegmentArgs } from "./_segment_args.ts";
import { segmentTasks } from "./_segment_loop.ts";
import { modelLines, openSegmentModel } from "./_segment_model.ts";
import { planLine, planSegmentation } from "./_segment_plan.ts";

export { DEFAULT_MODEL } from "./_segment_model.ts";

/** The inference options with the model folder's postprocessing (if used) under the flags given. */
function withPostprocessing(
  parsed: SegmentArgs,
  file: { minEnhancing?: number; largestComponent?: boolean } | undefined,
): InferenceOptions {
  const { inference } = parsed;
  const base = file ?? {};
  return {
    ...inference,
    minEnhancing: inference.minEnhancing ?? base.minEnhancing,
    largestComponent: inference.largestComponent ?? base.largestComponent,
  };
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
  const { input, output, shard } = parsed;
  const plan = await planSegmentation(input, output, {
    ...parsed,
    probabilities: parsed.saveProbabilities,
  });
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
  const found = await openSegmentModel(parsed.model);
  const { model } = found;
  // --no-postprocessing: the folder's file is neither applied nor named.
  const opened = parsed.noPostprocessing ? { ...found, postprocessing: undefined } : found;
  const inference = withPostprocessing(parsed, opened.postprocessing?.settings);
  for (const line of modelLines(opened, inference, parsed.inference)) console.log(line);
  try {
    const result = await segmentTasks(plan.todo, { model, inference, overwrite: parsed.overwrite });
    const skipped = plan.skipped + result.skipped;
    return finish({ ...result, skipped }, [...plan.failures, ...result.failures]);
  } finally {
    model.release();
  }
}
