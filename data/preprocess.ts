// This module is browser compatible.
/**
 * The one preprocessing path of training, validation and `segment`: each
 * slice is z-scored with its modality's brain statistics
 * ({@linkcode normaliseSlice}) and placed, centred, in a plane padded up to
 * the network's in-plane multiple ({@linkcode SLICE_MULTIPLE}); outputs are
 * cropped back with the same {@linkcode Crop}.
 *
 * @module
 */

import { normaliseSlice, type ZScoreStats } from "./normalise.ts";

/**
 * Slice width and height must be multiples of this: the network pools 2×2
 * four times. Kept in the base layer so model, pipeline and trainer share it.
 */
export const SLICE_MULTIPLE = 16;

/** Where the original slice sits inside the padded one. */
export interface Crop {
  /** Original width (x size). */
  width: number;
  /** Original height (y size). */
  height: number;
  /** Padded width. */
  paddedWidth: number;
  /** Padded height. */
  paddedHeight: number;
  /** Columns of padding before the original's first column. */
  left: number;
  /** Rows of padding before the original's first row. */
  top: number;
}

/**
 * The centred padding of a `width`×`height` slice: up to the next multiples
 * of `multiple` (default {@linkcode SLICE_MULTIPLE}), or into `size` when
 * given (a size shared by several cases, e.g. one training batch).
 *
 * @throws {RangeError} when the slice is larger than `size` or `size` is no multiple.
 * @example
 * ```ts
 * import { cropFor } from "./preprocess.ts";
 * console.log(cropFor(40, 36));
 * // { width: 40, height: 36, paddedWidth: 48, paddedHeight: 48, left: 4, top: 6 }
 * console.log(cropFor(40, 36, { size: [64, 48] }).left); // 12
 * ```
 */
export function cropFor(
  width: number,
  height: number,
  options: { multiple?: number; size?: readonly [number, number] } = {},
): Crop {
  const multiple = options.multiple ?? SLICE_MULTIPLE;
  const [paddedWidth, paddedHeight] = options.size ??
    [roundUp(width, multiple), roundUp(height, multiple)];
  if (width > paddedWidth || height > paddedHeight) {
    throw new RangeError(
      `slices ${width}×${height} exceed the padded size ${paddedWidth}×${paddedHeight}`,
    );
  }
  if (paddedWidth % multiple || paddedHeight % multiple) {
    throw new RangeError(
      `padded size ${paddedWidth}×${paddedHeight} is not a multiple of ${multiple}`,
    );
  }
  return {
    width,
    height,
    paddedWidth,
    paddedHeight,
    left: (paddedWidth - width) >> 1,
    top: (paddedHeight - height) >> 1,
  };
}

/**
 * `n` rounded up to a multiple of `multiple` (default {@linkcode SLICE_MULTIPLE}).
 *
 * @example
 * ```ts
 * import { roundUp } from "./preprocess.ts";
 * console.log(roundUp(240), roundUp(155), roundUp(155, 8)); // 240 160 160
 * ```
 */
export function roundUp(n: number, multiple: number = SLICE_MULTIPLE): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * Copies an unpadded slice into `out` at `offset`, centred as `crop` says;
 * the padding is left as it is (`out` starts zeroed).
 *
 * @example
 * ```ts
 * import { cropFor, padSlice } from "./preprocess.ts";
 * const crop = cropFor(2, 1, { size: [16, 16] });
 * const out = padSlice(new Uint8Array([1, 2]), crop, new Uint8Array(256), 0);
 * console.log(crop.left, crop.top, out[crop.top * 16 + crop.left]); // 7 7 1
 * ```
 */
export function padSlice<T extends Float32Array | Uint8Array>(
  slice: ArrayLike<number>,
  crop: Crop,
  out: T,
  offset: number,
): T {
  for (let y = 0; y < crop.height; y++) {
    const at = offset + (y + crop.top) * crop.paddedWidth + crop.left;
    for (let x = 0; x < crop.width; x++) out[at + x] = slice[y * crop.width + x];
  }
  return out;
}

/**
 * Normalises one slice with its modality's statistics and writes it, padded
 * as `crop` says, into `out` at `offset` (`out` starts zeroed). This is the
 * preprocessing of every slice the network sees.
 *
 * @example
 * ```ts
 * import { cropFor, preprocessSlice } from "./preprocess.ts";
 * const crop = cropFor(2, 1);
 * const out = new Float32Array(crop.paddedWidth * crop.paddedHeight);
 * preprocessSlice(new Float32Array([5, 7]), { count: 2, mean: 6, std: 1 }, crop, { out });
 * const at = crop.top * crop.paddedWidth + crop.left;
 * console.log(out.length, out[at], out[at + 1]); // 256 -1 1: z-scored, centred in 16×16
 * ```
 */
export function preprocessSlice(
  slice: ArrayLike<number>,
  stats: ZScoreStats,
  crop: Crop,
  options: { out?: Float32Array; offset?: number } = {},
): Float32Array {
  const out = options.out ?? new Float32Array(crop.paddedWidth * crop.paddedHeight);
  const offset = options.offset ?? 0;
  const rows = crop.width === crop.paddedWidth ? 1 : crop.height;
  const run = crop.width * (crop.height / rows);
  // Row by row through normaliseSlice itself, so every path normalises with the same arithmetic.
  for (let y = 0; y < rows; y++) {
    const from = y * run;
    const at = offset + (y + crop.top) * crop.paddedWidth + crop.left;
    normaliseSlice(subarray(slice, from, from + run), stats, {
      out: out.subarray(at, at + run),
    });
  }
  return out;
}

/**
 * Crops a padded `[paddedHeight, paddedWidth]` plane back to `[height, width]`.
 *
 * @example
 * ```ts
 * import { cropFor, cropSlice } from "./preprocess.ts";
 * const crop = cropFor(2, 1, { size: [16, 16] });
 * const padded = new Uint8Array(256);
 * padded[crop.top * 16 + crop.left] = 4;
 * console.log(cropSlice(padded, crop)); // Uint8Array [4, 0]
 * ```
 */
export function cropSlice(plane: Uint8Array, crop: Crop): Uint8Array {
  if (crop.width === crop.paddedWidth && crop.height === crop.paddedHeight) return plane;
  const out = new Uint8Array(crop.width * crop.height);
  for (let y = 0; y < crop.height; y++) {
    const from = (y + crop.top) * crop.paddedWidth + crop.left;
    out.set(plane.subarray(from, from + crop.width), y * crop.width);
  }
  return out;
}

/** A view of `values[from, to)` (typed arrays) or a copy of it (other array-likes). */
function subarray(values: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(values)) {
    return (values as unknown as Float32Array).subarray(from, to);
  }
  return Array.prototype.slice.call(values, from, to) as number[];
}
