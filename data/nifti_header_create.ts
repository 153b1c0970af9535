// This module is browser compatible.
/**
 * Building NIfTI headers for new volumes (little-endian, no scaling, the
 * geometry of a reference volume or a given affine) and serialising headers to
 * the bytes that start a file. Browser-safe: works on bytes, never on files.
 *
 * @module
 */

import { datatypeByName } from "./_datatypes.ts";
import type { AffineFields } from "./_nifti_affine.ts";
import {
  NIFTI1_FIELDS,
  NIFTI2_EOL_CHECK,
  NIFTI2_FIELDS,
  type RawHeader,
  writeFields,
} from "./_header_layout.ts";
import {
  minimumDataOffset,
  type NiftiDatatypeName,
  type NiftiHeader,
  parseNiftiHeader,
} from "./nifti_header.ts";

/**
 * Serialises a header as stored bytes plus a zero 4-byte extender (so the
 * result is exactly `minimumDataOffset(version)` bytes). Strings are cut to
 * their field size.
 *
 * @example
 * ```ts
 * import { createNiftiHeader, serializeNiftiHeader } from "./nifti_header_create.ts";
 * import { parseNiftiHeader } from "./nifti_header.ts";
 * const bytes = serializeNiftiHeader(createNiftiHeader({ shape: [4, 4, 2], datatype: "uint8" }));
 * console.log(bytes.length, parseNiftiHeader(bytes).datatypeName); // 352 "uint8"
 * ```
 */
export function serializeNiftiHeader(
  header: NiftiHeader,
  options: { littleEndian?: boolean } = {},
): Uint8Array {
  const littleEndian = options.littleEndian ?? header.littleEndian;
  const size = header.version === 1 ? 348 : 540;
  const bytes = new Uint8Array(minimumDataOffset(header.version));
  const raw: RawHeader = {
    ...header,
    sizeofHdr: size,
    magic: header.version === 1 ? "n+1" : "n+2",
  };
  writeFields(bytes, header.version === 1 ? NIFTI1_FIELDS : NIFTI2_FIELDS, raw, littleEndian);
  if (header.version === 1) bytes.set([114], 38); // regular = 'r', as nibabel and FSL write
  else bytes.set(NIFTI2_EOL_CHECK, 8);
  return bytes;
}

/** Options of `createNiftiHeader`. */
export interface CreateNiftiHeaderOptions {
  /** Array shape, x fastest: [nx, ny, nz] or [nx, ny, nz, nt]. */
  shape: readonly number[];
  /** Stored datatype. */
  datatype: NiftiDatatypeName;
  /** Copy pixdim, units, qform, sform (hence the affine) and descrip from this header. */
  reference?: NiftiHeader;
  /** Without a reference: the sform (code 2, "aligned"); default identity. */
  affine?: number[][];
  /** 1 or 2; default the reference's version, or 1 (2 if a dim exceeds 32767). */
  version?: 1 | 2;
}

/**
 * Builds a little-endian header for writing a new volume with the geometry of
 * a reference volume. No scaling (slope 1, intercept 0); data at the first
 * byte after the header.
 *
 * @example
 * ```ts
 * import { createNiftiHeader } from "./nifti_header_create.ts";
 * import { niftiShape } from "./nifti_header.ts";
 * const affine = [[-1, 0, 0, 239], [0, -1, 0, 239], [0, 0, 1, 0], [0, 0, 0, 1]];
 * // A FLAIR's header (here made; usually read from its file):
 * const flair = createNiftiHeader({ shape: [240, 240, 155], datatype: "int16", affine });
 * const labels = createNiftiHeader({
 *   shape: niftiShape(flair),
 *   datatype: "uint8",
 *   reference: flair,
 * });
 * console.log(labels.datatypeName, labels.affine[0]); // "uint8" [-1, 0, 0, 239]
 * ```
 */
export function createNiftiHeader(options: CreateNiftiHeaderOptions): NiftiHeader {
  const { shape, reference } = options;
  const type = datatypeByName(options.datatype);
  if (!type) throw new TypeError(`Cannot write datatype "${options.datatype}"`);
  if (
    shape.length < 1 || shape.length > 7 || shape.some((d) => !Number.isSafeInteger(d) || d < 1)
  ) {
    throw new RangeError(`Cannot write shape [${shape}]: need 1 to 7 positive integer dims`);
  }
  const needsV2 = shape.some((d) => d > 32767);
  const version = options.version ?? (needsV2 ? 2 : reference?.version ?? 1);
  if (version === 1 && needsV2) throw new RangeError(`Shape [${shape}] needs NIfTI-2`);
  const dims = [shape.length, ...shape, ...Array(7 - shape.length).fill(1)];
  const affine = options.affine ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  const geometry = geometryOf(reference, affine);
  const header: NiftiHeader = {
    version,
    littleEndian: true,
    sizeofHdr: version === 1 ? 348 : 540,
    magic: version === 1 ? "n+1" : "n+2",
    dimInfo: 0,
    dims,
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentCode: 0,
    datatype: type.code,
    datatypeName: type.name,
    bitpix: type.bytes * 8,
    sliceStart: 0,
    voxOffset: minimumDataOffset(version),
    sclSlope: 1,
    sclInter: 0,
    sliceEnd: 0,
    sliceCode: 0,
    calMax: 0,
    calMin: 0,
    sliceDuration: 0,
    toffset: 0,
    auxFile: "",
    intentName: "",
    hasExtensions: false,
    affine: [],
    ...geometry,
  };
  // Round-trip through the stored precision so the affine is what a reader of the file computes.
  return parseNiftiHeader(serializeNiftiHeader(header), { path: "<new header>" });
}

/** The header fields that place a volume in space (those the affine reads, bar dims), and its description. */
type Geometry = Pick<NiftiHeader, Exclude<keyof AffineFields, "dims"> | "xyztUnits" | "descrip">;

/** Geometry copied from `reference`, or else an aligned sform from `affine` (zooms from its columns). */
function geometryOf(reference: NiftiHeader | undefined, affine: number[][]): Geometry {
  const zooms = [0, 1, 2].map((j) => Math.hypot(affine[0][j], affine[1][j], affine[2][j]));
  return reference
    ? {
      pixdim: [...reference.pixdim],
      xyztUnits: reference.xyztUnits,
      qformCode: reference.qformCode,
      sformCode: reference.sformCode,
      quaternB: reference.quaternB,
      quaternC: reference.quaternC,
      quaternD: reference.quaternD,
      qoffsetX: reference.qoffsetX,
      qoffsetY: reference.qoffsetY,
      qoffsetZ: reference.qoffsetZ,
      srowX: [...reference.srowX],
      srowY: [...reference.srowY],
      srowZ: [...reference.srowZ],
      descrip: reference.descrip,
    }
    : {
      pixdim: [1, zooms[0] || 1, zooms[1] || 1, zooms[2] || 1, 1, 1, 1, 1],
      xyztUnits: 10,
      qformCode: 0,
      sformCode: 2,
      quaternB: 0,
      quaternC: 0,
      quaternD: 0,
      qoffsetX: 0,
      qoffsetY: 0,
      qoffsetZ: 0,
      srowX: [...affine[0]],
      srowY: [...affine[1]],
      srowZ: [...affine[2]],
      descrip: "",
    };
}
