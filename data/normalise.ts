// This module is browser compatible.
/**
 * Per-case, per-modality z-score normalisation over the brain (non-zero
 * voxels), computed in one streaming pass over slices and applied to
 * streamed slices; background voxels stay exactly 0.
 *
 * @module
 */

/** Mean and standard deviation of a modality's non-zero voxels. */
export interface ZScoreStats {
  /** Number of non-zero voxels seen. */
  count: number;
  /** Their mean. */
  mean: number;
  /** Their (population) standard deviation (1 when they are constant or absent). */
  std: number;
  /** Whether there are non-zero voxels and they all hold one value. */
  constant?: boolean;
}

/**
 * Accumulates z-score statistics slice by slice, without holding the volume.
 * Each slice's sums are taken around its own mean and merged with Chan's
 * formula, so large offsets do not lose precision.
 *
 * @example
 * ```ts
 * import { ZScoreAccumulator } from "./normalise.ts";
 * const acc = new ZScoreAccumulator();
 * acc.add(new Float32Array([0, 2, 4]));
 * acc.add(new Float32Array([6, 0]));
 * console.log(acc.stats()); // { count: 3, mean: 4, std: 1.633…, constant: false }: zeros are background
 * ```
 */
export class ZScoreAccumulator {
  #count = 0;
  #mean = 0;
  #m2 = 0;
  #path?: string;

  /** `path` names the volume in the error a non-finite value raises. */
  constructor(options: { path?: string } = {}) {
    this.#path = options.path;
  }

  /** Adds one slice (any shape); zeros are ignored as background. */
  add(slice: ArrayLike<number>): void {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < slice.length; i++) {
      const v = slice[i];
      if (v !== 0) {
        n++;
        sum += v;
      }
    }
    if (n === 0) return;
    if (!Number.isFinite(sum)) {
      const where = this.#path ? `${this.#path}: ` : "";
      throw new RangeError(`${where}volume holds non-finite values (NaN or infinity)`);
    }
    const mean = sum / n;
    let m2 = 0;
    for (let i = 0; i < slice.length; i++) {
      const v = slice[i];
      if (v !== 0) m2 += (v - mean) * (v - mean);
    }
    const total = this.#count + n;
    const delta = mean - this.#mean;
    this.#m2 += m2 + delta * delta * this.#count * n / total;
    this.#mean += delta * n / total;
    this.#count = total;
  }

  /** The statistics so far (`std` is 1 when the voxels are constant or absent, to avoid dividing by 0). */
  stats(): ZScoreStats {
    const std = this.#count > 0 ? Math.sqrt(this.#m2 / this.#count) : 0;
    const constant = this.#count > 0 && std <= 1e-12 * Math.max(1, Math.abs(this.#mean));
    return { count: this.#count, mean: this.#mean, std: constant || std === 0 ? 1 : std, constant };
  }
}

/**
 * Computes z-score statistics of a volume streamed as slices.
 *
 * @example
 * ```ts
 * import { zScoreStats } from "./normalise.ts";
 * import { encodeNifti } from "./nifti_encoder.ts";
 * import { niftiSlicesFromStream } from "./nifti_slices.ts";
 * const bytes = encodeNifti([0, 2, 0, 4, 6, 0, 0, 0], { shape: [2, 2, 2], datatype: "int16" });
 * const flair = await niftiSlicesFromStream(new Blob([bytes]), { name: "x_flair.nii.gz" });
 * console.log(await zScoreStats(flair.slices())); // { count: 3, mean: 4, std: 1.633… }
 * ```
 */
export async function zScoreStats(
  slices: AsyncIterable<ArrayLike<number>> | Iterable<ArrayLike<number>>,
  options: { path?: string } = {},
): Promise<ZScoreStats> {
  const acc = new ZScoreAccumulator(options);
  for await (const slice of slices) acc.add(slice);
  return acc.stats();
}

/**
 * Normalises one slice: `(v - mean) / std` for non-zero voxels, 0 stays 0.
 *
 * @example
 * ```ts
 * import { normaliseSlice } from "./normalise.ts";
 * const out = normaliseSlice(new Float32Array([0, 5, 7]), { count: 2, mean: 6, std: 1 });
 * console.log(out); // Float32Array [0, -1, 1]
 * ```
 */
export function normaliseSlice(
  slice: ArrayLike<number>,
  stats: ZScoreStats,
  options: { out?: Float32Array } = {},
): Float32Array {
  const out = options.out ?? new Float32Array(slice.length);
  const scale = 1 / stats.std;
  for (let i = 0; i < slice.length; i++) {
    const v = slice[i];
    out[i] = v === 0 ? 0 : (v - stats.mean) * scale;
  }
  return out;
}

/**
 * A stream stage that z-score normalises each slice with fixed statistics
 * (computed beforehand by {@link zScoreStats}).
 *
 * @example
 * ```ts
 * import { NormaliseStream, zScoreStats } from "./normalise.ts";
 * const slices = [new Float32Array([0, 5]), new Float32Array([7, 0])];
 * const stats = await zScoreStats(slices);
 * const normalised = ReadableStream.from(slices).pipeThrough(new NormaliseStream(stats));
 * for await (const slice of normalised) console.log(slice); // [0, -1], then [1, 0]
 * ```
 */
export class NormaliseStream extends TransformStream<ArrayLike<number>, Float32Array> {
  /** Makes a stage normalising every slice with `stats`. */
  constructor(stats: ZScoreStats) {
    super({ transform: (slice, controller) => controller.enqueue(normaliseSlice(slice, stats)) });
  }
}
