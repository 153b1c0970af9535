/**
 * Finds BraTS cases under a folder, recursively: BraTS 2017-2021 and 2023
 * NIfTI names and the BRATS-2015 MetaImage layout. Cases with a missing
 * modality or disagreeing geometry are reported, not returned.
 *
 * @module
 */

import { InputError } from "./input_error.ts";
import { readMhaHeader } from "./mha.ts";
import { readNiftiHeader } from "./nifti_reader.ts";

/** The four input modalities, in the program's channel order. */
export type Modality = "flair" | "t1" | "t1ce" | "t2";

/** Channel order used everywhere: FLAIR, T1, T1c, T2. */
export const MODALITIES: readonly Modality[] = ["flair", "t1", "t1ce", "t2"];

/** One case: a volume per modality and, for training/evaluation, a label volume. */
export interface Case {
  /** Case identifier (the file-name prefix; for BRATS-2015 the case folder's name). */
  id: string;
  /** Folder holding the case's files (for BRATS-2015, the folder above the `VSD.*` folders). */
  dir: string;
  /** File format of the volumes. */
  format: "nifti" | "mha";
  /** Path of each modality's volume. */
  modalities: Record<Modality, string>;
  /** Path of the label volume, when there is one. */
  label?: string;
}

/** A file or folder that could not be made into a case, and why. */
export interface CaseProblem {
  /** The offending file or case folder. */
  path: string;
  /** What is wrong with it. */
  reason: string;
}

/** Result of {@link discoverCases}. */
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
 * volumeFileRole("BraTS19_2013_2_1_t1ce.nii.gz"); // { id: "BraTS19_2013_2_1", role: "t1ce", format: "nifti" }
 * volumeFileRole("BraTS-GLI-00000-000-t2f.nii.gz"); // { id: "BraTS-GLI-00000-000", role: "flair", format: "nifti" }
 * volumeFileRole("VSD.Brain_3more.XX.O.OT.54517.mha"); // { id: "", role: "seg", format: "mha" }
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

/** Lists every file under `root`, recursively (hidden entries skipped), sorted. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const path = `${dir}/${e.name}`;
      let isDir = e.isDirectory, isFile = e.isFile;
      if (e.isSymlink) {
        const s = await Deno.stat(path).catch(() => undefined);
        isDir = !!s?.isDirectory;
        isFile = !!s?.isFile;
      }
      if (isDir) await visit(path);
      else if (isFile) out.push(path);
    }
  };
  await visit(root.replace(/\/+$/, "") || "/");
  return out;
}

async function rootOrThrow(root: string): Promise<void> {
  const s = await Deno.stat(root).catch(() => undefined);
  if (!s?.isDirectory) throw new InputError(root, "is not a folder");
}

/**
 * Discovers cases under `root`, recursively. A case with a missing modality,
 * two files for one role, an unreadable header, or volumes that disagree in
 * dims or affine (headers only are read) goes to `problems`; discovery goes
 * on with the rest.
 *
 * @param options.requireLabel also report cases without a label volume.
 * @param options.checkGeometry read headers and compare geometry (default true).
 * @throws {InputError} when `root` is not a folder.
 * @example
 * ```ts
 * const { cases, problems } = await discoverCases("data/BraTS2021");
 * for (const p of problems) console.error(`${p.path}: ${p.reason}`);
 * ```
 */
export async function discoverCases(
  root: string,
  options: { requireLabel?: boolean; checkGeometry?: boolean } = {},
): Promise<Discovery> {
  await rootOrThrow(root);
  const groups = new Map<
    string,
    { id: string; dir: string; format: "nifti" | "mha"; files: Map<string, string[]> }
  >();
  for (const path of await walk(root)) {
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
    const where = g.format === "mha" ? g.dir : `${g.dir}/${g.id}`;
    const dup = [...g.files.entries()].find(([, list]) => list.length > 1);
    if (dup) {
      problems.push({
        path: where,
        reason: `${dup[1].length} files for ${dup[0]}: ${dup[1].map(basename).join(", ")}`,
      });
      continue;
    }
    const missing = MODALITIES.filter((m) => !g.files.has(m));
    if (missing.length) {
      problems.push({ path: where, reason: `missing modality ${missing.join(", ")}` });
      continue;
    }
    const label = g.files.get("seg")?.[0];
    if (options.requireLabel && !label) {
      problems.push({ path: where, reason: "missing label volume (seg)" });
      continue;
    }
    const c: Case = {
      id: g.id,
      dir: g.dir,
      format: g.format,
      modalities: Object.fromEntries(MODALITIES.map((m) => [m, g.files.get(m)![0]])) as Record<
        Modality,
        string
      >,
      ...(label ? { label } : {}),
    };
    if (options.checkGeometry !== false) {
      const problem = await geometryProblem(c);
      if (problem) {
        problems.push(problem);
        continue;
      }
    }
    cases.push(c);
  }
  cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.dir < b.dir ? -1 : 1));
  problems.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { cases, problems };
}

/** Shape, voxel spacing and voxel->world affine of a volume file. */
export interface VolumeGeometry {
  /** Spatial dims (x, y, z). */
  shape: number[];
  /** Voxel size in mm per axis. */
  spacing: number[];
  /** 4×4 voxel->RAS affine. */
  affine: number[][];
}

/**
 * Reads a NIfTI or MetaImage file's geometry from its header alone.
 *
 * @throws {InputError} for an unreadable header.
 * @example
 * ```ts
 * const g = await readVolumeGeometry("case/x_flair.nii.gz");
 * g.shape; // [240, 240, 155]
 * ```
 */
export async function readVolumeGeometry(path: string): Promise<VolumeGeometry> {
  if (/\.mh[ad]$/i.test(path)) {
    const h = await readMhaHeader(path);
    const shape = [...h.dims, 1, 1].slice(0, Math.max(3, h.dims.length));
    return { shape, spacing: [...h.spacing, 1, 1].slice(0, 3), affine: h.affine };
  }
  const h = await readNiftiHeader(path);
  const n = h.dims[0];
  const shape = h.dims.slice(1, 1 + Math.max(3, n));
  return { shape, spacing: h.pixdim.slice(1, 4).map(Math.abs), affine: h.affine };
}

async function geometryProblem(c: Case): Promise<CaseProblem | undefined> {
  const entries: [string, string][] = [
    ...MODALITIES.map((m) => [m, c.modalities[m]] as [string, string]),
  ];
  if (c.label) entries.push(["seg", c.label]);
  let ref: VolumeGeometry | undefined;
  for (const [role, path] of entries) {
    let g: VolumeGeometry;
    try {
      g = await readVolumeGeometry(path);
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
 * Finds label volumes under `root`, recursively: `<id>_seg`, `<id>-seg`
 * (NIfTI) and BRATS-2015 `...OT...` MetaImage files. For evaluation against
 * a folder that holds only labels.
 *
 * @throws {InputError} when `root` is not a folder.
 * @example
 * ```ts
 * for (const { id, path } of await findLabelFiles("truth")) console.log(id, path);
 * ```
 */
export async function findLabelFiles(root: string): Promise<{ id: string; path: string }[]> {
  await rootOrThrow(root);
  const out: { id: string; path: string }[] = [];
  for (const path of await walk(root)) {
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
