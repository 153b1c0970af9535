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
import { readMha, readMhaHeader } from "./mha.ts";
import { readNifti, readNiftiHeader } from "./nifti.ts";

/**
 * Reads a NIfTI or MetaImage file's geometry from its header alone.
 *
 * @throws {InputError} for an unreadable header.
 * @example
 * ```ts
 * import { readVolumeGeometry } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * const options = { shape: [4, 3, 2], datatype: "uint8" } as const;
 * await writeNifti(`${dir}/x_flair.nii.gz`, new Uint8Array(24), options);
 * const g = await readVolumeGeometry(`${dir}/x_flair.nii.gz`);
 * console.log(g.shape, g.spacing); // [4, 3, 2] [1, 1, 1]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readVolumeGeometry(path: string): Promise<VolumeGeometry> {
  if (/\.mh[ad]$/i.test(path)) return mhaGeometry(await readMhaHeader(path));
  return niftiGeometry(await readNiftiHeader(path));
}

/**
 * Reads a whole NIfTI or MetaImage volume: its voxels and its geometry.
 *
 * @throws {InputError} for an unreadable or truncated file.
 * @example
 * ```ts
 * import { readVolume } from "./cases.ts";
 * import { writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * await writeNifti(`${dir}/x_seg.nii.gz`, new Uint8Array(24).fill(2), {
 *   shape: [4, 3, 2],
 *   datatype: "uint8",
 * });
 * const { data, geometry } = await readVolume(`${dir}/x_seg.nii.gz`);
 * console.log(data[0], geometry.shape); // 2 [4, 3, 2]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readVolume(
  path: string,
): Promise<{ data: Float32Array; geometry: VolumeGeometry }> {
  if (/\.mh[ad]$/i.test(path)) {
    const v = await readMha(path);
    return { data: v.data, geometry: mhaGeometry(v.header) };
  }
  const v = await readNifti(path);
  return { data: v.data, geometry: niftiGeometry(v.header) };
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
 * const options = { shape: [2, 2, 2], datatype: "uint8" } as const;
 * for (const m of ["flair", "t1", "t1ce", "t2", "seg"]) {
 *   await writeNifti(`${root}/x_${m}.nii.gz`, new Uint8Array(8), options);
 * }
 * const { cases, problems } = await discoverCases(root);
 * console.log(cases.length, cases[0].id, problems.length); // 1 "x" 0
 * console.log(cases[0].label === `${root}/x_seg.nii.gz`); // true
 * await Deno.remove(root, { recursive: true });
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
 * const options = { shape: [2, 2, 2], datatype: "uint8" } as const;
 * await writeNifti(`${truth}/a_seg.nii.gz`, new Uint8Array(8), options);
 * for (const { id, path } of await findLabelFiles(truth)) {
 *   console.log(id, path.slice(truth.length)); // "a" "/a_seg.nii.gz"
 * }
 * await Deno.remove(truth, { recursive: true });
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
 * console.log(sources.model.name, sources.model.size); // "models/default.safetensors", its bytes
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
 * const options = { shape: [2, 2, 2], datatype: "uint8" } as const;
 * for (const m of ["flair", "t1", "t1ce", "t2", "seg"]) {
 *   await writeNifti(`${root}/x_${m}.nii.gz`, new Uint8Array(8), options);
 * }
 * const { cases } = await discoverCases(root, { requireLabel: true });
 * const [opened] = await Promise.all(cases.map(caseSources));
 * const bytes = new Uint8Array(await new Response(opened.modalities.flair.stream()).arrayBuffer());
 * console.log(opened.id, bytes.length === opened.modalities.flair.size); // "x" true
 * await Deno.remove(root, { recursive: true });
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
