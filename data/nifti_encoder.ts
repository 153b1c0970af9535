// This module is browser compatible.
/**
 * NIfTI encoding: a volume's slices in, NIfTI-1 bytes out (gzipped on the
 * fly with fflate's streaming `Gzip`), as a `TransformStream` for streaming
 * or in one call for a volume in memory. The `io` module writes them to files.
 *
 * @module
 */

import { Gzip } from "fflate";
import { datatypeByName, type DatatypeInfo, encodeVoxels } from "./_datatypes.ts";
import type { NiftiHeader } from "./nifti_header.ts";
import { createNiftiHeader, serializeNiftiHeader } from "./nifti_header_create.ts";

/** Options of {@linkcode NiftiEncoder} and {@linkcode encodeNifti}. */
export interface NiftiEncoderOptions {
  /** Array shape, x fastest: [nx, ny, nz] or [nx, ny, nz, nt]. */
  shape: readonly number[];
  /** Stored type; integers are rounded and clamped, NaN stored as 0. */
  datatype: "uint8" | "int16" | "float32";
  /** Copy pixdim, units, qform and sform (hence the affine) from this header. */
  reference?: NiftiHeader;
  /** Without a reference: the sform affine (code 2); default identity. */
  affine?: number[][];
  /** Gzip the output (default true; `io`'s file writers default to whether the path ends in `.gz`). */
  gzip?: boolean;
  /** Gzip level 0-9 (default 6). */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Names the output in error messages (default `<nifti>`). */
  name?: string;
  /** scl_slope: readers multiply the stored values by it (default 1; e.g. 1/255 for uint8 probabilities). */
  scale?: number;
}

/** The encoding of one volume, pushing its bytes to `emit` as they are made. */
class Encoding {
  readonly name: string;
  readonly sliceVoxels: number;
  readonly totalSlices: number;
  #options: NiftiEncoderOptions;
  #type: DatatypeInfo;
  #header: NiftiHeader;
  #gz?: Gzip;
  #emit: (bytes: Uint8Array) => void;
  #written = 0;

  constructor(options: NiftiEncoderOptions, emit: (bytes: Uint8Array) => void) {
    const type = datatypeByName(options.datatype);
    if (!type || !["uint8", "int16", "float32"].includes(type.name)) {
      throw new TypeError(
        `Cannot write datatype "${options.datatype}": use uint8, int16 or float32`,
      );
    }
    this.#header = {
      ...createNiftiHeader({
        shape: options.shape,
        datatype: type.name,
        reference: options.reference,
        affine: options.affine,
      }),
      ...(options.scale === undefined ? {} : { sclSlope: options.scale }),
    };
    this.#type = type;
    this.#options = options;
    this.#emit = emit;
    this.name = options.name ?? "<nifti>";
    const [nx, ny = 1] = options.shape;
    this.sliceVoxels = nx * ny;
    this.totalSlices = options.shape.slice(2).reduce((a, b) => a * b, 1);
  }

  #push(bytes: Uint8Array, final = false): void {
    if (this.#gz) this.#gz.push(bytes, final);
    else this.#emit(bytes);
  }

  start(): void {
    if (this.#options.gzip ?? true) {
      // mtime 0: the same volume always gives the same bytes (checksums, caches, the browser page).
      this.#gz = new Gzip(
        { level: this.#options.level ?? 6, mtime: 0 },
        (data) => this.#emit(data),
      );
    }
    this.#push(serializeNiftiHeader(this.#header, { littleEndian: true }));
  }

  slice(values: ArrayLike<number>): void {
    const [nx, ny = 1] = this.#options.shape;
    if (values.length !== this.sliceVoxels) {
      throw new RangeError(
        `${this.name}: slice ${this.#written} has ${values.length} values, expected ${nx}×${ny} = ${this.sliceVoxels}`,
      );
    }
    if (this.#written >= this.totalSlices) {
      throw new RangeError(
        `${this.name}: more than the ${this.totalSlices} slices of [${this.#options.shape}]`,
      );
    }
    this.#push(encodeVoxels(values, this.#type));
    this.#written++;
  }

  end(): void {
    if (this.#written !== this.totalSlices) {
      throw new RangeError(`${this.name}: got ${this.#written} of ${this.totalSlices} slices`);
    }
    if (this.#gz) this.#push(new Uint8Array(0), true);
  }
}

/**
 * A stream that encodes a NIfTI file: each chunk written is one axial slice
 * of nx × ny values (x fastest), in depth order (all slices of volume 0,
 * then volume 1, ...); the readable side gives the file's bytes. A wrong
 * slice size, or too few or too many slices, errors the stream.
 *
 * @example
 * ```ts
 * import { NiftiEncoder } from "./nifti_encoder.ts";
 * import { parseNifti } from "./nifti_reader.ts";
 * const encoder = new NiftiEncoder({ shape: [4, 3, 2], datatype: "uint8" });
 * const bytes = new Response(encoder.readable).arrayBuffer();
 * const writer = encoder.writable.getWriter();
 * await writer.write(new Uint8Array(12)); // slice z = 0
 * await writer.write(new Uint8Array(12).fill(1)); // slice z = 1
 * await writer.close();
 * const { shape, data } = parseNifti(new Uint8Array(await bytes));
 * console.log(shape, data[0], data[12]); // [4, 3, 2] 0 1
 * ```
 */
export class NiftiEncoder extends TransformStream<ArrayLike<number>, Uint8Array> {
  /** Makes an encoder; a datatype it cannot write is a TypeError now. */
  constructor(options: NiftiEncoderOptions) {
    let out: TransformStreamDefaultController<Uint8Array> | undefined;
    const encoding = new Encoding(options, (bytes) => out!.enqueue(bytes));
    super({
      start: (controller) => {
        out = controller;
        encoding.start();
      },
      transform: (slice) => encoding.slice(slice),
      flush: () => encoding.end(),
    });
  }
}

/**
 * Encodes a whole volume (x fastest) as NIfTI bytes: the same bytes that
 * streaming its slices through {@linkcode NiftiEncoder} gives.
 *
 * @throws {RangeError} when `data` does not hold `shape`'s voxels.
 * @example
 * ```ts
 * import { encodeNifti } from "./nifti_encoder.ts";
 * import { parseNifti } from "./nifti_reader.ts";
 * const bytes = encodeNifti([0, 1, 2, 3], { shape: [2, 2, 1], datatype: "int16" });
 * console.log(parseNifti(bytes).data); // Float32Array [0, 1, 2, 3]
 * ```
 */
export function encodeNifti(
  data: ArrayLike<number>,
  options: NiftiEncoderOptions,
): Uint8Array<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  const encoding = new Encoding(options, (bytes) => chunks.push(bytes));
  const total = options.shape.reduce((a, b) => a * b, 1);
  if (data.length !== total) {
    throw new RangeError(
      `${encoding.name}: ${data.length} values for shape [${options.shape}] (${total})`,
    );
  }
  encoding.start();
  const step = encoding.sliceVoxels;
  for (let at = 0; at < total; at += step) {
    encoding.slice(
      ArrayBuffer.isView(data)
        ? (data as unknown as Float32Array).subarray(at, at + step)
        : Array.prototype.slice.call(data, at, at + step),
    );
  }
  encoding.end();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
