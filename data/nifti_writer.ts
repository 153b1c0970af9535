/**
 * Writing NIfTI volumes slice by slice from a stream, gzipped on the fly with
 * fflate's streaming `Gzip`, to a temporary name that is renamed into place
 * only when every slice has arrived, so a crash never leaves a half-written file.
 *
 * @module
 */

import { Gzip } from "fflate";
import { datatypeByName, encodeVoxels } from "./_datatypes.ts";
import { createNiftiHeader, type NiftiHeader, serializeNiftiHeader } from "./nifti_header.ts";

/** Options of `createNiftiWriter` and `writeNifti`. */
export interface NiftiWriterOptions {
  /** Array shape, x fastest: [nx, ny, nz] or [nx, ny, nz, nt]. */
  shape: readonly number[];
  /** Stored type; integers are rounded and clamped, NaN stored as 0. */
  datatype: "uint8" | "int16" | "float32";
  /** Copy pixdim, units, qform and sform (hence the affine) from this header. */
  reference?: NiftiHeader;
  /** Without a reference: the sform affine (code 2); default identity. */
  affine?: number[][];
  /** Gzip the output; default: whether `path` ends in `.gz`. */
  gzip?: boolean;
  /** Gzip level 0-9 (default 6). */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/**
 * A stream that writes a NIfTI file: each chunk is one axial slice of
 * nx × ny values (x fastest), in depth order (all slices of volume 0, then
 * volume 1, ...). Data goes to `path + ".tmp-<random>"`, renamed to `path` on
 * close; on abort or error the temporary file is deleted.
 *
 * @example
 * ```ts
 * import { createNiftiWriter, readNiftiHeader } from "./mod.ts";
 * const reference = await readNiftiHeader("case/flair.nii.gz");
 * const writer = createNiftiWriter("out/case.nii.gz", {
 *   shape: reference.dims.slice(1, 4),
 *   datatype: "uint8",
 *   reference,
 * }).getWriter();
 * for (let z = 0; z < reference.dims[3]; z++) {
 *   await writer.write(new Uint8Array(reference.dims[1] * reference.dims[2]));
 * }
 * await writer.close();
 * ```
 */
export function createNiftiWriter(
  path: string,
  options: NiftiWriterOptions,
): WritableStream<ArrayLike<number>> {
  const type = datatypeByName(options.datatype);
  if (!type || !["uint8", "int16", "float32"].includes(type.name)) {
    throw new TypeError(`Cannot write datatype "${options.datatype}": use uint8, int16 or float32`);
  }
  const header = createNiftiHeader({
    shape: options.shape,
    datatype: type.name,
    reference: options.reference,
    affine: options.affine,
  });
  const [nx, ny = 1] = options.shape;
  const sliceVoxels = nx * ny;
  const totalSlices = options.shape.slice(2).reduce((a, b) => a * b, 1);
  const gzip = options.gzip ?? /\.gz$/i.test(path);
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  let file: Deno.FsFile | undefined;
  let gz: Gzip | undefined;
  let pending: Uint8Array[] = [];
  let written = 0;

  async function flush(): Promise<void> {
    const chunks = pending;
    pending = [];
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length;) at += await file!.write(chunk.subarray(at));
    }
  }

  function emit(bytes: Uint8Array, final = false): void {
    if (gz) gz.push(bytes, final);
    else pending.push(bytes);
  }

  async function discard(): Promise<void> {
    try {
      file?.close();
    } catch { /* already closed */ }
    file = undefined;
    await Deno.remove(temp).catch(() => {});
  }

  async function guarded(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      await discard();
      throw error;
    }
  }

  return new WritableStream<ArrayLike<number>>({
    start: () =>
      guarded(async () => {
        file = await Deno.open(temp, { write: true, createNew: true });
        if (gzip) gz = new Gzip({ level: options.level ?? 6 }, (data) => pending.push(data));
        emit(serializeNiftiHeader(header, { littleEndian: true }));
        await flush();
      }),
    write: (slice) =>
      guarded(async () => {
        if (slice.length !== sliceVoxels) {
          throw new RangeError(
            `${path}: slice ${written} has ${slice.length} values, expected ${nx}×${ny} = ${sliceVoxels}`,
          );
        }
        if (written >= totalSlices) {
          throw new RangeError(
            `${path}: more than the ${totalSlices} slices of [${options.shape}]`,
          );
        }
        emit(encodeVoxels(slice, type));
        written++;
        await flush();
      }),
    close: () =>
      guarded(async () => {
        if (written !== totalSlices) {
          throw new RangeError(`${path}: got ${written} of ${totalSlices} slices`);
        }
        if (gz) emit(new Uint8Array(0), true);
        await flush();
        file!.close();
        file = undefined;
        await Deno.rename(temp, path);
      }),
    abort: () => discard(),
  });
}

/**
 * Writes a whole volume (x fastest) through `createNiftiWriter`.
 *
 * @example
 * ```ts
 * import { readNifti, writeNifti } from "./mod.ts";
 * const t1 = await readNifti("t1.nii.gz");
 * const mask = t1.data.map((v) => (v > 0 ? 1 : 0));
 * await writeNifti("mask.nii.gz", mask, { shape: t1.shape.slice(0, 3), datatype: "uint8", reference: t1.header });
 * ```
 */
export async function writeNifti(
  path: string,
  data: ArrayLike<number>,
  options: NiftiWriterOptions,
): Promise<void> {
  const [nx, ny = 1] = options.shape;
  const sliceVoxels = nx * ny;
  const total = options.shape.reduce((a, b) => a * b, 1);
  if (data.length !== total) {
    throw new RangeError(`${path}: ${data.length} values for shape [${options.shape}] (${total})`);
  }
  const writer = createNiftiWriter(path, options).getWriter();
  try {
    for (let at = 0; at < total; at += sliceVoxels) {
      const slice = ArrayBuffer.isView(data)
        ? (data as unknown as Float32Array).subarray(at, at + sliceVoxels)
        : Array.prototype.slice.call(data, at, at + sliceVoxels);
      await writer.write(slice);
    }
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  }
}
