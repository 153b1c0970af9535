/**
 * Segmenting a case on disk: its files opened as sources, the pipeline's
 * output written atomically to a path.
 *
 * @module
 */

import type { Case } from "../data/cases.ts";
import {
  type SegmentCaseOptions,
  type SegmentCaseResult,
  segmentSources,
} from "../pipeline/segment_case.ts";
import { fileSources } from "./cases.ts";
import { writeAtomic } from "./atomic_write.ts";

/**
 * Segments one case into `outPath` (uint8 NIfTI, gzipped if it ends in
 * `.gz`, with the FLAIR's geometry). The file appears only when complete;
 * a failure or an abort leaves nothing behind.
 *
 * @throws {InputError} for bad input files; an `AbortError` when aborted.
 * @example
 * ```ts
 * import { segmentCase } from "./segment.ts";
 * import { loadModel } from "./checkpoint.ts";
 * import { readNifti, writeNifti } from "./nifti.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * const dir = await Deno.makeTempDir();
 * const phantom = generatePhantom({ size: [32, 32, 8], seed: 1 });
 * const modalities = {
 *   flair: `${dir}/x_flair.nii.gz`,
 *   t1: `${dir}/x_t1.nii.gz`,
 *   t1ce: `${dir}/x_t1ce.nii.gz`,
 *   t2: `${dir}/x_t2.nii.gz`,
 * };
 * for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
 *   const options = { shape: phantom.shape, datatype: "int16", affine: phantom.affine } as const;
 *   await writeNifti(modalities[m], phantom.modalities[m], options);
 * }
 * const model = await loadModel("models/default.safetensors");
 * const result = await segmentCase({ modalities }, `${dir}/x.nii.gz`, { model });
 * model.release();
 * const labels = await readNifti(`${dir}/x.nii.gz`);
 * console.log(result.shape, labels.header.datatypeName); // [32, 32, 8] "uint8"
 * console.log(labels.header.affine.join() === phantom.affine.join()); // true: the FLAIR's geometry
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function segmentCase<State>(
  input: Pick<Case, "modalities">,
  outPath: string,
  options: Omit<SegmentCaseOptions<State>, "probabilities"> & {
    /** Also write the class probabilities (4-D uint8 NIfTI, 255 = 1) to this path. */
    probabilitiesPath?: string;
  },
): Promise<SegmentCaseResult> {
  const t0 = performance.now();
  options.signal?.throwIfAborted();
  const sources = await fileSources(input.modalities);
  const { probabilitiesPath, ...rest } = options;
  const labels = atomicStream(outPath);
  const probabilities = probabilitiesPath ? atomicStream(probabilitiesPath) : undefined;
  try {
    const result = await segmentSources(sources, labels.writable, {
      gzip: /\.gz$/i.test(outPath),
      name: outPath,
      ...rest,
      probabilities: probabilities?.writable,
    });
    await labels.written;
    await probabilities?.written;
    return { ...result, seconds: (performance.now() - t0) / 1000 };
  } catch (error) {
    // The temporary files are gone before the error is reported; labels without their
    // probabilities are removed too, so the case is redone as a whole.
    const labelsWritten = await labels.written.then(() => true, () => false);
    await probabilities?.written.catch(() => {});
    if (probabilities && labelsWritten) await Deno.remove(outPath).catch(() => {});
    throw error;
  }
}

/** A stream whose bytes become the file at `path` once closed (nothing, if aborted). */
function atomicStream(
  path: string,
): { writable: WritableStream<Uint8Array>; written: Promise<void> } {
  const file = new TransformStream<Uint8Array, Uint8Array>();
  const written = writeAtomic(path, file.readable).then(() => {});
  written.catch(() => {}); // awaited by the caller either way
  return { writable: file.writable, written };
}
