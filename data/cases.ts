// This module is browser compatible.
/**
 * Making BraTS cases from a listing of file paths: BraTS 2017-2021 and 2023
 * NIfTI names and the BRATS-2015 MetaImage layout. Cases with a missing
 * modality or disagreeing geometry are reported, not returned. The `io`
 * module lists folders and reads headers for it.
 *
 * @module
 */

import { InputError } from "./input_error.ts";
import type { VolumeGeometry } from "./volume_geometry.ts";

/** The four input modalities, in the program's channel order. */
export type Modality = "flair" | "t1" | "t1ce" | "t2";

/** Channel order used everywhere: FLAIR, T1, T1c, T2. */
export const MODALITIES: readonly Modality[] = ["flair", "t1", "t1ce", "t2"];

/**
 * One case: a volume per modality and, for training/evaluation, a label
 * volume. Discovery gives paths; `io`'s `caseSources` turns them into
 * sources the readers open (a browser builds those from `File`s).
 */
export interface Case<Volume = string> {
  /** Case identifier (the file-name prefix; for BRATS-2015 the case folder's name). */
  id: string;
  /** Folder holding the case's files (for BRATS-2015, the folder above the `VSD.*` folders). */
  dir: string;
  /** File format of the volumes. */
  format: "nifti" | "mha";
  /** Each modality's volume (its path, or a source). */
  modalities: Record<Modality, Volume>;
  /** The label volume, when there is one. */
  label?: Volume;
}

/** A file or folder that could not be made into a case, and why. */
export interface CaseProblem {
  /** The offending file or case folder. */
  path: string;
  /** What is wrong with it. */
  reason: string;
}

/** Result of {@linkcode casesFromListing} (and `io`'s `discoverCases`). */
export interface Discovery {
  /** Complete, consistent cases, sorted by id. */
  cases: Case[];
  /** Everything that was skipped, with the reason. */
  problems: CaseProblem[];
}

/** Role of one recognised volume file. */
export interface VolumeFileRole {
  /** Case id the name encodes (empty for BRATS-2015 files, whose id is their case folder). */
  id: string;
  /** Which volume it is. */
  role: Modality | "seg";
  /** Its format. */
  format: "nifti" | "mha";
}

const BRATS17 = /^(.+)_(flair|t1|t1ce|t2|seg)\.nii(\.gz)?$/i;
const BRATS23 = /^(.+)-(t2f|t1n|t1c|t2w|seg)\.nii(\.gz)?$/i;
const BRATS15 = /\.(?:MR_(Flair|T1c|T1|T2)|(OT))\.[^/]*\.mh[ad]$/i;
const ROLE23: Record<string, Modality | "seg"> = {
  t2f: "flair",
  t1n: "t1",
  t1c: "t1ce",
  t2w: "t2",
  seg: "seg",
};

/**
 * Recognises a BraTS volume file name: `<id>_flair.nii.gz` style (2017-21),
 * `<id>-t2f.nii.gz` style (2023) or `VSD.Brain.XX.O.MR_Flair.54512.mha`
 * (BRATS-2015). Returns undefined for other names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { volumeFileRole } from "./cases.ts";
 * assert.deepEqual(volumeFileRole("BraTS19_2013_2_1_t1ce.nii.gz"), {
 *   id: "BraTS19_2013_2_1",
 *   role: "t1ce",
 *   format: "nifti",
 * });
 * assert.equal(volumeFileRole("BraTS-GLI-00000-000-t2f.nii.gz")?.role, "flair");
 * assert.equal(volumeFileRole("VSD.Brain_3more.XX.O.OT.54517.mha")?.role, "seg");
 * assert.equal(volumeFileRole("notes.txt"), undefined);
 * ```
 */
export function volumeFileRole(name: string): VolumeFileRole | undefined {
  let m = BRATS17.exec(name);
  if (m) return { id: m[1], role: m[2].toLowerCase() as Modality | "seg", format: "nifti" };
  m = BRATS23.exec(name);
  if (m) return { id: m[1], role: ROLE23[m[2].toLowerCase()], format: "nifti" };
  m = BRATS15.exec(name);
  if (m) {
    const role = m[2] ? "seg" : ({ flair: "flair", t1: "t1", t1c: "t1ce", t2: "t2" } as const)[
      m[1].toLowerCase() as "flair" | "t1" | "t1c" | "t2"
    ];
    return { id: "", role, format: "mha" };
  }
  return undefined;
}

const dirname = (
  p: string,
) => (p.lastIndexOf("/") > 0 ? p.slice(0, p.lastIndexOf("/")) : p.startsWith("/") ? "/" : ".");
const basename = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** Options of {@linkcode casesFromListing}. */
export interface CasesFromListingOptions {
  /** Also report cases without a label volume. */
  requireLabel?: boolean;
  /** Reads a volume's geometry from its header; given, cases whose volumes disagree are reported. */
  readGeometry?: (path: string) => Promise<VolumeGeometry>;
}

/**
 * Makes cases from a listing of file paths (`/`-separated, as `io`'s
 * `listFiles` gives them). A case with a missing modality, two files for
 * one role, an unreadable header, or volumes that disagree in dims or
 * affine (with `readGeometry`) goes to `problems`; the rest are returned.
 *
 * @example
 * ```ts
 * import { casesFromListing } from "./cases.ts";
 * const files = ["d/a_flair.nii.gz", "d/a_t1.nii.gz", "d/a_t1ce.nii.gz", "d/a_t2.nii.gz"];
 * files.push("d/b_t1.nii");
 * const { cases, problems } = await casesFromListing(files);
 * console.log(cases[0].id, cases[0].modalities.t1ce); // a d/a_t1ce.nii.gz
 * console.log(problems[0].path, problems[0].reason); // d/b missing modality flair, t1ce, t2
 * ```
 */
export async function casesFromListing(
  files: readonly string[],
  options: CasesFromListingOptions = {},
): Promise<Discovery> {
  const groups = new Map<
    string,
    { id: string; dir: string; format: "nifti" | "mha"; files: Map<string, string[]> }
  >();
  for (const path of files) {
    const role = volumeFileRole(basename(path));
    if (!role) continue;
    let dir = dirname(path), id = role.id;
    if (role.format === "mha") {
      // BRATS-2015: each volume sits in its own VSD.* folder inside the case folder.
      if (/^VSD\./i.test(basename(dir))) dir = dirname(dir);
      id = basename(dir);
    }
    const key = `${role.format}\0${dir}\0${id}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { id, dir, format: role.format, files: new Map() });
    const list = g.files.get(role.role) ?? [];
    list.push(path);
    g.files.set(role.role, list);
  }
  const cases: Case[] = [];
  const problems: CaseProblem[] = [];
  for (const g of groups.values()) {
    const made = caseOf(g, options);
    if ("reason" in made) {
      problems.push(made);
      continue;
    }
    const problem = options.readGeometry && await geometryProblem(made, options.readGeometry);
    if (problem) problems.push(problem);
    else cases.push(made);
  }
  cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.dir < b.dir ? -1 : 1));
  problems.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { cases, problems };
}

/** One group of files as a case, or why it is not one. */
function caseOf(
  g: { id: string; dir: string; format: "nifti" | "mha"; files: Map<string, string[]> },
  options: CasesFromListingOptions,
): Case | CaseProblem {
  const where = g.format === "mha" ? g.dir : `${g.dir}/${g.id}`;
  const dup = [...g.files.entries()].find(([, list]) => list.length > 1);
  if (dup) {
    return {
      path: where,
      reason: `${dup[1].length} files for ${dup[0]}: ${dup[1].map(basename).join(", ")}`,
    };
  }
  const missing = MODALITIES.filter((m) => !g.files.has(m));
  if (missing.length) return { path: where, reason: `missing modality ${missing.join(", ")}` };
  const label = g.files.get("seg")?.[0];
  if (options.requireLabel && !label) {
    return { path: where, reason: "missing label volume (seg)" };
  }
  return {
    id: g.id,
    dir: g.dir,
    format: g.format,
    modalities: Object.fromEntries(MODALITIES.map((m) => [m, g.files.get(m)![0]])) as Record<
      Modality,
      string
    >,
    ...(label ? { label } : {}),
  };
}

async function geometryProblem(
  c: Case,
  readGeometry: (path: string) => Promise<VolumeGeometry>,
): Promise<CaseProblem | undefined> {
  const entries: [string, string][] = [
    ...MODALITIES.map((m) => [m, c.modalities[m]] as [string, string]),
  ];
  if (c.label) entries.push(["seg", c.label]);
  let ref: VolumeGeometry | undefined;
  for (const [role, path] of entries) {
    let g: VolumeGeometry;
    try {
      g = await readGeometry(path);
    } catch (e) {
      if (e instanceof InputError) return { path: e.path, reason: e.problem };
      return { path, reason: (e as Error).message };
    }
    const dims = (s: number[]) => s.join("×");
    if (g.shape.length > 3 && g.shape.slice(3).some((d) => d !== 1)) {
      return {
        path,
        reason: `${role} is ${g.shape.length}-D (${dims(g.shape)}); expected one 3-D volume`,
      };
    }
    if (!ref) {
      ref = g;
      continue;
    }
    if (dims(g.shape.slice(0, 3)) !== dims(ref.shape.slice(0, 3))) {
      return {
        path,
        reason: `${role} dims ${dims(g.shape.slice(0, 3))} differ from flair's ${
          dims(ref.shape.slice(0, 3))
        }`,
      };
    }
    const diff = Math.max(
      ...g.affine.flatMap((row, i) => row.map((x, j) => Math.abs(x - ref!.affine[i][j]))),
    );
    if (!(diff <= 1e-3 * Math.max(1, ...ref.affine.flat().map(Math.abs)))) {
      return {
        path,
        reason: `${role} affine differs from flair's (by up to ${diff.toPrecision(3)})`,
      };
    }
  }
  return undefined;
}

/**
 * Picks the label volumes out of a listing of file paths: `<id>_seg`,
 * `<id>-seg` (NIfTI) and BRATS-2015 `...OT...` MetaImage files, sorted by
 * id. For evaluation against a folder that holds only labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelFilesFromListing } from "./cases.ts";
 * assert.deepEqual(labelFilesFromListing(["t/b_seg.nii.gz", "t/a-seg.nii", "t/a_t1.nii"]), [
 *   { id: "a", path: "t/a-seg.nii" },
 *   { id: "b", path: "t/b_seg.nii.gz" },
 * ]);
 * ```
 */
export function labelFilesFromListing(files: readonly string[]): { id: string; path: string }[] {
  const out: { id: string; path: string }[] = [];
  for (const path of files) {
    const role = volumeFileRole(basename(path));
    if (role?.role !== "seg") continue;
    let id = role.id;
    if (role.format === "mha") {
      const dir = dirname(path);
      id = basename(/^VSD\./i.test(basename(dir)) ? dirname(dir) : dir);
    }
    out.push({ id, path });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
