// This module is browser compatible.
/**
 * The files a user drops on the page sorted into one case: its four
 * modalities by the names the CLI recognises, its `_seg` file, a checkpoint,
 * and one line for whatever keeps it from being segmented.
 *
 * @module
 */

import { MODALITIES, type Modality, volumeFileRole } from "../data/cases.ts";

/** One case as dropped. */
export interface DroppedCase {
  /** The case id the names share ("" when no volume was recognised). */
  id: string;
  /** The modality files found. */
  modalities: Partial<Record<Modality, File>>;
  /** The case's label file, when one came along. */
  seg?: File;
  /** A `.safetensors` file to use instead of the built-in model. */
  checkpoint?: File;
  /** Names neither a volume of the case nor a checkpoint (ignored). */
  ignored: string[];
  /** Why the case cannot be segmented (one line), or undefined when it can. */
  problem?: string;
}

/**
 * Sorts dropped files into a case; `problem` says what is missing or clashing.
 *
 * @example
 * ```ts
 * import { sortDroppedFiles } from "./case_files.ts";
 * const names = ["c1_flair.nii.gz", "c1_t1.nii.gz", "c1_t1ce.nii.gz", "notes.txt"];
 * const dropped = sortDroppedFiles(names.map((n) => new File([], n)));
 * console.log(dropped.id, dropped.ignored, dropped.problem);
 * // "c1" ["notes.txt"] "c1: missing t2 (expected c1_t2.nii.gz)"
 * ```
 */
export function sortDroppedFiles(files: readonly File[]): DroppedCase {
  const out: DroppedCase = { id: "", modalities: {}, ignored: [] };
  const ids = new Set<string>();
  const clashes: string[] = [];
  let style: "_" | "-" = "_";
  for (const file of files) {
    const name = file.name;
    if (/\.safetensors$/i.test(name)) {
      if (out.checkpoint) clashes.push(`two checkpoints (${out.checkpoint.name}, ${name})`);
      out.checkpoint = file;
      continue;
    }
    const role = volumeFileRole(name);
    if (!role) {
      out.ignored.push(name);
      continue;
    }
    if (role.id) ids.add(role.id);
    if (/-(t2f|t1n|t1c|t2w|seg)\.nii/i.test(name)) style = "-";
    const held = role.role === "seg" ? out.seg : out.modalities[role.role];
    if (held) clashes.push(`two ${role.role} files (${held.name}, ${name})`);
    if (role.role === "seg") out.seg = file;
    else out.modalities[role.role] = file;
  }
  out.id = [...ids].sort()[0] ?? "";
  const missing = MODALITIES.filter((m) => !out.modalities[m]);
  if (ids.size > 1) {
    out.problem = `files of ${ids.size} cases (${
      [...ids].sort().join(", ")
    }): drop one case at a time`;
  } else if (clashes.length > 0) {
    out.problem = clashes.join("; ");
  } else if (missing.length === MODALITIES.length) {
    out.problem = "no modality file: expected names like <id>_flair.nii.gz, <id>_t1.nii.gz, " +
      "<id>_t1ce.nii.gz, <id>_t2.nii.gz";
  } else if (missing.length > 0) {
    const expected = missing.map((m) => expectedName(out.id, m, style)).join(", ");
    out.problem = `${out.id || "case"}: missing ${missing.join(", ")} (expected ${expected})`;
  }
  return out;
}

const STYLE23: Record<Modality, string> = { flair: "t2f", t1: "t1n", t1ce: "t1c", t2: "t2w" };

/** The file name a case's modality goes by in the naming style its other files use. */
function expectedName(id: string, m: Modality, style: "_" | "-"): string {
  return style === "-" ? `${id}-${STYLE23[m]}.nii.gz` : `${id || "<id>"}_${m}.nii.gz`;
}
