// This module is browser compatible.
/**
 * Whole-volume NIfTI reading (`.nii` and `.nii.gz`, NIfTI-1 and -2, either
 * byte order) into scaled float32 voxels, x fastest.
 *
 * @module
 */

import { ByteQueue, ByteReader } from "./_byte_queue.ts";
import { decodeVoxels } from "./_datatypes.ts";
import {
  checkDataFits,
  dataEndsEarly,
  type NiftiLayout,
  niftiLayout,
  readHeaderAsync,
  readHeaderSync,
} from "./_nifti_layout.ts";
import type { NiftiHeader } from "./nifti_header.ts";
import { type ByteInput, sourceSize, toStream } from "./source.ts";

/** A whole NIfTI volume in memory. */
export interface NiftiVolume {
  /** Where it was read from (the name given to `parseNifti`). */
  path: string;
  /** The parsed header. */
  header: NiftiHeader;
  /** `dim[1..dim[0]]`, as nibabel reports it, e.g. [240, 240, 155]. */
  shape: number[];
  /** Voxels with `scl_slope`/`scl_inter` applied, x fastest, then y, z, t. */
  data: Float32Array;
}

/**
 * Reads and validates a NIfTI header from the start of any byte input
 * without reading the voxels (a stream is cancelled after the header). With
 * `size` (known for bytes, Blobs and files) a plain `.nii` is also checked to
 * hold the data its dims promise.
 *
 * @example
 * ```ts
 * import { niftiHeaderFromStream } from "./nifti_reader.ts";
 * import { encodeNifti } from "./nifti_encoder.ts";
 * const plain = { shape: [2, 2, 1], datatype: "uint8", gzip: false } as const; // a `.nii`
 * const bytes = encodeNifti(new Uint8Array(4), plain);
 * const file = new Blob([bytes]);
 * const header = await niftiHeaderFromStream(file, { name: "x.nii" });
 * console.log(header.dims.slice(1, 4)); // [2, 2, 1]
 * ```
 */
export async function niftiHeaderFromStream(
  source: ByteInput,
  options: { name?: string; size?: number } = {},
): Promise<NiftiHeader> {
  const path = options.name ?? "<bytes>";
  const size = options.size ?? sourceSize(source);
  const reader = new ByteReader(toStream(source), path);
  try {
    await reader.fill(4);
    const gzip = reader.queue.gzip;
    return await readHeaderAsync(reader, (header, layout) => {
      if (size !== undefined) checkDataFits(path, header, layout, { size, gzip });
    });
  } finally {
    await reader.close();
  }
}

/**
 * Parses a NIfTI file already in memory (plain or gzipped). Bad bytes throw
 * InputError naming `path`; nothing is allocated from the header's dims
 * before the bytes have shown they hold that much data.
 *
 * @example
 * ```ts
 * import { parseNifti } from "./nifti_reader.ts";
 * import { encodeNifti } from "./nifti_encoder.ts";
 * const bytes = encodeNifti(new Uint8Array(24), { shape: [4, 3, 2], datatype: "uint8" });
 * const { shape, data } = parseNifti(bytes, { path: "t2.nii.gz" });
 * console.log(shape, data.length); // [4, 3, 2] 24
 * ```
 */
export function parseNifti(bytes: Uint8Array, options: { path?: string } = {}): NiftiVolume {
  const path = options.path ?? "<bytes>";
  const queue = new ByteQueue(path);
  queue.supply(bytes);
  const header = readHeaderSync(queue);
  const layout = niftiLayout(header);
  checkDataFits(path, header, layout, { size: bytes.length, gzip: queue.gzip });
  return { path, header, shape: layout.shape, data: readVoxels(queue, layout, path) };
}

/** Bytes moved per step: a multiple of every voxel size. */
const STEP = 1 << 20;

function readVoxels(queue: ByteQueue, layout: NiftiLayout, path: string): Float32Array {
  // Gather the raw bytes first so the output is allocated only once they have proven to exist.
  const pieces: Uint8Array[] = [];
  let got = 0;
  while (got < layout.dataBytes) {
    const n = Math.min(STEP, layout.dataBytes - got);
    if (!queue.fillAll(n)) throw dataEndsEarly(path, layout, got + queue.available);
    pieces.push(queue.take(n));
    got += n;
  }
  const bytesPerVoxel = layout.type.bytes;
  const out = new Float32Array(layout.dataBytes / bytesPerVoxel);
  let at = 0;
  for (const piece of pieces) {
    const count = piece.length / bytesPerVoxel;
    decodeVoxels(
      piece,
      layout.type,
      layout.littleEndian,
      out.subarray(at, at + count),
      layout.scaling,
    );
    at += count;
  }
  return out;
}
