// The tall volume of the NIfTI streaming-memory bench and of its functional test: 240×240×620 int16.
import { NiftiEncoder } from "../data/nifti_encoder.ts";

/** Its shape: a head-like 240×240 ellipse of varied values, 620 slices deep (4× a BraTS case). */
export const TALL_SHAPE: [number, number, number] = [240, 240, 620];

/** Bytes of the volume as int16. */
export const TALL_VOLUME_BYTES: number = TALL_SHAPE[0] * TALL_SHAPE[1] * TALL_SHAPE[2] * 2;

/** One slice of the tall volume, zero outside the ellipse, like a real scan. */
function tallSlice(z: number): Int16Array {
  const [nx, ny] = TALL_SHAPE;
  const slice = new Int16Array(nx * ny);
  for (let y = 0; y < ny; y++) {
    const half = 100 * Math.sqrt(Math.max(0, 1 - ((y - 120) / 110) ** 2));
    for (let x = 0; x < nx; x++) {
      slice[y * nx + x] = Math.abs(x - 120) < half
        ? ((x * 31 + y * 17 + z * 7) % 1500) + (((x * y) ^ z) & 63)
        : 0;
    }
  }
  return slice;
}

/**
 * Writes the tall volume to `path` as `.nii.gz` (gzip level 1), slice by slice;
 * returns the sum of its voxels.
 *
 * @example
 * ```ts
 * const sum = await writeTallNifti("/tmp/tall.nii.gz");
 * ```
 */
export async function writeTallNifti(path: string): Promise<number> {
  let sum = 0;
  const slices = ReadableStream.from((function* () {
    for (let z = 0; z < TALL_SHAPE[2]; z++) {
      const slice = tallSlice(z);
      for (const v of slice) sum += v;
      yield slice;
    }
  })());
  const file = await Deno.create(path);
  await slices.pipeThrough(new NiftiEncoder({ shape: TALL_SHAPE, datatype: "int16", level: 1 }))
    .pipeTo(file.writable);
  return sum;
}
