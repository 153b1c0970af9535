/**
 * NIfTI files by path: the `data/` codecs (on bytes and streams) joined to
 * the file system, with outputs written atomically.
 *
 * @module
 */

import { encodeNifti, NiftiEncoder, type NiftiEncoderOptions } from "../data/nifti_encoder.ts";
import type { NiftiHeader } from "../data/nifti_header.ts";
import { niftiHeaderFromStream, type NiftiVolume, parseNifti } from "../data/nifti_reader.ts";
import {
  type NiftiSliceOptions,
  type NiftiSliceReader,
  niftiSlicesFromStream,
} from "../data/nifti_slices.ts";
import { openFile, readBytes } from "./files.ts";
import { writeAtomic } from "./atomic_write.ts";

/** Options of {@linkcode createNiftiWriter} and {@linkcode writeNifti}: the encoder's, `gzip` defaulting to whether the path ends in `.gz`. */
export type NiftiWriterOptions = Omit<NiftiEncoderOptions, "name">;

const encoderOptions = (path: string, options: NiftiWriterOptions): NiftiEncoderOptions => ({
  ...options,
  name: path,
  gzip: options.gzip ?? /\.gz$/i.test(path),
});

/**
 * Reads a whole NIfTI file (`.nii` or `.nii.gz`) into memory as scaled
 * float32 values. Bad files throw InputError naming the file.
 *
 * @example
 * ```ts
 * import { readNifti, writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * const voxels = Float32Array.from({ length: 24 }, (_, i) => i);
 * await writeNifti(`${dir}/t1.nii.gz`, voxels, { shape: [4, 3, 2], datatype: "int16" });
 * const { shape, data } = await readNifti(`${dir}/t1.nii.gz`);
 * const [nx, ny] = shape;
 * console.log(shape, data[1 * nx * ny + 2 * nx + 3]); // [4, 3, 2] 23: voxel (x 3, y 2, z 1)
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readNifti(path: string): Promise<NiftiVolume> {
  return parseNifti(await readBytes(path), { path });
}

/**
 * Reads and validates a NIfTI file's header without reading its voxels; for
 * a plain `.nii` it also checks the file holds the data the dims promise.
 *
 * @example
 * ```ts
 * import { readNiftiHeader, writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * const options = { shape: [4, 3, 2], datatype: "uint8" } as const;
 * await writeNifti(`${dir}/flair.nii.gz`, new Uint8Array(24), options);
 * const header = await readNiftiHeader(`${dir}/flair.nii.gz`);
 * console.log(header.dims.slice(1, header.dims[0] + 1), header.datatypeName); // [4, 3, 2] "uint8"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readNiftiHeader(path: string): Promise<NiftiHeader> {
  const { size, stream } = await openFile(path);
  return await niftiHeaderFromStream(stream, { name: path, size });
}

/**
 * Opens a NIfTI file for slice-by-slice reading (the header is validated
 * now; voxels are decompressed only as slices are requested).
 *
 * @example
 * ```ts
 * import { openNiftiSlices, writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * const voxels = Float32Array.from({ length: 24 }, (_, i) => i);
 * await writeNifti(`${dir}/flair.nii.gz`, voxels, { shape: [4, 3, 2], datatype: "int16" });
 * const reader = await openNiftiSlices(`${dir}/flair.nii.gz`);
 * let z = 0;
 * for await (const slice of reader.slices()) {
 *   console.log(z++, Math.max(...slice)); // 0 11, then 1 23
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openNiftiSlices(
  path: string,
  options: NiftiSliceOptions = {},
): Promise<NiftiSliceReader> {
  const { size, stream } = await openFile(path);
  return await niftiSlicesFromStream(stream, { ...options, name: path, size });
}

/**
 * A stream that writes a NIfTI file slice by slice: each chunk is one
 * axial slice of nx × ny values (x fastest), in depth order. The bytes go
 * to a temporary file renamed to `path` on close; on abort or error it is
 * deleted and `path` is left as it was.
 *
 * @example
 * ```ts
 * import { createNiftiWriter, readNifti } from "./nifti.ts";
 * const out = await Deno.makeTempDir();
 * const writer = createNiftiWriter(`${out}/case.nii.gz`, { shape: [4, 3, 5], datatype: "uint8" })
 *   .getWriter();
 * for (let z = 0; z < 5; z++) await writer.write(new Uint8Array(4 * 3).fill(z));
 * await writer.close(); // only now does `case.nii.gz` appear
 * const { shape, data } = await readNifti(`${out}/case.nii.gz`);
 * console.log(shape, data[4 * 3 * 4]); // [4, 3, 5] 4
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export function createNiftiWriter(
  path: string,
  options: NiftiWriterOptions,
): WritableStream<ArrayLike<number>> {
  const encoder = new NiftiEncoder(encoderOptions(path, options));
  const writer = encoder.writable.getWriter();
  const written = writeAtomic(path, encoder.readable);
  written.catch(() => {}); // its failure is reported through the writer's calls
  // Each call waits for the file to be settled when it fails, so no temporary file outlives it.
  const settled = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      await written.catch(() => {});
      throw error;
    }
  };
  return new WritableStream<ArrayLike<number>>({
    write: (slice) => settled(() => writer.write(slice)),
    close: () =>
      settled(async () => {
        await writer.close();
        await written;
      }),
    abort: async (reason) => {
      await writer.abort(reason).catch(() => {});
      await written.catch(() => {});
    },
  });
}

/**
 * Writes a whole volume (x fastest) as a NIfTI file, atomically.
 *
 * @example
 * ```ts
 * import { readNifti, writeNifti } from "./nifti.ts";
 * const dir = await Deno.makeTempDir();
 * await writeNifti(`${dir}/t1.nii.gz`, [0, 5, 0, 9], { shape: [2, 2, 1], datatype: "int16" });
 * const t1 = await readNifti(`${dir}/t1.nii.gz`);
 * const mask = t1.data.map((v) => (v > 0 ? 1 : 0));
 * await writeNifti(`${dir}/mask.nii.gz`, mask, {
 *   shape: t1.shape.slice(0, 3),
 *   datatype: "uint8",
 *   reference: t1.header, // same pixdim, qform/sform and affine as the T1
 * });
 * console.log((await readNifti(`${dir}/mask.nii.gz`)).data); // Float32Array [0, 1, 0, 1]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeNifti(
  path: string,
  data: ArrayLike<number>,
  options: NiftiWriterOptions,
): Promise<void> {
  await writeAtomic(path, encodeNifti(data, encoderOptions(path, options)));
}
