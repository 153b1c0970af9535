// This module is browser compatible.
/**
 * Training-time augmentation of one window of slices, as nnU-Net does it:
 * one spatial transform per window (in-plane rotation, scaling, optional
 * elastic deformation, mirroring, and the patch crop), the same for every
 * slice and for the labels, applied in one inverse-mapped resampling pass
 * (images bilinear, labels nearest-neighbour, outside the slice 0); then
 * per-modality gamma, brightness, contrast, noise, blur and simulated low
 * resolution on brain voxels only, so the background stays exactly 0. Every
 * draw comes from `Random.forKey(key)` (e.g. seed, epoch, step, window), so
 * a resumed run augments exactly as an uninterrupted one.
 *
 * @module
 */

import { Random } from "../data/random.ts";
import {
  type AugmentDraw,
  changesIntensity,
  drawAugmentation,
  identityDraw,
} from "./_augment_draw.ts";
import { applyIntensity, brainMask } from "./_augment_intensity.ts";
import { type Planes, resampleWindow } from "./_augment_spatial.ts";
import {
  type AugmentOptions,
  type AugmentSettings,
  resolveAugmentation,
} from "./augment_settings.ts";

export type { AugmentDraw, ChannelDraw } from "./_augment_draw.ts";
export {
  AUGMENT_PRESETS,
  augmentationHelp,
  type AugmentOptions,
  type AugmentPreset,
  type AugmentSettings,
  type ChannelTransformSetting,
  describeAugmentation,
  type ElasticSetting,
  type GammaSetting,
  resolveAugmentation,
  type TransformSetting,
} from "./augment_settings.ts";

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

/**
 * Augments a window in place with draws from `key` (e.g. [seed, epoch,
 * step, item]), so the same key always gives the same augmentation; returns
 * what was drawn.
 *
 * @example
 * ```ts
 * import { augmentWindow } from "./augment.ts";
 * const w = { seq: 1, channels: 1, height: 2, width: 2,
 *   image: new Float32Array([1, 2, 3, 0]), classes: new Uint8Array([1, 0, 0, 0]) };
 * const draw = augmentWindow(w, [1, 0, 0, 0], { preset: "none", mirror: { p: 1 } });
 * [draw.mirrorX, draw.mirrorY]; // [true, true]
 * [...w.image]; // [0, 3, 2, 1]; labels alike: [0, 0, 0, 1]
 * ```
 */
export function augmentWindow(
  window: WindowData,
  key: readonly [number, number, number, number],
  options: AugmentOptions | AugmentSettings = {},
): AugmentDraw {
  const draw = drawAugmentation(
    resolveAugmentation(options),
    Random.forKey(key[0], key[1], key[2], key[3]),
    window.channels,
  );
  const out = {
    image: new Float32Array(window.image.length),
    classes: new Uint8Array(window.classes.length),
    width: window.width,
    height: window.height,
  };
  augmentInto(window, out, { seq: window.seq, channels: window.channels, left: 0, top: 0, draw });
  window.image.set(out.image);
  window.classes.set(out.classes);
  return draw;
}

/**
 * Draws a window's augmentation from `key` with resolved `settings` (null:
 * the identity), the same draws {@linkcode augmentWindow} makes.
 *
 * @example
 * ```ts
 * import { drawWindowAugmentation, resolveAugmentation } from "./augment.ts";
 * const draw = drawWindowAugmentation(resolveAugmentation(), [1, 0, 0, 0], 4);
 * draw.channels.length; // 4
 * ```
 */
export function drawWindowAugmentation(
  settings: AugmentSettings | null,
  key: readonly [number, number, number, number],
  channels: number,
): AugmentDraw {
  if (!settings) return identityDraw(channels);
  return drawAugmentation(settings, Random.forKey(key[0], key[1], key[2], key[3]), channels);
}

/**
 * Writes the augmented window `src` into `dst` (which may be smaller, a
 * crop starting at `left`, `top` before the spatial transform, or larger:
 * padding): one resampling pass for the spatial part of `draw`, then its
 * intensity part on the brain voxels of `dst`.
 *
 * @example
 * ```ts
 * import { augmentInto, drawWindowAugmentation } from "./augment.ts";
 * const src = { width: 4, height: 4, image: new Float32Array(16).map((_, i) => i + 1),
 *   classes: new Uint8Array(16) };
 * const dst = { width: 2, height: 2, image: new Float32Array(4), classes: new Uint8Array(4) };
 * const draw = drawWindowAugmentation(null, [0, 0, 0, 0], 1);
 * augmentInto(src, dst, { seq: 1, channels: 1, left: 1, top: 2, draw });
 * [...dst.image]; // [10, 11, 14, 15]
 * ```
 */
export function augmentInto(
  src: Planes,
  dst: Planes,
  plan: { seq: number; channels: number; left: number; top: number; draw: AugmentDraw },
): void {
  resampleWindow(src, dst, plan);
  const shape = { seq: plan.seq, channels: plan.channels, width: dst.width, height: dst.height };
  if (changesIntensity(plan.draw)) {
    applyIntensity(dst.image, brainMask(dst.image, shape), shape, plan.draw);
  }
}
