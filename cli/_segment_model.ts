// `segment`'s model: one checkpoint, a list or a folder of them (an ensemble), and the folder's postprocessing.

import {
  parsePostprocessing,
  type Postprocessing,
  POSTPROCESSING_FILE,
} from "../data/postprocess.ts";
import { checkpointPaths, loadModel } from "../io/checkpoint.ts";
import { pathKind, readBytes } from "../io/files.ts";
import { InputError } from "../data/input_error.ts";
import { FOLD_RECORD, readFoldRecord } from "./_fold_record.ts";
import { trainedOnSynthetic } from "../model/checkpoint.ts";
import { DEFAULT_MODEL_URL } from "../model/default_model.ts";
import { EnsembleSliceModel } from "../model/ensemble_slice_model.ts";
import type { NetworkSliceModel } from "../model/network_slice_model.ts";
import type { InferenceOptions } from "../pipeline/segment_case.ts";

/** The checkpoint used when `--model` is not given. */
export const DEFAULT_MODEL: string = decodeURIComponent(DEFAULT_MODEL_URL.pathname);

/** What `segment` runs: the model (one network or the ensemble) and how it was made. */
export interface SegmentModel {
  /** The network, or the average of several. */
  model: NetworkSliceModel | EnsembleSliceModel;
  /** The networks, one per checkpoint. */
  members: NetworkSliceModel[];
  /** The checkpoint files. */
  paths: string[];
  /** The postprocessing file of a `--model DIR`, when there is one. */
  postprocessing?: { path: string; settings: Postprocessing };
  /** Checkpoints of a folder's folds not finished (no `fold.json`), left out. */
  leftOut: string[];
}

/**
 * The checkpoints `spec` names, less those a folder holds in a `fold_K/`
 * without `fold.json` (a fold still training, or one that failed): `cv`
 * leaves such folds out, and so does the ensemble. A file named itself is
 * always taken.
 */
async function finishedCheckpoints(spec: string): Promise<{ paths: string[]; leftOut: string[] }> {
  const entries = spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return { paths: await checkpointPaths(spec), leftOut: [] };
  const paths: string[] = [], leftOut: string[] = [];
  for (const entry of entries) {
    const found = await checkpointPaths(entry);
    const dir = await pathKind(entry) === "folder" ? entry.replace(/\/+$/, "") : null;
    for (const path of found) {
      // Only the fold_K folders directly under a folder named: a folder named itself is taken.
      const fold = dir === null ? null : /^(fold_\d+)\/[^/]+$/.exec(path.slice(dir.length + 1));
      const record = fold ? `${dir}/${fold[1]}/${FOLD_RECORD}` : null;
      if (record && await pathKind(record) !== "file") leftOut.push(path);
      else {
        if (record) await readFoldRecord(record); // a bad record is an error, as in cv
        paths.push(path);
      }
    }
  }
  if (paths.length === 0) {
    throw new InputError(
      spec,
      `holds no finished fold: ${leftOut.length} checkpoint(s) in fold_K/ folders without ` +
        `${FOLD_RECORD} (still training, or failed)`,
    );
  }
  return { paths, leftOut };
}

/** The postprocessing file of the one folder `spec` names, if it has one. */
async function postprocessingOf(spec: string): Promise<SegmentModel["postprocessing"]> {
  const entries = spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length !== 1 || await pathKind(entries[0]) !== "folder") return undefined;
  const path = `${entries[0].replace(/\/+$/, "")}/${POSTPROCESSING_FILE}`;
  if (await pathKind(path) !== "file") return undefined;
  return {
    path,
    settings: parsePostprocessing(new TextDecoder().decode(await readBytes(path)), path),
  };
}

/** Loads every checkpoint, releasing those loaded when one fails. */
async function loadAll(paths: string[]): Promise<NetworkSliceModel[]> {
  const models: NetworkSliceModel[] = [];
  try {
    for (const path of paths) models.push(await loadModel(path));
    return models;
  } catch (error) {
    models.forEach((m) => m.release());
    throw error;
  }
}

/**
 * Opens `--model` (default: the shipped checkpoint): one file, or several
 * (`a,b`, or a folder's checkpoints) averaged as an ensemble, with the
 * folder's `postprocessing.json` when it has one.
 *
 * @throws {InputError} for a missing or bad checkpoint, or models that disagree.
 * @example
 * ```ts
 * import { openSegmentModel } from "./_segment_model.ts";
 * const { model, paths } = await openSegmentModel("models/default.safetensors,models/default.safetensors");
 * console.log(paths.length, model.classes); // 2 4
 * model.release();
 * ```
 */
export async function openSegmentModel(spec: string | undefined): Promise<SegmentModel> {
  if (spec === undefined && await pathKind(DEFAULT_MODEL) === null) {
    throw new Error(
      `No default model at ${DEFAULT_MODEL}: train one (deno task train) or pass --model FILE`,
    );
  }
  const { paths, leftOut } = spec === undefined
    ? { paths: [DEFAULT_MODEL], leftOut: [] }
    : await finishedCheckpoints(spec);
  const postprocessing = spec === undefined ? undefined : await postprocessingOf(spec);
  const members = await loadAll(paths);
  const opened = { members, paths, postprocessing, leftOut };
  if (members.length === 1) return { model: members[0], ...opened };
  try {
    return { model: new EnsembleSliceModel(members, paths), ...opened };
  } catch (error) {
    members.forEach((m) => m.release());
    throw error;
  }
}

/**
 * The lines `segment` prints about its model: which checkpoints, how they
 * segment, the postprocessing, and the synthetic-data note.
 *
 * @example
 * ```ts ignore
 * // Needs a GPU adapter.
 * import { modelLines, openSegmentModel } from "./_segment_model.ts";
 * const opened = await openSegmentModel(undefined);
 * console.log(modelLines(opened, { mode: "windowed", window: 3, overlap: 0 }).join("\n"));
 * opened.model.release();
 * ```
 */
export function modelLines(
  opened: SegmentModel,
  inference: InferenceOptions,
  flags: { minEnhancing?: number; largestComponent?: boolean } = {},
): string[] {
  const { model, members, paths } = opened;
  const mode = inference.mode === "windowed"
    ? `windowed ${inference.window},${inference.overlap}`
    : `stateful, batch ${inference.batch ?? 4}`;
  const how = `labels ${model.convention}; ${mode}${inference.tta ? ", mirror TTA" : ""}`;
  const lines: string[] = [];
  if (model instanceof EnsembleSliceModel) {
    lines.push(`ensemble of ${paths.length} models (probabilities averaged): ${how}`);
    for (const path of paths) lines.push(`  ${path}`);
  }
  for (const path of opened.leftOut) {
    lines.push(`left out: ${path} (its fold is not finished: no ${FOLD_RECORD})`);
  }
  if (!(model instanceof EnsembleSliceModel)) {
    const { encoder, fusion, sequence, widths } = members[0].info.config;
    lines.push(
      `model ${paths[0]}: ${encoder}/${fusion}/${sequence} widths ${widths.join("-")}, ${how}`,
    );
  }
  const post = [
    (inference.minEnhancing ?? 0) > 0
      ? `enhancing under ${inference.minEnhancing} voxels → core`
      : "",
    inference.largestComponent ? "largest tumour component only" : "",
  ].filter(Boolean);
  const file = opened.postprocessing?.path;
  const flagged = flags.minEnhancing !== undefined || flags.largestComponent !== undefined;
  const from = !file ? "" : flagged ? ` (${file}, under the flags given)` : ` (from ${file})`;
  if (post.length) lines.push(`postprocessing: ${post.join(", ")}${from}`);
  else if (file) lines.push(`postprocessing: none${from}`);
  if (members.some((m) => trainedOnSynthetic(m.info))) {
    lines.push(
      "note: this model was trained on synthetic phantoms: it is for trying the tool, not for " +
        "real scans (train one on your data: deno task train)",
    );
  }
  return lines;
}
