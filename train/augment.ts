/**
 * Training-time augmentation of one window of slices: random left-right and
 * front-back flips (the same for every slice of the window, so the sequence
 * stays consistent) and a random intensity scale and shift per modality,
 * applied to brain voxels only so the background stays exactly 0.
 *
 * @module
 */

import { Random } from "../data/random.ts";

/** A window of slices on the CPU, layout [seq][channels][height][width] (x fastest). */
export interface WindowData {
  /** Slices in the window. */
  seq: number;
  /** Image channels (modalities). */
  channels: number;
  /** Rows (y). */
  height: number;
  /** Columns (x). */
  width: number;
  /** Normalised intensities, `seq * channels * height * width` values. */
  image: Float32Array;
  /** Class indices, `seq * height * width` values. */
  classes: Uint8Array;
}

/** Options of {@link augmentWindow}. */
export interface AugmentOptions {
  /** Flip x with probability 1/2. Default true. */
  flipX?: boolean;
  /** Flip y with probability 1/2. Default true. */
  flipY?: boolean;
  /** Intensity scale drawn in [1 - s, 1 + s] per modality. Default 0.1. */
  scale?: number;
  /** Intensity shift (in z-score units) drawn in [-t, t] per modality. Default 0.1. */
  shift?: number;
}

/** What {@link augmentWindow} drew (for tests and logs). */
export interface AugmentDraw {
  /** Whether x was flipped. */
  flipX: boolean;
  /** Whether y was flipped. */
  flipY: boolean;
  /** Scale of each channel. */
  scale: number[];
  /** Shift of each channel. */
  shift: number[];
}

/**
 * Augments a window in place with draws from `key` (e.g. [seed, epoch,
 * step, item]), so the same key always gives the same augmentation.
 *
 * @example
 * ```ts
 * const w = { seq: 1, channels: 1, height: 1, width: 2,
 *   image: new Float32Array([1, 0]), classes: new Uint8Array([1, 0]) };
 * augmentWindow(w, [1, 0, 0, 0], { flipY: false, scale: 0, shift: 0 });
 * // w.image is [1, 0] or [0, 1], w.classes flipped alike
 * ```
 */
export function augmentWindow(
  window: WindowData,
  key: readonly [number, number, number, number],
  options: AugmentOptions = {},
): AugmentDraw {
  const rng = Random.forKey(key[0], key[1], key[2], key[3]);
  const s = options.scale ?? 0.1;
  const t = options.shift ?? 0.1;
  const draw: AugmentDraw = {
    flipX: (options.flipX ?? true) && rng.next() < 0.5,
    flipY: (options.flipY ?? true) && rng.next() < 0.5,
    scale: [],
    shift: [],
  };
  for (let c = 0; c < window.channels; c++) {
    draw.scale.push(1 + s * (2 * rng.next() - 1));
    draw.shift.push(t * (2 * rng.next() - 1));
  }
  const { seq, channels, height: h, width: w } = window;
  const plane = h * w;
  if (draw.flipX || draw.flipY) {
    for (let p = 0; p < seq * channels; p++) flipPlane(window.image, p * plane, w, h, draw);
    for (let z = 0; z < seq; z++) flipPlane(window.classes, z * plane, w, h, draw);
  }
  for (let z = 0; z < seq; z++) {
    for (let c = 0; c < channels; c++) {
      const base = (z * channels + c) * plane;
      const a = draw.scale[c], b = draw.shift[c];
      for (let i = base; i < base + plane; i++) {
        const v = window.image[i];
        if (v !== 0) window.image[i] = v * a + b;
      }
    }
  }
  return draw;
}

/** Flips one h×w plane starting at `base` in place. */
function flipPlane(
  data: Float32Array | Uint8Array,
  base: number,
  w: number,
  h: number,
  draw: { flipX: boolean; flipY: boolean },
): void {
  if (draw.flipX) {
    for (let y = 0; y < h; y++) data.subarray(base + y * w, base + (y + 1) * w).reverse();
  }
  if (draw.flipY) {
    for (let y = 0; y < h >> 1; y++) {
      const a = base + y * w, b = base + (h - 1 - y) * w;
      for (let x = 0; x < w; x++) {
        const tmp = data[a + x];
        data[a + x] = data[b + x];
        data[b + x] = tmp;
      }
    }
  }
}
