// Opens one modality's volume for slice-by-slice reading: NIfTI streams, MetaImage is read whole.
import { InputError } from "../data/input_error.ts";
import { readMha } from "../data/mha.ts";
import { openNiftiSlices } from "../data/nifti_slices.ts";

/** A volume being read as axial slices in depth order. */
export interface ModalityReader {
  /** The file. */
  path: string;
  /** Spatial size [x, y, z]. */
  shape: [number, number, number];
  /** The slices, each `x*y` values, x fastest. */
  slices(): AsyncGenerator<Float32Array>;
  /** Releases the file (safe to call more than once). */
  close(): Promise<void>;
}

/** Whole MetaImage volumes read once per case, shared between the statistics and slice passes. */
export type MhaCache = Map<string, Promise<{ shape: number[]; data: Float32Array }>>;

function spatialShape(path: string, shape: readonly number[]): [number, number, number] {
  const extra = shape.slice(3).filter((d) => d !== 1);
  if (shape.length < 2 || extra.length > 0) {
    throw new InputError(path, `is ${shape.join("×")}; expected one 3-D volume`);
  }
  return [shape[0], shape[1], shape[2] ?? 1];
}

/** Opens `path` (NIfTI streamed; MetaImage through `cache`, read whole). */
export async function openModality(path: string, cache: MhaCache): Promise<ModalityReader> {
  if (/\.mh[ad]$/i.test(path)) {
    let volume = cache.get(path);
    if (!volume) cache.set(path, volume = readMha(path));
    const { shape, data } = await volume;
    const [x, y, z] = spatialShape(path, shape);
    const plane = x * y;
    return {
      path,
      shape: [x, y, z],
      async *slices() {
        for (let k = 0; k < z; k++) yield data.subarray(k * plane, (k + 1) * plane);
      },
      close: () => Promise.resolve(),
    };
  }
  const volume = await openNiftiSlices(path);
  try {
    const shape = spatialShape(path, volume.shape);
    let closing: Promise<void> | null = null;
    const close = () => closing ??= volume.close();
    return { path, shape, slices: () => volume.slices(), close };
  } catch (error) {
    await volume.close();
    throw error;
  }
}
