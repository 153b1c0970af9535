// This module is browser compatible.
/**
 * The NIfTI datatype table and the conversion of raw voxel bytes to and from
 * numbers. Private to `data/`.
 *
 * @module
 */

/** Names of the datatypes this project reads. */
export type NiftiDatatypeName =
  | "uint8"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "float32"
  | "float64";

type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** One supported datatype: its NIfTI code, size and typed-array class. */
export interface DatatypeInfo {
  code: number;
  name: NiftiDatatypeName;
  bytes: number;
  array: TypedArrayCtor;
  /** Smallest and largest storable value, for clamping integer output. */
  min: number;
  max: number;
  integer: boolean;
}

const SUPPORTED: DatatypeInfo[] = [
  { code: 2, name: "uint8", bytes: 1, array: Uint8Array, min: 0, max: 255, integer: true },
  { code: 256, name: "int8", bytes: 1, array: Int8Array, min: -128, max: 127, integer: true },
  { code: 4, name: "int16", bytes: 2, array: Int16Array, min: -32768, max: 32767, integer: true },
  { code: 512, name: "uint16", bytes: 2, array: Uint16Array, min: 0, max: 65535, integer: true },
  {
    code: 8,
    name: "int32",
    bytes: 4,
    array: Int32Array,
    min: -2147483648,
    max: 2147483647,
    integer: true,
  },
  {
    code: 768,
    name: "uint32",
    bytes: 4,
    array: Uint32Array,
    min: 0,
    max: 4294967295,
    integer: true,
  },
  {
    code: 16,
    name: "float32",
    bytes: 4,
    array: Float32Array,
    min: -Infinity,
    max: Infinity,
    integer: false,
  },
  {
    code: 64,
    name: "float64",
    bytes: 8,
    array: Float64Array,
    min: -Infinity,
    max: Infinity,
    integer: false,
  },
];

/** Codes the NIfTI standard defines that this project does not read. */
const UNSUPPORTED_NAMES: Record<number, string> = {
  0: "none",
  1: "binary",
  32: "complex64",
  128: "rgb24",
  1024: "int64",
  1280: "uint64",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
  2304: "rgba32",
};

const BY_CODE = new Map(SUPPORTED.map((d) => [d.code, d]));
const BY_NAME = new Map(SUPPORTED.map((d) => [d.name, d]));

/** Names of all supported datatypes, for error messages. */
export const SUPPORTED_DATATYPE_NAMES: readonly string[] = SUPPORTED.map((d) => d.name);

/** The supported datatype with this code, or undefined. */
export function datatypeByCode(code: number): DatatypeInfo | undefined {
  return BY_CODE.get(code);
}

/** The supported datatype with this name, or undefined. */
export function datatypeByName(name: string): DatatypeInfo | undefined {
  return BY_NAME.get(name as NiftiDatatypeName);
}

/** Names an unreadable code: "code 32 (complex64)" or "code 9999 (unknown)". */
export function describeUnsupported(code: number): string {
  return `code ${code} (${UNSUPPORTED_NAMES[code] ?? "unknown"})`;
}

/** True when this machine stores numbers little-endian (every common one does). */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each `size`-byte group in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Decodes `out.length` voxels from `bytes` (file byte order), applying
 * `value * slope + inter` when `slope` is given. The input is not modified.
 */
export function decodeVoxels(
  bytes: Uint8Array,
  type: DatatypeInfo,
  littleEndian: boolean,
  out: Float32Array | Float64Array,
  scaling?: { slope: number; inter: number },
): void {
  const n = out.length;
  let raw = bytes.subarray(0, n * type.bytes);
  const swap = type.bytes > 1 && littleEndian !== HOST_LITTLE_ENDIAN;
  // Typed-array views need aligned offsets; a copy also lets us swap bytes without touching the input.
  if (swap || raw.byteOffset % type.bytes !== 0) raw = raw.slice();
  if (swap) swapBytes(raw, type.bytes);
  const values = new type.array(raw.buffer as ArrayBuffer, raw.byteOffset, n);
  if (scaling && (scaling.slope !== 1 || scaling.inter !== 0)) {
    const { slope, inter } = scaling;
    for (let i = 0; i < n; i++) out[i] = values[i] * slope + inter;
  } else {
    out.set(values);
  }
}

/**
 * Encodes numbers as little-endian voxels of `type`: integers are rounded to
 * nearest and clamped to the type's range, NaN becomes 0.
 */
export function encodeVoxels(values: ArrayLike<number>, type: DatatypeInfo): Uint8Array {
  const n = values.length;
  const out = new type.array(n);
  if (type.integer) {
    for (let i = 0; i < n; i++) {
      const v = Math.round(values[i]);
      out[i] = v !== v ? 0 : v < type.min ? type.min : v > type.max ? type.max : v;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = values[i];
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, type.bytes);
  return bytes;
}
