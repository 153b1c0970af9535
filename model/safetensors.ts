// This module is browser compatible.
/**
 * The safetensors file format, bytes in and out (browser-safe): an 8-byte
 * little-endian header length, a JSON header (padded with spaces to a multiple
 * of 8 bytes) naming each tensor's `dtype`, `shape` and `data_offsets` into
 * the raw little-endian data that follows, plus string-valued `__metadata__`.
 * Only `F32` tensors are written and read.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";

/** One named float32 tensor on the CPU. */
export interface NamedTensor {
  /** Shape, outermost first. */
  readonly shape: readonly number[];
  /** Values in row-major order. */
  readonly data: Float32Array;
}

/** A parsed safetensors file. */
export interface Safetensors {
  /** Tensors by name, in file order. */
  readonly tensors: Map<string, NamedTensor>;
  /** The `__metadata__` strings (empty when absent). */
  readonly metadata: Record<string, string>;
}

// Real checkpoints have headers of a few kB; anything near this is not one.
const MAX_HEADER = 16 * 2 ** 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serialises tensors (in the given order) and metadata into safetensors bytes.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   new Map([["head.bias", { shape: [4], data: new Float32Array(4) }]]),
 *   { format: "pt" },
 * );
 * console.log(bytes.length); // 120
 * ```
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new RangeError("tensor name __metadata__ is reserved");
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new RangeError(`tensor "${name}": ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors.values()) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    }
    at += t.data.byteLength;
  }
  return out;
}

function fail(path: string, problem: string): never {
  throw new InputError(path, problem);
}

/**
 * Parses safetensors bytes, checking the header against the file's size
 * before allocating anything. `path` only names the file in errors.
 *
 * @throws {InputError} one line: not safetensors, truncated, unsupported dtype, bad offsets.
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   new Map([["head.bias", { shape: [2], data: new Float32Array([1, 2]) }]]),
 *   { format: "pt" },
 * );
 * const { tensors, metadata } = decodeSafetensors(bytes, { path: "model.safetensors" });
 * console.log(tensors.get("head.bias")); // { shape: [2], data: Float32Array(2) [1, 2] }
 * console.log(metadata.format); // pt
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, options: { path: string }): Safetensors {
  const path = options.path;
  if (bytes.length < 8) fail(path, `not a safetensors file (only ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER) || headerLength < 2n) {
    fail(path, `not a safetensors file (header length ${headerLength})`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    fail(path, `truncated: header needs ${n} bytes but only ${bytes.length - 8} follow`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    fail(path, "not a safetensors file (header is not JSON)");
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    fail(path, "not a safetensors file (header is not a JSON object)");
  }
  const dataLength = bytes.length - 8 - n;
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(value, path);
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== "object") fail(path, `tensor "${name}" has no description`);
    if (e.dtype !== "F32") {
      fail(path, `tensor "${name}" has dtype ${e.dtype}; only F32 is supported`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(path, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[1] < offsets[0]
    ) {
      fail(path, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== size * 4) {
      fail(
        path,
        `tensor "${name}": shape [${shape}] needs ${size * 4} bytes, offsets give ${end - begin}`,
      );
    }
    if (end > dataLength) {
      fail(
        path,
        `truncated: tensor "${name}" ends at data byte ${end}, the file holds ${dataLength}`,
      );
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) fail(path, `tensor data is not contiguous at tensor "${e.name}"`);
    at = e.end;
  }
  if (at !== dataLength) fail(path, `${dataLength - at} bytes after the last tensor`);
  const tensors = new Map<string, NamedTensor>();
  for (const e of entries) {
    const start = 8 + n + e.begin;
    const data = new Float32Array((e.end - e.begin) / 4);
    if (LITTLE_ENDIAN) {
      new Uint8Array(data.buffer).set(bytes.subarray(start, 8 + n + e.end));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(start + 4 * i, true);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

function checkMetadata(value: unknown, path: string): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    fail(path, "__metadata__ is not an object of strings");
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(path, `__metadata__.${k} is not a string`);
  }
  return value as Record<string, string>;
}
