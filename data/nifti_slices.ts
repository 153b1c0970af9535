// This module is browser compatible.
/**
 * Streaming NIfTI reading: axial slices (the 3rd axis) one at a time, in depth
 * order, decompressing `.nii.gz` on the fly with fflate's streaming `Gunzip`,
 * so the whole volume is never in memory.
 *
 * @module
 */

import { ByteReader } from "./_byte_queue.ts";
import { decodeVoxels } from "./_datatypes.ts";
import { checkDataFits, dataEndsEarly, niftiLayout, readHeaderAsync } from "./_nifti_layout.ts";
import type { NiftiHeader } from "./nifti_header.ts";
import { type ByteInput, sourceSize, toStream } from "./source.ts";

/** Which volume of a 4-D (or higher) file to stream. */
export interface NiftiSliceOptions {
  /** Index of the 3-D volume (default 0), or "all" for every volume in file order. */
  volume?: number | "all";
}

/** An open NIfTI file whose axial slices can be streamed once. */
export interface NiftiSliceReader {
  /** The file (or stream name). */
  readonly path: string;
  /** The parsed header. */
  readonly header: NiftiHeader;
  /** `dim[1..dim[0]]` of the file, as nibabel reports it. */
  readonly shape: number[];
  /** How many slices `slices()` yields: nz, or nz × volumes for `volume: "all"`. */
  readonly sliceCount: number;
  /** Scaled slices of nx × ny float32 values (x fastest), in depth order. */
  slices(): AsyncGenerator<Float32Array>;
  /** The same in float64, for exact statistics of float64 data. */
  slices64(): AsyncGenerator<Float64Array>;
  /** Stops reading and releases the file (also done when iteration ends). */
  close(): Promise<void>;
}

/**
 * Opens any NIfTI byte input (bytes, a `Blob`/`File`, a file source, a
 * `fetch` body) for slice-by-slice reading. The header is read and
 * validated now (InputError for bad input); voxels are decompressed only as
 * slices are requested. `size` (known for all but streams) lets absurd dims
 * be rejected before reading on.
 *
 * @example
 * ```ts
 * import { niftiSlicesFromStream } from "./nifti_slices.ts";
 * import { encodeNifti } from "./nifti_encoder.ts";
 * const voxels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
 * const bytes = encodeNifti(voxels, { shape: [2, 2, 3], datatype: "uint8" });
 * const reader = await niftiSlicesFromStream(new Blob([bytes]), { name: "x.nii.gz" });
 * console.log(reader.shape, reader.sliceCount); // [2, 2, 3] 3
 * for await (const slice of reader.slices()) console.log(slice);
 * // Float32Array [0, 1, 2, 3], then [4, 5, 6, 7], then [8, 9, 10, 11]
 * ```
 */
export async function niftiSlicesFromStream(
  source: ByteInput,
  options: NiftiSliceOptions & { name: string; size?: number },
): Promise<NiftiSliceReader> {
  const path = options.name;
  const size = options.size ?? sourceSize(source);
  const reader = new ByteReader(toStream(source), path);
  let header: NiftiHeader;
  try {
    await reader.fill(4);
    const gzip = reader.queue.gzip;
    header = await readHeaderAsync(reader, (h, layout) => {
      if (size !== undefined) checkDataFits(path, h, layout, { size, gzip });
    });
  } catch (error) {
    await reader.close();
    throw error;
  }
  const layout = niftiLayout(header);
  const volume = options.volume ?? 0;
  if (volume !== "all" && !(Number.isInteger(volume) && volume >= 0 && volume < layout.volumes)) {
    await reader.close();
    throw new RangeError(`${path}: volume ${volume} does not exist (${layout.volumes} volumes)`);
  }
  const sliceCount = volume === "all" ? layout.nz * layout.volumes : layout.nz;
  let started = false;

  async function* generate<T extends Float32Array | Float64Array>(
    make: (n: number) => T,
  ): AsyncGenerator<T> {
    if (started) throw new Error(`${path}: slices can be streamed only once`);
    started = true;
    const queue = reader.queue;
    try {
      const skip = volume === "all" ? 0 : volume * layout.volumeBytes;
      const short = () => dataEndsEarly(path, layout, queue.produced - header.voxOffset);
      if (!(await reader.skip(skip))) throw short();
      for (let z = 0; z < sliceCount; z++) {
        if (!(await reader.fill(layout.sliceBytes))) throw short();
        // Allocate only after the slice's bytes have arrived: bogus dims cannot size it.
        const out = make(layout.sliceVoxels);
        decodeVoxels(
          queue.take(layout.sliceBytes),
          layout.type,
          layout.littleEndian,
          out,
          layout.scaling,
        );
        yield out;
      }
    } finally {
      await reader.close();
    }
  }

  return {
    path,
    header,
    shape: layout.shape,
    sliceCount,
    slices: () => generate((n) => new Float32Array(n)),
    slices64: () => generate((n) => new Float64Array(n)),
    close: () => reader.close(),
  };
}
