// This module is browser compatible.
/**
 * MetaImage (`.mha` / `.mhd`) text headers on bytes: the fields, the
 * element type and layout of the data, and the voxel-to-world affine.
 *
 * @module
 */

import { ELEMENT_TYPES } from "./_mha_elements.ts";
import { InputError } from "./input_error.ts";
import { type ByteInput, headBytes } from "./source.ts";

/** The parsed text header of a MetaImage file. */
export interface MhaHeader {
  /** Image dimensions, x fastest. */
  dims: number[];
  /** Voxel spacing per axis (mm). */
  spacing: number[];
  /** World position of the first voxel (`Offset` / `Position` / `Origin`), LPS. */
  origin: number[];
  /** Direction cosines: `direction[i]` is the world direction of image axis `i`. */
  direction: number[][];
  /** The `ElementType`, e.g. `MET_SHORT`. */
  elementType: string;
  /** Channels per voxel (only 1 is readable). */
  channels: number;
  /** Whether the data is zlib-compressed. */
  compressed: boolean;
  /** Whether multi-byte values are big-endian. */
  bigEndian: boolean;
  /** `LOCAL` or the name of the data file, relative to the header. */
  elementDataFile: string;
  /** Bytes to skip in a separate data file (-1: the data is at its end). */
  headerSize: number;
  /** Byte offset where `LOCAL` data starts in the `.mha` file. */
  dataOffset: number;
  /**
   * Voxel (i,j,k) -> world (x,y,z) in RAS+ (NIfTI's convention, so it can be
   * compared with NIfTI headers), 4×4; MetaImage itself stores LPS.
   */
  affine: number[][];
  /** Every key of the header as written. */
  fields: Record<string, string>;
}

/** A MetaImage header ends within this many bytes. */
const HEADER_BYTES = 65536;

const isTrue = (v: string | undefined) => v !== undefined && /^(true|1)$/i.test(v.trim());

function numbers(path: string, key: string, value: string | undefined, n: number): number[] {
  if (value === undefined) throw new InputError(path, `MetaImage header lacks ${key}`);
  const parts = value.trim().split(/\s+/).map(Number);
  if (parts.length < n || parts.slice(0, n).some((x) => !Number.isFinite(x))) {
    throw new InputError(path, `MetaImage ${key} "${value}" is not ${n} numbers`);
  }
  return parts.slice(0, n);
}

/** The `key = value` lines up to `ElementDataFile`, and the offset just after them. */
function headerFields(
  bytes: Uint8Array,
  path: string,
): { fields: Record<string, string>; pos: number } {
  const fields: Record<string, string> = {};
  let pos = 0;
  let done = false;
  const decoder = new TextDecoder("latin1");
  while (pos < bytes.length && !done) {
    let end = bytes.indexOf(10, pos);
    if (end < 0) end = bytes.length;
    const line = decoder.decode(bytes.subarray(pos, end)).replace(/\r$/, "");
    pos = end + 1;
    const eq = line.indexOf("=");
    if (eq < 0) {
      if (line.trim() === "") continue;
      throw new InputError(path, `not a MetaImage header (line "${line.slice(0, 40)}")`);
    }
    const key = line.slice(0, eq).trim();
    fields[key] = line.slice(eq + 1).trim();
    if (key === "ElementDataFile") done = true;
    if (pos > HEADER_BYTES) break;
  }
  if (!done) throw new InputError(path, "MetaImage header has no ElementDataFile line");
  return { fields, pos };
}

/**
 * Parses a MetaImage text header from the start of a file's bytes. The
 * header ends at the `ElementDataFile` line; for `LOCAL` data the voxels
 * start right after it.
 *
 * @param path used in error messages only.
 * @throws {InputError} for a missing or malformed field.
 * @example
 * ```ts
 * import { parseMhaHeader } from "./mha_header.ts";
 * const text = "NDims = 3\nDimSize = 2 2 1\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n";
 * const h = parseMhaHeader(new TextEncoder().encode(text), "x.mha");
 * h.dims; // [2, 2, 1]
 * ```
 */
export function parseMhaHeader(bytes: Uint8Array, path: string): MhaHeader {
  const { fields, pos } = headerFields(bytes, path);
  const ndims = Number(fields.NDims);
  if (!Number.isInteger(ndims) || ndims < 1 || ndims > 4) {
    throw new InputError(path, `MetaImage NDims "${fields.NDims}" is not 1..4`);
  }
  const dims = numbers(path, "DimSize", fields.DimSize, ndims);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InputError(path, `MetaImage DimSize "${fields.DimSize}" is not positive integers`);
  }
  const spacingText = fields.ElementSpacing ?? fields.ElementSize;
  const spacing = spacingText
    ? numbers(path, "ElementSpacing", spacingText, ndims)
    : dims.map(() => 1);
  const originText = fields.Offset ?? fields.Position ?? fields.Origin;
  const origin = originText ? numbers(path, "Offset", originText, ndims) : dims.map(() => 0);
  const matrixText = fields.TransformMatrix ?? fields.Rotation ?? fields.Orientation;
  const flat = matrixText
    ? numbers(path, "TransformMatrix", matrixText, ndims * ndims)
    : dims.flatMap((_, i) => dims.map((_, j) => (i === j ? 1 : 0)));
  // Row i of TransformMatrix is the direction of image axis i (ITK's reading).
  const direction = dims.map((_, i) => flat.slice(i * ndims, i * ndims + ndims));
  const elementType = fields.ElementType ?? "";
  if (!ELEMENT_TYPES[elementType]) {
    throw new InputError(path, `MetaImage ElementType "${elementType}" is not supported`);
  }
  const channels = fields.ElementNumberOfChannels ? Number(fields.ElementNumberOfChannels) : 1;
  const msb = fields.ElementByteOrderMSB ?? fields.BinaryDataByteOrderMSB;
  const elementDataFile = fields.ElementDataFile;
  const headerSize = fields.HeaderSize ? Number(fields.HeaderSize) : 0;
  return {
    dims,
    spacing,
    origin,
    direction,
    elementType,
    channels,
    compressed: isTrue(fields.CompressedData),
    bigEndian: isTrue(msb),
    elementDataFile,
    headerSize: Number.isFinite(headerSize) ? headerSize : 0,
    dataOffset: pos,
    affine: rasAffine(spacing, origin, direction),
    fields,
  };
}

/**
 * Reads a MetaImage header from the start of any byte input (its first
 * few kilobytes; a stream is cancelled after them).
 *
 * @throws {InputError} naming `name` when it is not a readable MetaImage header.
 * @example
 * ```ts
 * import { mhaHeaderFromStream } from "./mha_header.ts";
 * const text = "NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\nElementDataFile = x.raw\n";
 * const header = await mhaHeaderFromStream(new Blob([text]), "x.mhd");
 * console.log(header.dims, header.elementDataFile); // [4, 3] "x.raw"
 * ```
 */
export async function mhaHeaderFromStream(input: ByteInput, name: string): Promise<MhaHeader> {
  return parseMhaHeader(await headBytes(input, HEADER_BYTES), name);
}

/** 4×4 voxel->RAS affine from LPS spacing/origin/direction (first two world axes negated). */
function rasAffine(spacing: number[], origin: number[], direction: number[][]): number[][] {
  const n = spacing.length;
  const a = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let w = 0; w < 3; w++) {
    const sign = w < 2 ? -1 : 1;
    for (let i = 0; i < 3; i++) {
      a[w][i] = i < n && w < n ? sign * direction[i][w] * spacing[i] : (i === w && i >= n ? 1 : 0);
    }
    a[w][3] = w < n ? sign * origin[w] : 0;
  }
  // `|| 0` turns the -0 of negated zeros into 0 so printed affines read cleanly.
  return a.map((row) => row.map((x) => x || 0));
}
