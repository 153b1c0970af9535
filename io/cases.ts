/**
 * Cases on disk: folders walked and headers read for `data/`'s case logic,
 * and a case's paths opened as sources for the pipeline and training.
 *
 * @module
 */

import {
  type Case,
  casesFromListing,
  type Discovery,
  labelFilesFromListing,
} from "../data/cases.ts";
import { mhaGeometry, niftiGeometry, type VolumeGeometry } from "../data/volume_geometry.ts";
import { type FileSource, fileSource, listFiles } from "./files.ts";
import { readMhaHeader } from "./mha.ts";
import { readNiftiHeader } from "./nifti.ts";

/**
 * Reads a NIfTI or MetaImage file's geometry from its header alone.
 *
 * @throws {InputError} for an unreadable header.
 * @example
 * ```ts
 * import { readVolumeGeometry } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const path = `${await Deno.makeTempDir()}/x_flair.nii.gz`;
 * await writeNifti(path, new Uint8Array(24), { shape: [4, 3, 2], datatype: "uint8" });
 * const g = await readVolumeGeometry(path);
 * g.shape; // [4, 3, 2]
 * ```
 */
export async function readVolumeGeometry(path: string): Promise<VolumeGeometry> {
  if (/\.mh[ad]$/i.test(path)) return mhaGeometry(await readMhaHeader(path));
  return niftiGeometry(await readNiftiHeader(path));
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
 * import { discoverCases } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const root = await Deno.makeTempDir();
 * for (const m of ["flair", "t1", "t1ce", "t2", "seg"]) {
 *   await writeNifti(`${root}/x_${m}.nii.gz`, new Uint8Array(8), { shape: [2, 2, 2], datatype: "uint8" });
 * }
 * const { cases, problems } = await discoverCases(root);
 * console.log(cases[0].id, cases[0].label, problems.length); // "x", `${root}/x_seg.nii.gz`, 0
 * ```
 */
export async function discoverCases(
  root: string,
  options: { requireLabel?: boolean; checkGeometry?: boolean } = {},
): Promise<Discovery> {
  return await casesFromListing(await listFiles(root), {
    requireLabel: options.requireLabel,
    readGeometry: options.checkGeometry === false ? undefined : readVolumeGeometry,
  });
}

/**
 * Finds label volumes under `root`, recursively: `<id>_seg`, `<id>-seg`
 * (NIfTI) and BRATS-2015 `...OT...` MetaImage files, sorted by id.
 *
 * @throws {InputError} when `root` is not a folder.
 * @example
 * ```ts
 * import { findLabelFiles } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const truth = await Deno.makeTempDir();
 * await writeNifti(`${truth}/a_seg.nii.gz`, new Uint8Array(8), { shape: [2, 2, 2], datatype: "uint8" });
 * for (const { id, path } of await findLabelFiles(truth)) console.log(id, path); // "a", `${truth}/a_seg.nii.gz`
 * ```
 */
export async function findLabelFiles(root: string): Promise<{ id: string; path: string }[]> {
  return labelFilesFromListing(await listFiles(root));
}

/**
 * Opens every path of a record as a file source (e.g. a case's modalities).
 *
 * @throws {InputError} naming the first file that is missing or a directory.
 * @example
 * ```ts
 * import { fileSources } from "./cases.ts";
 * const sources = await fileSources({ model: "models/default.safetensors" });
 * console.log(sources.model.name, sources.model.size);
 * ```
 */
export async function fileSources<K extends string>(
  paths: Readonly<Record<K, string>>,
): Promise<Record<K, FileSource>> {
  const out = {} as Record<K, FileSource>;
  for (const key of Object.keys(paths) as K[]) out[key] = await fileSource(paths[key]);
  return out;
}

/**
 * A discovered case with its files opened as sources, for the pipeline's
 * and the trainer's readers (which take sources, not paths).
 *
 * @throws {InputError} naming a file that is missing or a directory.
 * @example
 * ```ts
 * import { caseSources, discoverCases } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const root = await Deno.makeTempDir();
 * for (const m of ["flair", "t1", "t1ce", "t2", "seg"]) {
 *   await writeNifti(`${root}/x_${m}.nii.gz`, new Uint8Array(8), { shape: [2, 2, 2], datatype: "uint8" });
 * }
 * const { cases } = await discoverCases(root, { requireLabel: true });
 * const opened = await Promise.all(cases.map(caseSources));
 * console.log(opened[0].modalities.flair.name, opened[0].label?.size);
 * ```
 */
export async function caseSources(c: Case): Promise<Case<FileSource>> {
  const { label, ...rest } = c;
  return {
    ...rest,
    modalities: await fileSources(c.modalities),
    ...(label !== undefined ? { label: await fileSource(label) } : {}),
  };
}
