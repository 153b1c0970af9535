// This module is browser compatible.
/**
 * NIfTI-1 and NIfTI-2 headers: what a header holds, and parsing it (either
 * byte order) with validation and the voxel-to-world affine as nibabel
 * reports it. Building and serialising headers for new volumes:
 * nifti_header_create.ts. Browser-safe: works on bytes, never on files.
 *
 * @module
 */

import { InputError } from "./input_error.ts";
import {
  datatypeByCode,
  describeUnsupported,
  type NiftiDatatypeName,
  SUPPORTED_DATATYPE_NAMES,
} from "./_datatypes.ts";
import {
  NIFTI1_FIELDS,
  NIFTI2_EOL_CHECK,
  NIFTI2_FIELDS,
  type RawHeader,
  readFields,
} from "./_header_layout.ts";
import { bestAffine } from "./_nifti_affine.ts";

export type { NiftiDatatypeName } from "./_datatypes.ts";

/**
 * A parsed NIfTI header. Field names follow nifti1.h in camelCase; numbers
 * are the raw stored values (NIfTI-1 floats widened exactly to numbers).
 */
export interface NiftiHeader {
  /** 1 for NIfTI-1 (348-byte header), 2 for NIfTI-2 (540-byte header). */
  version: 1 | 2;
  /** Byte order of the header and the voxel data. */
  littleEndian: boolean;
  /** 348 or 540. */
  sizeofHdr: number;
  /** "n+1" or "n+2" (single-file NIfTI). */
  magic: string;
  /** dim_info: frequency, phase and slice encoding directions (2 bits each). */
  dimInfo: number;
  /** dim[0..7]: dim[0] is the number of dimensions, dim[1..dim[0]] their sizes. */
  dims: number[];
  /** intent_p1: first parameter of the intent. */
  intentP1: number;
  /** intent_p2: second parameter of the intent. */
  intentP2: number;
  /** intent_p3: third parameter of the intent. */
  intentP3: number;
  /** intent_code: what the voxel values mean (0 = none). */
  intentCode: number;
  /** The NIfTI datatype code (2 uint8, 4 int16, 16 float32, ...). */
  datatype: number;
  /** The datatype's name, e.g. "int16". */
  datatypeName: NiftiDatatypeName;
  /** Bits per voxel as stored (the datatype decides the real size, as in nibabel). */
  bitpix: number;
  /** slice_start: first slice index of the slice timing pattern. */
  sliceStart: number;
  /** pixdim[0..7] as stored: pixdim[0] is qfac, pixdim[1..3] voxel sizes. */
  pixdim: number[];
  /** Byte offset of the voxel data in the (decompressed) file. */
  voxOffset: number;
  /** Raw scale; 0 or NaN means "no scaling". */
  sclSlope: number;
  /** Raw scl_inter, added after the slope is applied. */
  sclInter: number;
  /** slice_end: last slice index of the slice timing pattern. */
  sliceEnd: number;
  /** slice_code: slice timing order. */
  sliceCode: number;
  /** Spatial units in bits 0-2 (2 = mm), temporal in bits 3-5 (8 = s). */
  xyztUnits: number;
  /** cal_max: maximum display intensity. */
  calMax: number;
  /** cal_min: minimum display intensity. */
  calMin: number;
  /** slice_duration: time to acquire one slice. */
  sliceDuration: number;
  /** toffset: time axis shift. */
  toffset: number;
  /** descrip: free-text description. */
  descrip: string;
  /** aux_file: name of an auxiliary file. */
  auxFile: string;
  /** qform_code: meaning of the quaternion transform (0 = unset). */
  qformCode: number;
  /** sform_code: meaning of the affine srow transform (0 = unset). */
  sformCode: number;
  /** quatern_b: quaternion b of the qform rotation. */
  quaternB: number;
  /** quatern_c: quaternion c of the qform rotation. */
  quaternC: number;
  /** quatern_d: quaternion d of the qform rotation. */
  quaternD: number;
  /** qoffset_x: qform x shift. */
  qoffsetX: number;
  /** qoffset_y: qform y shift. */
  qoffsetY: number;
  /** qoffset_z: qform z shift. */
  qoffsetZ: number;
  /** srow_x: first row of the sform affine. */
  srowX: number[];
  /** srow_y: second row of the sform affine. */
  srowY: number[];
  /** srow_z: third row of the sform affine. */
  srowZ: number[];
  /** intent_name: name or meaning of the data. */
  intentName: string;
  /** True when byte 0 of the extender after the header says extensions follow. */
  hasExtensions: boolean;
  /** 4×4 voxel-to-world matrix (rows), as nibabel's `img.affine`. */
  affine: number[][];
}

/**
 * Size of the stored header plus the 4-byte extender, i.e. the smallest data offset.
 *
 * @example
 * ```ts
 * import { minimumDataOffset } from "./nifti_header.ts";
 * console.log(minimumDataOffset(1), minimumDataOffset(2)); // 352 544
 * ```
 */
export function minimumDataOffset(version: 1 | 2): number {
  return version === 1 ? 352 : 544;
}

/**
 * Reads the first 4 bytes and says which NIfTI version and byte order they
 * announce, or throws InputError for anything that is not a NIfTI header.
 *
 * @example
 * ```ts
 * import { sniffNiftiHeader } from "./nifti_header.ts";
 * const bytes = new Uint8Array(4);
 * new DataView(bytes.buffer).setInt32(0, 348, true);
 * console.log(sniffNiftiHeader(bytes, "a.nii")); // { version: 1, littleEndian: true, size: 348 }
 * ```
 */
export function sniffNiftiHeader(
  bytes: Uint8Array,
  path: string,
): { version: 1 | 2; littleEndian: boolean; size: number } {
  if (bytes.length === 0) throw new InputError(path, "empty file");
  if (bytes.length < 4) {
    throw new InputError(path, `header cut short: ${bytes.length} bytes, a NIfTI header needs 348`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian, size };
    if (size === 540) return { version: 2, littleEndian, size };
  }
  throw new InputError(
    path,
    `not a NIfTI file: sizeof_hdr is ${
      view.getInt32(0, true)
    }, expected 348 (NIfTI-1) or 540 (NIfTI-2)`,
  );
}

/**
 * Parses and validates a NIfTI-1 or NIfTI-2 header from the start of a
 * (decompressed) file. Throws InputError naming `path` when the header is
 * cut short, has a wrong size or magic, absurd dims, an unsupported datatype
 * or an impossible `vox_offset`.
 *
 * @example
 * ```ts
 * import { parseNiftiHeader } from "./nifti_header.ts";
 * import { encodeNifti } from "./nifti_encoder.ts";
 * const plain = { shape: [4, 3, 2], datatype: "int16", gzip: false } as const; // a `.nii`
 * const bytes = encodeNifti(new Int16Array(24), plain);
 * const header = parseNiftiHeader(bytes, { path: "scan.nii" });
 * console.log(header.dims.slice(0, 4), header.datatypeName); // [3, 4, 3, 2] "int16"
 * ```
 */
export function parseNiftiHeader(bytes: Uint8Array, options: { path?: string } = {}): NiftiHeader {
  const path = options.path ?? "<bytes>";
  const { version, littleEndian, size } = sniffNiftiHeader(bytes, path);
  if (bytes.length < size) {
    throw new InputError(
      path,
      `header cut short: ${bytes.length} bytes, a NIfTI-${version} header needs ${size}`,
    );
  }
  const raw = readFields(bytes, version === 1 ? NIFTI1_FIELDS : NIFTI2_FIELDS, littleEndian);
  checkMagic(bytes, raw, version, path);
  checkDims(raw.dims, path);
  const type = datatypeByCode(raw.datatype);
  if (!type) {
    throw new InputError(
      path,
      `unsupported datatype ${describeUnsupported(raw.datatype)}; supported: ${
        SUPPORTED_DATATYPE_NAMES.join(", ")
      }`,
    );
  }
  const voxOffset = checkVoxOffset(raw.voxOffset, version, path);
  const slopeGiven = raw.sclSlope !== 0 && Number.isFinite(raw.sclSlope);
  if (slopeGiven && !Number.isFinite(raw.sclInter)) {
    throw new InputError(path, `scl_slope is ${raw.sclSlope} but scl_inter is ${raw.sclInter}`);
  }
  const header: NiftiHeader = {
    ...raw,
    version,
    littleEndian,
    datatypeName: type.name,
    voxOffset,
    hasExtensions: bytes.length > size && bytes[size] !== 0,
    affine: [],
  };
  header.affine = bestAffine(header);
  return header;
}

function checkMagic(bytes: Uint8Array, raw: RawHeader, version: 1 | 2, path: string): void {
  const want = version === 1 ? "n+1" : "n+2";
  if (raw.magic === want) {
    if (version === 2) {
      const eol = Array.from(bytes.subarray(8, 12));
      const zero = eol.every((b) => b === 0);
      // nibabel accepts an all-zero check; anything else but 13 10 26 10 means text-mode corruption.
      if (!zero && eol.some((b, i) => b !== NIFTI2_EOL_CHECK[i])) {
        throw new InputError(path, "NIfTI-2 line-ending check bytes are wrong: file corrupted");
      }
    }
    return;
  }
  if (raw.magic === (version === 1 ? "ni1" : "ni2")) {
    throw new InputError(
      path,
      `magic "${raw.magic}" marks a .hdr/.img pair; only single-file .nii and .nii.gz are read`,
    );
  }
  throw new InputError(path, `bad magic ${JSON.stringify(raw.magic)}, expected "${want}"`);
}

/** Largest voxel count accepted before any file-size check: beyond 2^48 no file can hold it. */
const MAX_VOXELS = 2 ** 48;

function checkDims(dims: number[], path: string): void {
  const n = dims[0];
  if (!(n >= 1 && n <= 7)) throw new InputError(path, `dim[0] is ${n}, must be 1 to 7`);
  let voxels = 1;
  for (let i = 1; i <= n; i++) {
    const d = dims[i];
    if (!Number.isSafeInteger(d) || d < 1) {
      throw new InputError(path, `dim[${i}] is ${d}; dims must be positive (dim = [${dims}])`);
    }
    voxels *= d;
  }
  if (voxels > MAX_VOXELS) {
    throw new InputError(
      path,
      `dims ${dims.slice(1, n + 1).join("×")} are absurd (${voxels} voxels)`,
    );
  }
}

function checkVoxOffset(voxOffset: number, version: 1 | 2, path: string): number {
  const min = minimumDataOffset(version);
  if (!Number.isFinite(voxOffset) || voxOffset < 0 || voxOffset > Number.MAX_SAFE_INTEGER) {
    throw new InputError(path, `vox_offset is ${voxOffset}`);
  }
  const offset = Math.floor(voxOffset);
  // nibabel treats 0 as "unset"; in a single file the data then starts right after the header.
  if (offset === 0) return min;
  if (offset < min) {
    throw new InputError(path, `vox_offset ${offset} lies inside the ${min}-byte header`);
  }
  return offset;
}

/**
 * The array shape nibabel reports: `dim[1..dim[0]]`.
 *
 * @example
 * ```ts
 * import { niftiShape } from "./nifti_header.ts";
 * console.log(niftiShape({ dims: [3, 240, 240, 155, 1, 1, 1, 1] })); // [240, 240, 155]
 * ```
 */
export function niftiShape(header: Pick<NiftiHeader, "dims">): number[] {
  return header.dims.slice(1, header.dims[0] + 1);
}
