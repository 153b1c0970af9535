/**
 * MetaImage files by path: the `data/` decoder given the file's bytes and,
 * for a separate `ElementDataFile`, the file beside it.
 *
 * @module
 */

import { decodeMha, type MhaHeader, mhaHeaderFromStream, type MhaVolume } from "../data/mha.ts";
import { openFile, readBytes } from "./files.ts";

/**
 * Reads only the header of a MetaImage file (its first few kilobytes).
 *
 * @throws {InputError} when the file is missing or not a readable MetaImage header.
 * @example
 * ```ts
 * import { readMhaHeader } from "./mha.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/VSD.Brain.XX.O.MR_Flair.54512.mha`;
 * const text = "NDims = 3\nDimSize = 2 2 1\nElementSpacing = 1 1 2\nElementType = MET_UCHAR\n" +
 *   "ElementDataFile = LOCAL\n";
 * await Deno.writeFile(path, new Uint8Array([...new TextEncoder().encode(text), 1, 2, 3, 4]));
 * const h = await readMhaHeader(path);
 * console.log(h.dims, h.spacing); // [2, 2, 1] [1, 1, 2]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readMhaHeader(path: string): Promise<MhaHeader> {
  const { stream } = await openFile(path);
  return await mhaHeaderFromStream(stream, path);
}

/**
 * Reads a whole MetaImage volume (1 channel) into a Float32Array, x fastest;
 * a separate data file is read from beside the header.
 *
 * @throws {InputError} for a bad header, a missing data file, corrupt
 * compression or data shorter than the dimensions promise.
 * @example
 * ```ts
 * import { readMha } from "./mha.ts";
 * const dir = await Deno.makeTempDir();
 * const text = "NDims = 3\nDimSize = 2 2 1\nElementType = MET_UCHAR\nElementDataFile = t1.raw\n";
 * await Deno.writeTextFile(`${dir}/t1.mhd`, text);
 * await Deno.writeFile(`${dir}/t1.raw`, new Uint8Array([1, 2, 3, 4]));
 * const vol = await readMha(`${dir}/t1.mhd`);
 * console.log(vol.shape, vol.data); // [2, 2, 1] Float32Array [1, 2, 3, 4]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readMha(path: string): Promise<MhaVolume> {
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  return await decodeMha(await readBytes(path), {
    path,
    readDataFile: (name) => readBytes(`${folder}/${name}`),
  });
}
