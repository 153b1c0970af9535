// This module is browser compatible.
// Opens one modality's volume for slice-by-slice reading: NIfTI streams, MetaImage is read whole.
import { InputError } from "../data/input_error.ts";
import { decodeMha } from "../data/mha.ts";
import { niftiSlicesFromStream } from "../data/nifti_slices.ts";
import { type NamedSource, namedSource, type SourceInput, toBytes } from "../data/source.ts";

/** A volume being read as axial slices in depth order. */
export interface ModalityReader {
  /** The source's name (a file's path). */
  path: string;
  /** Spatial size [x, y, z]. */
  shape: [number, number, number];
  /** Voxel spacing in mm [x, y, z], from the header (absent for volumes made in memory). */
  spacing?: [number, number, number];
  /** The slices, each `x*y` values, x fastest. */
  slices(): AsyncGenerator<Float32Array>;
  /** Releases the file (safe to call more than once). */
  close(): Promise<void>;
}

/** Whole MetaImage volumes read once per case, shared between the statistics and slice passes. */
export type MhaCache = Map<
  SourceInput,
  Promise<{ shape: number[]; data: Float32Array; header: { spacing: number[] } }>
>;

function spatialShape(path: string, shape: readonly number[]): [number, number, number] {
  const extra = shape.slice(3).filter((d) => d !== 1);
  if (shape.length < 2 || extra.length > 0) {
    throw new InputError(path, `is ${shape.join("×")}; expected one 3-D volume`);
  }
  return [shape[0], shape[1], shape[2] ?? 1];
}

/** The first three spacings as `eval` reads them (absolute, in mm). */
function spacingOf(values: readonly number[]): [number, number, number] {
  return [Math.abs(values[0]), Math.abs(values[1]), Math.abs(values[2])];
}

/** A MetaImage volume read whole, its data file (if separate) from beside it. */
async function readMha(
  source: NamedSource,
): Promise<{ shape: number[]; data: Float32Array; header: { spacing: number[] } }> {
  const sibling = source.sibling?.bind(source);
  return await decodeMha(await toBytes(source), {
    path: source.name,
    readDataFile: sibling && (async (name) => await toBytes(await sibling(name))),
  });
}

/**
 * Opens a source (NIfTI streamed; MetaImage, told apart by a `.mha`/`.mhd`
 * name, through `cache`, read whole). Unnamed bytes are named `<bytes>`.
 */
export async function openModality(
  input: SourceInput,
  cache: MhaCache,
): Promise<ModalityReader> {
  const source = namedSource(input, "<bytes>");
  const path = source.name;
  if (/\.mh[ad]$/i.test(path)) {
    let volume = cache.get(input);
    if (!volume) cache.set(input, volume = readMha(source));
    const { shape, data, header } = await volume;
    const [x, y, z] = spatialShape(path, shape);
    const plane = x * y;
    return {
      path,
      shape: [x, y, z],
      spacing: spacingOf([...header.spacing, 1, 1]),
      async *slices() {
        for (let k = 0; k < z; k++) yield data.subarray(k * plane, (k + 1) * plane);
      },
      close: () => Promise.resolve(),
    };
  }
  const volume = await niftiSlicesFromStream(source, { name: path });
  try {
    const shape = spatialShape(path, volume.shape);
    let closing: Promise<void> | null = null;
    const close = () => closing ??= volume.close();
    const spacing = spacingOf(volume.header.pixdim.slice(1));
    return { path, shape, spacing, slices: () => volume.slices(), close };
  } catch (error) {
    await volume.close();
    throw error;
  }
}
