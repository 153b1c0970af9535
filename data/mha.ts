// This module is browser compatible.
/**
 * MetaImage (`.mha` / `.mhd`) decoding on bytes, as used by BRATS-2015: raw
 * or zlib-compressed data either in the file (`LOCAL`) or in a separate
 * file, the common element types. The header is parsed by `mha_header.ts`,
 * whose names are re-exported here so this stays the one MetaImage import.
 *
 * @module
 */

import { unzlibSync } from "fflate";
import { ELEMENT_TYPES } from "./_mha_elements.ts";
import { InputError } from "./input_error.ts";
import { type MhaHeader, parseMhaHeader } from "./mha_header.ts";

export { type MhaHeader, mhaHeaderFromStream, parseMhaHeader } from "./mha_header.ts";

/** A whole MetaImage volume read into memory. */
export interface MhaVolume {
  /** The file read. */
  path: string;
  /** Its header. */
  header: MhaHeader;
  /** Same as `header.dims`. */
  shape: number[];
  /** Voxel values, x fastest. */
  data: Float32Array;
}

/** Largest voxel count accepted, so a bogus header cannot make us allocate gigabytes. */
const MAX_VOXELS = 2 ** 29;
/** zlib cannot shrink data by more than about 1032:1. */
const MAX_ZLIB_RATIO = 1100;

/** Options of {@linkcode decodeMha}. */
export interface DecodeMhaOptions {
  /** Names the file in error messages; a separate data file is named relative to it. */
  path?: string;
  /**
   * Reads the file that `ElementDataFile` names (relative to the header's
   * folder); needed only when the data is not `LOCAL`.
   */
  readDataFile?: (name: string) => Promise<Uint8Array>;
}

const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : ".");

/** The raw voxel bytes a header points at: after the header, or in its data file. */
async function rawData(
  bytes: Uint8Array,
  header: MhaHeader,
  expected: number,
  options: DecodeMhaOptions & { path: string },
): Promise<{ raw: Uint8Array; source: string }> {
  const path = options.path;
  if (header.elementDataFile === "LOCAL") {
    return { raw: bytes.subarray(header.dataOffset), source: path };
  }
  if (/^(LIST|.*%)/.test(header.elementDataFile)) {
    throw new InputError(
      path,
      `MetaImage ElementDataFile "${header.elementDataFile}" (file lists) is not supported`,
    );
  }
  const source = `${dirname(path)}/${header.elementDataFile}`;
  if (!options.readDataFile) {
    throw new InputError(source, "cannot read the MetaImage data file (no folder to read it from)");
  }
  let all: Uint8Array;
  try {
    all = await options.readDataFile(header.elementDataFile);
  } catch (error) {
    const problem = error instanceof InputError ? error.problem : (error as Error).message;
    throw new InputError(source, `cannot read the MetaImage data file (${problem})`, {
      cause: error,
    });
  }
  const skip = header.compressed
    ? 0
    : header.headerSize < 0
    ? all.length - expected
    : header.headerSize;
  return { raw: all.subarray(Math.max(0, skip)), source };
}

/**
 * Decodes a whole MetaImage volume (1 channel) from the header file's bytes
 * into a Float32Array, x fastest; a separate data file is read through
 * `readDataFile`.
 *
 * @throws {InputError} for a bad header, a missing data file, corrupt
 * compression or data shorter than the dimensions promise.
 * @example
 * ```ts
 * import { decodeMha } from "./mha.ts";
 * const text = "NDims = 3\nDimSize = 2 2 1\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n";
 * const bytes = new Uint8Array([...new TextEncoder().encode(text), 1, 2, 3, 4]);
 * const volume = await decodeMha(bytes, { path: "x.mha" });
 * console.log(volume.shape, volume.data); // [2, 2, 1] Float32Array [1, 2, 3, 4]
 * ```
 */
export async function decodeMha(
  bytes: Uint8Array,
  options: DecodeMhaOptions = {},
): Promise<MhaVolume> {
  const path = options.path ?? "<bytes>";
  const header = parseMhaHeader(bytes, path);
  if (header.channels !== 1) {
    throw new InputError(
      path,
      `MetaImage has ${header.channels} channels per voxel; only 1 is supported`,
    );
  }
  const voxels = header.dims.reduce((a, b) => a * b, 1);
  const type = ELEMENT_TYPES[header.elementType];
  const expected = voxels * type.bytes;
  let { raw, source } = await rawData(bytes, header, expected, { ...options, path });
  if (voxels > MAX_VOXELS || (header.compressed && expected > raw.length * MAX_ZLIB_RATIO)) {
    throw new InputError(
      source,
      `DimSize ${
        header.dims.join("×")
      } promises more voxels than the file's ${raw.length} bytes can hold`,
    );
  }
  if (header.compressed) {
    try {
      raw = unzlibSync(raw, { out: new Uint8Array(expected) });
    } catch (e) {
      throw new InputError(source, `corrupt zlib data: ${(e as Error).message}`);
    }
  }
  if (raw.length < expected) {
    throw new InputError(
      source,
      `data holds ${raw.length} bytes but DimSize ${header.dims.join("×")} needs ${expected}`,
    );
  }
  return { path, header, shape: header.dims, data: decode(raw, header, voxels) };
}

/** The voxel values as float32, x fastest (MET_UCHAR copied directly). */
function decode(raw: Uint8Array, header: MhaHeader, voxels: number): Float32Array {
  const out = new Float32Array(voxels);
  const le = !header.bigEndian;
  if (header.elementType === "MET_UCHAR") {
    out.set(raw.subarray(0, voxels));
    return out;
  }
  const type = ELEMENT_TYPES[header.elementType];
  const view = new DataView(raw.buffer, raw.byteOffset, voxels * type.bytes);
  for (let i = 0, o = 0; i < voxels; i++, o += type.bytes) out[i] = type.read(view, o, le);
  return out;
}
