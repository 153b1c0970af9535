// This module is browser compatible.
/**
 * Byte layouts of the NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers as
 * tables of fields, so that parsing and serialising share one description.
 * Private to `data/`.
 *
 * @module
 */

/** How one field is stored. */
export type FieldKind = "u8" | "i16" | "i32" | "i64" | "f32" | "f64" | "str";

/** One header field: its name in `RawHeader`, offset, kind and element count (or string length). */
export interface FieldSpec {
  name: keyof RawHeader;
  offset: number;
  kind: FieldKind;
  count: number;
}

/** Every stored header field, with NIfTI-1 and NIfTI-2 widths unified as numbers. */
export interface RawHeader {
  sizeofHdr: number;
  magic: string;
  dimInfo: number;
  dims: number[];
  intentP1: number;
  intentP2: number;
  intentP3: number;
  intentCode: number;
  datatype: number;
  bitpix: number;
  sliceStart: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  sliceEnd: number;
  sliceCode: number;
  xyztUnits: number;
  calMax: number;
  calMin: number;
  sliceDuration: number;
  toffset: number;
  descrip: string;
  auxFile: string;
  qformCode: number;
  sformCode: number;
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qoffsetX: number;
  qoffsetY: number;
  qoffsetZ: number;
  srowX: number[];
  srowY: number[];
  srowZ: number[];
  intentName: string;
}

const f = (name: keyof RawHeader, offset: number, kind: FieldKind, count = 1): FieldSpec => ({
  name,
  offset,
  kind,
  count,
});

/** NIfTI-1: nifti1.h's `nifti_1_header`. */
export const NIFTI1_FIELDS: readonly FieldSpec[] = [
  f("sizeofHdr", 0, "i32"),
  f("dimInfo", 39, "u8"),
  f("dims", 40, "i16", 8),
  f("intentP1", 56, "f32"),
  f("intentP2", 60, "f32"),
  f("intentP3", 64, "f32"),
  f("intentCode", 68, "i16"),
  f("datatype", 70, "i16"),
  f("bitpix", 72, "i16"),
  f("sliceStart", 74, "i16"),
  f("pixdim", 76, "f32", 8),
  f("voxOffset", 108, "f32"),
  f("sclSlope", 112, "f32"),
  f("sclInter", 116, "f32"),
  f("sliceEnd", 120, "i16"),
  f("sliceCode", 122, "u8"),
  f("xyztUnits", 123, "u8"),
  f("calMax", 124, "f32"),
  f("calMin", 128, "f32"),
  f("sliceDuration", 132, "f32"),
  f("toffset", 136, "f32"),
  f("descrip", 148, "str", 80),
  f("auxFile", 228, "str", 24),
  f("qformCode", 252, "i16"),
  f("sformCode", 254, "i16"),
  f("quaternB", 256, "f32"),
  f("quaternC", 260, "f32"),
  f("quaternD", 264, "f32"),
  f("qoffsetX", 268, "f32"),
  f("qoffsetY", 272, "f32"),
  f("qoffsetZ", 276, "f32"),
  f("srowX", 280, "f32", 4),
  f("srowY", 296, "f32", 4),
  f("srowZ", 312, "f32", 4),
  f("intentName", 328, "str", 16),
  f("magic", 344, "str", 4),
];

/** NIfTI-2: nifti2.h's `nifti_2_header`. */
export const NIFTI2_FIELDS: readonly FieldSpec[] = [
  f("sizeofHdr", 0, "i32"),
  f("magic", 4, "str", 4),
  f("datatype", 12, "i16"),
  f("bitpix", 14, "i16"),
  f("dims", 16, "i64", 8),
  f("intentP1", 80, "f64"),
  f("intentP2", 88, "f64"),
  f("intentP3", 96, "f64"),
  f("pixdim", 104, "f64", 8),
  f("voxOffset", 168, "i64"),
  f("sclSlope", 176, "f64"),
  f("sclInter", 184, "f64"),
  f("calMax", 192, "f64"),
  f("calMin", 200, "f64"),
  f("sliceDuration", 208, "f64"),
  f("toffset", 216, "f64"),
  f("sliceStart", 224, "i64"),
  f("sliceEnd", 232, "i64"),
  f("descrip", 240, "str", 80),
  f("auxFile", 320, "str", 24),
  f("qformCode", 344, "i32"),
  f("sformCode", 348, "i32"),
  f("quaternB", 352, "f64"),
  f("quaternC", 360, "f64"),
  f("quaternD", 368, "f64"),
  f("qoffsetX", 376, "f64"),
  f("qoffsetY", 384, "f64"),
  f("qoffsetZ", 392, "f64"),
  f("srowX", 400, "f64", 4),
  f("srowY", 432, "f64", 4),
  f("srowZ", 464, "f64", 4),
  f("sliceCode", 496, "i32"),
  f("xyztUnits", 500, "i32"),
  f("intentCode", 504, "i32"),
  f("intentName", 508, "str", 16),
  f("dimInfo", 524, "u8"),
];

/** NIfTI-2's bytes 8..11 after "n+2\0": a check against line-ending conversion. */
export const NIFTI2_EOL_CHECK: readonly number[] = [13, 10, 26, 10];

const WIDTH: Record<FieldKind, number> = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8, str: 1 };

function readOne(view: DataView, at: number, kind: FieldKind, le: boolean): number {
  switch (kind) {
    case "u8":
      return view.getUint8(at);
    case "i16":
      return view.getInt16(at, le);
    case "i32":
      return view.getInt32(at, le);
    case "i64":
      return Number(view.getBigInt64(at, le));
    case "f32":
      return view.getFloat32(at, le);
    default:
      return view.getFloat64(at, le);
  }
}

function writeOne(view: DataView, at: number, kind: FieldKind, value: number, le: boolean): void {
  switch (kind) {
    case "u8":
      return view.setUint8(at, value);
    case "i16":
      return view.setInt16(at, value, le);
    case "i32":
      return view.setInt32(at, value, le);
    case "i64":
      return view.setBigInt64(at, BigInt(Math.trunc(value)), le);
    case "f32":
      return view.setFloat32(at, value, le);
    default:
      return view.setFloat64(at, value, le);
  }
}

/** Reads a NUL-terminated Latin-1 string of at most `length` bytes. */
function readString(bytes: Uint8Array, at: number, length: number): string {
  let s = "";
  for (let i = at; i < at + length && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Decodes every field of `fields` from `bytes` (which must hold the whole header). */
export function readFields(
  bytes: Uint8Array,
  fields: readonly FieldSpec[],
  littleEndian: boolean,
): RawHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, unknown> = {};
  for (const spec of fields) {
    if (spec.kind === "str") {
      out[spec.name] = readString(bytes, spec.offset, spec.count);
    } else if (spec.count === 1) {
      out[spec.name] = readOne(view, spec.offset, spec.kind, littleEndian);
    } else {
      const values: number[] = [];
      for (let i = 0; i < spec.count; i++) {
        values.push(readOne(view, spec.offset + i * WIDTH[spec.kind], spec.kind, littleEndian));
      }
      out[spec.name] = values;
    }
  }
  return out as unknown as RawHeader;
}

/** Encodes every field of `fields` into `bytes`; strings are cut to fit, keeping a NUL. */
export function writeFields(
  bytes: Uint8Array,
  fields: readonly FieldSpec[],
  raw: RawHeader,
  littleEndian: boolean,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const spec of fields) {
    const value = raw[spec.name];
    if (spec.kind === "str") {
      const text = String(value);
      // The 4-byte magic fills its field; other strings keep a terminating NUL.
      const room = spec.name === "magic" ? spec.count : spec.count - 1;
      for (let i = 0; i < Math.min(text.length, room); i++) {
        bytes[spec.offset + i] = text.charCodeAt(i) & 0xff;
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < spec.count; i++) {
        writeOne(view, spec.offset + i * WIDTH[spec.kind], spec.kind, value[i] ?? 0, littleEndian);
      }
    } else {
      writeOne(view, spec.offset, spec.kind, Number(value), littleEndian);
    }
  }
}
