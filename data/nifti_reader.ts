/**
 * Whole-volume NIfTI reading (`.nii` and `.nii.gz`, NIfTI-1 and -2, either
 * byte order) into scaled float32 voxels, x fastest.
 *
 * @module
 */

import { ByteQueue, ByteReader } from "./_byte_queue.ts";
import { decodeVoxels } from "./_datatypes.ts";
import { openFileStream, readWholeFile } from "./_file_source.ts";
import {
  checkDataFits,
  dataEndsEarly,
  type NiftiLayout,
  niftiLayout,
  readHeaderAsync,
  readHeaderSync,
} from "./_nifti_layout.ts";
import type { NiftiHeader } from "./nifti_header.ts";

/** A whole NIfTI volume in memory. */
export interface NiftiVolume {
  /** Where it was read from (or the name given to `parseNifti`). */
  path: string;
  /** The parsed header. */
  header: NiftiHeader;
  /** `dim[1..dim[0]]`, as nibabel reports it, e.g. [240, 240, 155]. */
  shape: number[];
  /** Voxels with `scl_slope`/`scl_inter` applied, x fastest, then y, z, t. */
  data: Float32Array;
}

/**
 * Reads and validates a NIfTI file's header without reading its voxels. For a
 * plain `.nii` it also checks the file holds the data the dims promise.
 *
 * @example
 * ```ts
 * import { readNiftiHeader } from "./nifti_reader.ts";
 * const header = await readNiftiHeader("BraTS/flair.nii.gz");
 * console.log(header.dims.slice(1, header.dims[0] + 1), header.affine);
 * ```
 */
export async function readNiftiHeader(path: string): Promise<NiftiHeader> {
  const { size, stream } = await openFileStream(path);
  const reader = new ByteReader(stream, path);
  try {
    await reader.fill(4);
    const gzip = reader.queue.gzip;
    return await readHeaderAsync(reader, (header, layout) => {
      checkDataFits(path, header, layout, { size, gzip });
    });
  } finally {
    await reader.close();
  }
}

/**
 * Reads a whole NIfTI volume into memory as scaled float32 values. Bad files
 * throw InputError naming the file; nothing is allocated from the header's
 * dims before the file has shown it holds that much data.
 *
 * @example
 * ```ts
 * import { readNifti } from "./nifti_reader.ts";
 * const { shape, data, header } = await readNifti("t1.nii.gz");
 * const [nx, ny] = shape;
 * const centre = data[nx * ny * Math.floor(shape[2] / 2) + nx * (ny >> 1) + (nx >> 1)];
 * ```
 */
export async function readNifti(path: string): Promise<NiftiVolume> {
  return parseNifti(await readWholeFile(path), { path });
}

/**
 * Parses a NIfTI file already in memory (plain or gzipped; browser-safe).
 *
 * @example
 * ```ts
 * import { parseNifti } from "./nifti_reader.ts";
 * const bytes = new Uint8Array(await (await fetch("https://example.org/t2.nii.gz")).arrayBuffer());
 * const volume = parseNifti(bytes, { path: "t2.nii.gz" });
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
