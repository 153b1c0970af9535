// This module is browser compatible.
/**
 * The pipeline's source: a case's four modalities read in lockstep (from
 * files, or from volumes in memory), each z-score normalised over the brain
 * with its own statistics (a first pass over the slices gathers them),
 * padded in-plane to the network's multiple (`data/preprocess.ts`) and
 * emitted as depth-ordered windows of `T` slices.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { MODALITIES, type Modality } from "../data/cases.ts";
import { ZScoreAccumulator, type ZScoreStats } from "../data/normalise.ts";
import { cropFor, preprocessSlice, SLICE_MULTIPLE } from "../data/preprocess.ts";
import { type MhaCache, type ModalityReader, openModality } from "./_modality_reader.ts";
import type { SourceInput } from "../data/source.ts";
import type { SliceWindow } from "../model/slice_model.ts";
import type { Crop, StageTimes } from "./records.ts";

/** Options of {@linkcode VolumeSource.open}. */
export interface VolumeSourceOptions {
  /** Slices per window `T` (default 1). */
  depth?: number;
  /** Slices shared by consecutive windows (default 0; must be below `depth`). */
  overlap?: number;
  /** In-plane sizes are padded up to a multiple of this (default {@linkcode SLICE_MULTIPLE}). */
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
  files: Readonly<Record<Modality, SourceInput>>,
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

/** A volume in memory read as slices, like a file's. */
function arrayReader(
  path: string,
  shape: [number, number, number],
  data: Float32Array,
): ModalityReader {
  const plane = shape[0] * shape[1];
  return {
    path,
    shape,
    async *slices() {
      for (let k = 0; k < shape[2]; k++) yield data.subarray(k * plane, (k + 1) * plane);
    },
    close: () => Promise.resolve(),
  };
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
    const crop = cropFor(x, y, { multiple: options.multiple });
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
        preprocessSlice(result.value, stats[m], crop, { out, offset: m * plane });
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
   * Opens a case's four modality sources (bytes, `Blob`s/`File`s, `io`'s
   * file sources; checking that their dims agree), gathers
   * each one's brain statistics in a first pass, and returns the stream of
   * windows of the second pass.
   *
   * @throws {InputError} for an unreadable file or disagreeing dims;
   *   {RangeError} for non-finite voxels or a bad window length/overlap.
   * @example
   * ```ts
   * import { VolumeSource } from "./volume_source.ts";
   * import { encodeNifti } from "../data/nifti_encoder.ts";
   * import { generatePhantom } from "../data/phantom.ts";
   * const p = generatePhantom({ size: [40, 36, 10], seed: 1 });
   * const [flair, t1, t1ce, t2] = (["flair", "t1", "t1ce", "t2"] as const).map((m) =>
   *   new Blob([encodeNifti(p.modalities[m], { shape: p.shape, datatype: "int16" })])
   * );
   * const source = await VolumeSource.open({ flair, t1, t1ce, t2 }, { depth: 8 });
   * const { paddedWidth, paddedHeight } = source.crop;
   * console.log(source.shape, paddedWidth, paddedHeight); // [40, 36, 10] 48 48
   * for await (const w of source) console.log(w.start, w.valid, w.depth, w.channels);
   * // 0 8 8 4, then 8 2 8 4: the last window is filled up with zero slices
   * ```
   */
  static open(
    files: Readonly<Record<Modality, SourceInput>>,
    options: VolumeSourceOptions = {},
  ): Promise<VolumeSource> {
    const cache: MhaCache = new Map();
    return VolumeSource.#fromReaders(() => openAll(files, cache), options);
  }

  /**
   * The same stream over volumes already in memory (one per modality, in
   * channel order, each `[z][y][x]` with x fastest), e.g. validation cases
   * during training: the slices go through exactly what {@linkcode open}'s do.
   *
   * @throws {RangeError} when a volume's length disagrees with `shape`, for
   *   non-finite voxels, or for a bad window length/overlap.
   * @example
   * ```ts
   * import { VolumeSource } from "./volume_source.ts";
   * const volume = new Float32Array(40 * 36 * 5).fill(1);
   * const source = await VolumeSource.fromArrays([volume, volume, volume, volume], [40, 36, 5], {
   *   depth: 3,
   * });
   * for await (const w of source) console.log(w.start, w.valid, w.width); // 0 3 48, then 3 2 48
   * console.log(source.stats[0]); // { count: 7200, mean: 1, std: 1 }: std 1 for constant voxels
   * ```
   */
  static async fromArrays(
    volumes: readonly Float32Array[],
    shape: readonly [number, number, number],
    options: VolumeSourceOptions & { names?: readonly string[] } = {},
  ): Promise<VolumeSource> {
    const [x, y, z] = shape;
    const names = volumes.map((_, m) => options.names?.[m] ?? MODALITIES[m] ?? `channel ${m}`);
    volumes.forEach((v, m) => {
      if (v.length !== x * y * z) {
        throw new RangeError(`${names[m]}: ${v.length} voxels, expected ${x}×${y}×${z}`);
      }
    });
    const readers = () =>
      Promise.resolve(volumes.map((v, m) => arrayReader(names[m], [x, y, z], v)));
    return await VolumeSource.#fromReaders(readers, options);
  }

  /** Statistics pass over one set of readers, then the stream over a second set. */
  static async #fromReaders(
    openReaders: () => Promise<ModalityReader[]>,
    options: VolumeSourceOptions,
  ): Promise<VolumeSource> {
    const depth = options.depth ?? 1;
    const stride = strideOf(depth, options.overlap ?? 0);
    const multiple = options.multiple ?? SLICE_MULTIPLE;
    const t0 = performance.now();
    const stats: ZScoreStats[] = [];
    // Statistics pass: one modality at a time, each reader closed after its pass.
    const first = await openReaders();
    try {
      for (const reader of first) stats.push(await statsOf(reader));
    } finally {
      await closeEach(first);
    }
    const readers = await openReaders();
    if (options.times) options.times.decode += performance.now() - t0;
    return new VolumeSource(readers, stats, { depth, stride, multiple, times: options.times });
  }
}
