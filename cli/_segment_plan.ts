// Which cases `segment` works on: discovery, this shard's share, outputs that exist, slice counts.

import type { Case, CaseProblem } from "../data/cases.ts";
import { discoverCases, readVolumeGeometry } from "../io/cases.ts";
import { makeDir, pathKind } from "../io/files.ts";
import { sweepStaleTemps } from "../io/temp_files.ts";
import type { Shard } from "./_segment_args.ts";

/** A discovered case, or a discovery problem (so that shards split both). */
interface Job {
  id: string;
  path: string;
  kase?: Case;
  problem?: string;
}

/** A case to segment. */
export interface Task {
  /** The case's id. */
  id: string;
  /** Its folder (error lines that name it are printed as they are). */
  path: string;
  /** The case. */
  kase: Case;
  /** Where its labels go. */
  out: string;
  /** Where its class probabilities go, when they are asked for. */
  probabilities?: string;
  /** Its depth in slices (0 when its header is unreadable: the case then fails). */
  slices: number;
}

/** What a `segment` run will do. */
export interface SegmentPlan {
  /** Cases (and problems) under the input, all shards. */
  found: number;
  /** Cases (and problems) in this shard. */
  jobs: number;
  /** Temporary files of dead runs removed from the output folder. */
  swept: string[];
  /** The cases to segment, in order. */
  todo: Task[];
  /** Cases skipped because their output exists. */
  skipped: number;
  /** One line per unusable case. */
  failures: string[];
}

/** Cases and discovery problems in one sorted list, so shards split both. */
function jobsOf(cases: Case[], problems: CaseProblem[]): Job[] {
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

/**
 * Discovers the cases under `input`, keeps this shard's, makes `output` and
 * sorts them into work, skipped (output exists) and unusable.
 *
 * @example
 * ```ts
 * import { planSegmentation } from "./_segment_plan.ts";
 * const dir = await Deno.makeTempDir();
 * const plan = await planSegmentation(dir, `${dir}/pred`, { shard: { k: 0, n: 1 }, overwrite: false });
 * console.log(plan.found, plan.todo.length); // 0 0
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function planSegmentation(
  input: string,
  output: string,
  options: { shard: Shard; overwrite: boolean; probabilities?: boolean },
): Promise<SegmentPlan> {
  const { shard } = options;
  const { cases, problems } = await discoverCases(input);
  const all = jobsOf(cases, problems);
  const jobs = all.filter((_, i) => i % shard.n === shard.k);
  const plan: SegmentPlan = {
    found: all.length,
    jobs: jobs.length,
    swept: [],
    todo: [],
    skipped: 0,
    failures: [],
  };
  if (all.length === 0) return plan; // no OUT made for a wrong IN
  await makeDir(output);
  plan.swept = await sweepStaleTemps(output);
  const seen = new Set<string>();
  for (const { id, path, kase, problem } of jobs) {
    if (problem || !kase) {
      plan.failures.push(`${path}: ${problem}`);
      continue;
    }
    const out = `${output}/${id}.nii.gz`;
    if (seen.has(out)) {
      plan.failures.push(`${path}: another case with id ${id} is written to ${out}`);
      continue;
    }
    seen.add(out);
    const probabilities = options.probabilities
      ? `${output}/${id}_probabilities.nii.gz`
      : undefined;
    if (!options.overwrite && await outputsExist({ out, probabilities })) {
      plan.skipped++;
      continue;
    }
    plan.todo.push(await taskFor(kase, { out, probabilities }));
  }
  return plan;
}

/**
 * The task of segmenting `kase` into `files` (its depth read from the FLAIR's header).
 *
 * @example
 * ```ts
 * import { taskFor } from "./_segment_plan.ts";
 * const m = (name: string) => `in/x/x_${name}.nii.gz`;
 * const kase = {
 *   id: "x", dir: "in/x", format: "nifti" as const,
 *   modalities: { flair: m("flair"), t1: m("t1"), t1ce: m("t1ce"), t2: m("t2") },
 * };
 * const task = await taskFor(kase, { out: "pred/x.nii.gz" });
 * console.log(task.out, task.slices); // "pred/x.nii.gz" 0: no such FLAIR (the case fails when segmented)
 * ```
 */
export async function taskFor(
  kase: Case,
  files: { out: string; probabilities?: string },
): Promise<Task> {
  const slices = await readVolumeGeometry(kase.modalities.flair).then((g) => g.shape[2], () => 0);
  return { id: kase.id, path: kase.dir, kase, ...files, slices };
}

/**
 * Whether a task's outputs are all there (labels, and probabilities when asked for).
 *
 * @example
 * ```ts
 * import { outputsExist } from "./_segment_plan.ts";
 * console.log(await outputsExist({ out: "no/such/file.nii.gz" })); // false
 * ```
 */
export async function outputsExist(
  files: { out: string; probabilities?: string },
): Promise<boolean> {
  for (const path of [files.out, files.probabilities]) {
    if (path !== undefined && await pathKind(path) === null) return false;
  }
  return true;
}

/**
 * The plan's first line, e.g. `3 cases under in: 2 to segment, 1 already done`.
 *
 * @example
 * ```ts
 * import { planLine } from "./_segment_plan.ts";
 * const plan = { found: 1, jobs: 1, swept: [], todo: [], skipped: 1, failures: [] };
 * console.log(planLine(plan, "in", { k: 0, n: 1 })); // "1 case under in: 0 to segment, 1 already done"
 * ```
 */
export function planLine(plan: SegmentPlan, input: string, shard: Shard): string {
  const shardNote = shard.n > 1 ? ` (shard ${shard.k}/${shard.n})` : "";
  const unusable = plan.failures.length ? `, ${plan.failures.length} unusable` : "";
  return `${plan.jobs} case${plan.jobs === 1 ? "" : "s"} under ${input}${shardNote}: ` +
    `${plan.todo.length} to segment, ${plan.skipped} already done${unusable}`;
}
