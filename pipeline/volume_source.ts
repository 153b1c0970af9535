/**
 * The pipeline's source: a case's four modalities read in lockstep, each
 * z-score normalised over the brain with its own statistics (a first pass
 * over the slices gathers them), padded in-plane to the network's multiple
 * and emitted as depth-ordered windows of `T` slices.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { MODALITIES, type Modality } from "../data/cases.ts";
import { normaliseSlice, ZScoreAccumulator, type ZScoreStats } from "../data/normalise.ts";
import { cropFor, padInto } from "./_geometry.ts";
import { type MhaCache, type ModalityReader, openModality } from "./_modality_reader.ts";
import type { SliceWindow } from "../model/slice_model.ts";
import type { Crop, StageTimes } from "./records.ts";

/** Options of {@linkcode VolumeSource.open}. */
export interface VolumeSourceOptions {
  /** Slices per window `T` (default 1). */
  depth?: number;
  /** Slices shared by consecutive windows (default 0; must be below `depth`). */
  overlap?: number;
  /** In-plane sizes are padded up to a multiple of this (default 16). */
  multiple?: number;
  /** Time spent reading and normalising is added to `times.decode`. */
  times?: StageTimes;
}

/** Validates window length and overlap, returning the stride between window starts. */
function strideOf(depth: number, overlap: number): number {
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`Window length must be a positive integer, got ${depth}`);
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= depth) {
    throw new RangeError(`Window overlap must be an integer in 0..${depth - 1}, got ${overlap}`);
  }
  return depth - overlap;
}

async function openAll(
  files: Readonly<Record<Modality, string>>,
  cache: MhaCache,
): Promise<ModalityReader[]> {
  const readers: ModalityReader[] = [];
  try {
    for (const m of MODALITIES) {
      const reader = await openModality(files[m], cache);
      readers.push(reader);
      const ref = readers[0];
      if (reader.shape.join() !== ref.shape.join()) {
        throw new InputError(
          reader.path,
          `${m} dims ${reader.shape.join("×")} differ from flair's ${ref.shape.join("×")}`,
        );
      }
    }
    return readers;
  } catch (error) {
    await closeEach(readers);
    throw error;
  }
}

/** Closes every reader, even if one fails to close. */
async function closeEach(readers: ModalityReader[]): Promise<void> {
  await Promise.allSettled(readers.map((r) => r.close()));
}

async function statsOf(reader: ModalityReader): Promise<ZScoreStats> {
  const acc = new ZScoreAccumulator({ path: reader.path });
  try {
    for await (const slice of reader.slices()) acc.add(slice);
  } finally {
    await reader.close();
  }
  return acc.stats();
}

/**
 * A `ReadableStream` of {@linkcode SliceWindow}s over one case: windows of
 * `depth` slices starting every `depth - overlap` slices (the last one's
 * missing slices are zero padding, see {@linkcode SliceWindow.valid}).
 * Only the slices of the current window are held, so memory does not grow
 * with the volume's depth; the stream's high-water mark of one window lets
 * the next window be read while the model runs.
 */
export class VolumeSource extends ReadableStream<SliceWindow> {
  /** Volume size [x, y, z]. */
  readonly shape: [number, number, number];
  /** How slices are padded (and must be cropped back). */
  readonly crop: Crop;
  /** Each modality's normalisation statistics, in channel order. */
  readonly stats: readonly ZScoreStats[];

  private constructor(
    readers: ModalityReader[],
    stats: ZScoreStats[],
    options: { depth: number; stride: number; multiple: number; times?: StageTimes },
  ) {
    const [x, y, z] = readers[0].shape;
    const crop = cropFor(x, y, options.multiple);
    const iterators = readers.map((r) => r.slices());
    const plane = crop.paddedWidth * crop.paddedHeight;
    const channels = readers.length;
    const held: Float32Array[] = []; // padded multi-modal slices from `heldStart` on
    let heldStart = 0;
    let start = 0;
    const closeAll = () => closeEach(readers);
    const readSlice = async (k: number): Promise<Float32Array> => {
      const out = new Float32Array(channels * plane);
      const results = await Promise.all(iterators.map((it) => it.next()));
      results.forEach((result, m) => {
        if (result.done) {
          throw new InputError(readers[m].path, `ended after ${k} of ${z} slices`);
        }
        const normalised = normaliseSlice(result.value, stats[m]);
        padInto(normalised, crop, out, m * plane);
      });
      return out;
    };
    super({
      pull: async (controller) => {
        const t0 = performance.now();
        try {
          const end = Math.min(start + options.depth, z);
          while (heldStart + held.length < end) held.push(await readSlice(heldStart + held.length));
          const valid = end - start;
          const depth = z >= options.depth ? options.depth : valid;
          const data = new Float32Array(depth * channels * plane);
          for (let k = 0; k < valid; k++) {
            data.set(held[start - heldStart + k], k * channels * plane);
          }
          const next = end >= z ? z : start + options.stride;
          controller.enqueue({
            start,
            depth,
            valid,
            channels,
            height: crop.paddedHeight,
            width: crop.paddedWidth,
            data,
            settled: next,
            total: z,
          });
          held.splice(0, next - heldStart);
          heldStart = next;
          start = next;
          if (end >= z) {
            await closeAll();
            controller.close();
          }
        } catch (error) {
          await closeAll();
          throw error;
        } finally {
          if (options.times) options.times.decode += performance.now() - t0;
        }
      },
      cancel: closeAll,
    }, { highWaterMark: 1 });
    this.shape = [x, y, z];
    this.crop = crop;
    this.stats = stats;
  }

  /**
   * Opens a case's four modalities (checking that their dims agree), gathers
   * each one's brain statistics in a first pass, and returns the stream of
   * windows of the second pass.
   *
   * @throws {InputError} for an unreadable file or disagreeing dims;
   *   {RangeError} for non-finite voxels or a bad window length/overlap.
   * @example
   * ```ts
   * import { VolumeSource } from "./volume_source.ts";
   * const source = await VolumeSource.open(
   *   { flair: "c_flair.nii.gz", t1: "c_t1.nii.gz", t1ce: "c_t1ce.nii.gz", t2: "c_t2.nii.gz" },
   *   { depth: 8 },
   * );
   * for await (const w of source) console.log(w.start, w.depth, w.height, w.width);
   * ```
   */
  static async open(
    files: Readonly<Record<Modality, string>>,
    options: VolumeSourceOptions = {},
  ): Promise<VolumeSource> {
    const depth = options.depth ?? 1;
    const stride = strideOf(depth, options.overlap ?? 0);
    const multiple = options.multiple ?? 16;
    const t0 = performance.now();
    const cache: MhaCache = new Map();
    const stats: ZScoreStats[] = [];
    // Statistics pass: one modality at a time, each reader closed after its pass.
    const first = await openAll(files, cache);
    try {
      for (const reader of first) stats.push(await statsOf(reader));
    } finally {
      await closeEach(first);
    }
    const readers = await openAll(files, cache);
    if (options.times) options.times.decode += performance.now() - t0;
    return new VolumeSource(readers, stats, { depth, stride, multiple, times: options.times });
  }
}
