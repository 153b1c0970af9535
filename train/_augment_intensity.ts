// This module is browser compatible.
// Per-modality intensity transforms of one window, on brain voxels only, so the background stays 0.

import { Random } from "../data/random.ts";
import type { AugmentDraw, ChannelDraw } from "./_augment_draw.ts";
import { blurPlane, gaussianKernel } from "./_augment_spatial.ts";

/** The shape of a window's image: [seq][channels][height][width]. */
export interface WindowShape {
  /** Slices. */
  seq: number;
  /** Channels. */
  channels: number;
  /** Plane width. */
  width: number;
  /** Plane height. */
  height: number;
}

/** The brain mask of a window, [seq][height][width]: 1 where any channel is non-zero. */
export function brainMask(image: Float32Array, shape: WindowShape): Uint8Array {
  const plane = shape.width * shape.height;
  const mask = new Uint8Array(shape.seq * plane);
  for (let z = 0; z < shape.seq; z++) {
    for (let c = 0; c < shape.channels; c++) {
      const base = (z * shape.channels + c) * plane;
      for (let i = 0; i < plane; i++) if (image[base + i] !== 0) mask[z * plane + i] = 1;
    }
  }
  return mask;
}

/**
 * Applies each channel's intensity draw in nnU-Net's order (noise, blur,
 * brightness, contrast, low resolution, inverted gamma, gamma) and then the
 * shift; voxels outside `mask` end as 0.
 */
export function applyIntensity(
  image: Float32Array,
  mask: Uint8Array,
  shape: WindowShape,
  draw: AugmentDraw,
): void {
  const plane = shape.width * shape.height;
  draw.channels.forEach((d, c) => {
    const planes = Array.from(
      { length: shape.seq },
      (_, z) =>
        image.subarray((z * shape.channels + c) * plane, (z * shape.channels + c + 1) * plane),
    );
    const masks = planes.map((_, z) => mask.subarray(z * plane, (z + 1) * plane));
    applyChannel(planes, masks, shape, d);
  });
}

function applyChannel(
  planes: Float32Array[],
  masks: Uint8Array[],
  shape: WindowShape,
  d: ChannelDraw,
): void {
  if (d.noise > 0) addNoise(planes, masks, d);
  if (d.blur > 0) {
    const kernel = gaussianKernel(d.blur);
    planes.forEach((p, z) => {
      blurPlane(p, shape.width, shape.height, kernel);
      remask(p, masks[z]);
    });
  }
  if (d.brightness !== 1) affine(planes, masks, d.brightness, 0);
  if (d.contrast !== 1) {
    const s = brainStats(planes, masks);
    affine(planes, masks, d.contrast, s.mean * (1 - d.contrast), [s.min, s.max]);
  }
  if (d.lowRes !== 1) {
    planes.forEach((p, z) => {
      lowResolution(p, shape.width, shape.height, d.lowRes);
      remask(p, masks[z]);
    });
  }
  if (d.invertedGamma !== 1) {
    affine(planes, masks, -1, 0);
    gamma(planes, masks, d.invertedGamma);
    affine(planes, masks, -1, 0);
  }
  if (d.gamma !== 1) gamma(planes, masks, d.gamma);
  if (d.shift !== 0) affine(planes, masks, 1, d.shift);
}

/** Masked voxels become `a·v + b`, clipped to `clip` when given. */
function affine(
  planes: Float32Array[],
  masks: Uint8Array[],
  a: number,
  b: number,
  clip: readonly [number, number] = [-Infinity, Infinity],
): void {
  const [lo, hi] = clip;
  for (let z = 0; z < planes.length; z++) {
    const p = planes[z], m = masks[z];
    for (let i = 0; i < p.length; i++) {
      if (m[i]) p[i] = Math.min(hi, Math.max(lo, a * p[i] + b));
    }
  }
}

function addNoise(planes: Float32Array[], masks: Uint8Array[], d: ChannelDraw): void {
  const rng = new Random(d.noiseSeed), sd = Math.sqrt(d.noise);
  for (let z = 0; z < planes.length; z++) {
    const p = planes[z], m = masks[z];
    for (let i = 0; i < p.length; i++) if (m[i]) p[i] += sd * rng.normal();
  }
}

/** Mean, deviation and range of the masked voxels. */
export function brainStats(
  planes: readonly Float32Array[],
  masks: readonly Uint8Array[],
): { mean: number; sd: number; min: number; max: number; n: number } {
  let n = 0, sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (let z = 0; z < planes.length; z++) {
    const p = planes[z], m = masks[z];
    for (let i = 0; i < p.length; i++) {
      if (!m[i]) continue;
      const v = p[i];
      n++;
      sum += v;
      sq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const mean = n ? sum / n : 0;
  return { mean, sd: Math.sqrt(Math.max(0, n ? sq / n - mean * mean : 0)), min, max, n };
}

/** Entries of the gamma table. */
const GAMMA_TABLE = 4096;

/**
 * nnU-Net's gamma with kept statistics: the masked voxels are scaled to
 * [0, 1], raised to `g`, scaled back, then restored to their mean and deviation.
 */
export function gamma(planes: Float32Array[], masks: Uint8Array[], g: number): void {
  const before = brainStats(planes, masks);
  if (before.n === 0) return;
  const lo = before.min, span = before.max - before.min;
  // A table of t^g on [0, 1], linearly interpolated: a power per voxel costs ten times more.
  const lut = new Float64Array(GAMMA_TABLE + 2);
  for (let i = 0; i <= GAMMA_TABLE; i++) lut[i] = (i / GAMMA_TABLE) ** g * span + lo;
  lut[GAMMA_TABLE + 1] = lut[GAMMA_TABLE];
  const scale = GAMMA_TABLE / (span + 1e-7);
  for (let z = 0; z < planes.length; z++) {
    const p = planes[z], m = masks[z];
    for (let i = 0; i < p.length; i++) {
      if (!m[i]) continue;
      const t = (p[i] - lo) * scale, k = Math.min(GAMMA_TABLE, Math.floor(t));
      p[i] = lut[k] + (lut[k + 1] - lut[k]) * (t - k);
    }
  }
  const after = brainStats(planes, masks);
  const k = before.sd / (after.sd + 1e-8);
  affine(planes, masks, k, before.mean - after.mean * k);
}

/** Downsamples a plane by `factor` (nearest) and upsamples it back (bilinear), in place. */
export function lowResolution(p: Float32Array, w: number, h: number, factor: number): void {
  const sw = Math.max(1, Math.round(w / factor)), sh = Math.max(1, Math.round(h / factor));
  const small = new Float32Array(sw * sh);
  for (let y = 0; y < sh; y++) {
    const sy = Math.min(h - 1, Math.floor((y + 0.5) * h / sh));
    for (let x = 0; x < sw; x++) {
      small[y * sw + x] = p[sy * w + Math.min(w - 1, Math.floor((x + 0.5) * w / sw))];
    }
  }
  const coord = (o: number, n: number, s: number) =>
    Math.min(s - 1, Math.max(0, (o + 0.5) * s / n - 0.5));
  for (let y = 0; y < h; y++) {
    const fy = coord(y, h, sh), y0 = Math.floor(fy), y1 = Math.min(sh - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = coord(x, w, sw), x0 = Math.floor(fx), x1 = Math.min(sw - 1, x0 + 1), tx = fx - x0;
      const top = small[y0 * sw + x0] * (1 - tx) + small[y0 * sw + x1] * tx;
      const bottom = small[y1 * sw + x0] * (1 - tx) + small[y1 * sw + x1] * tx;
      p[y * w + x] = top * (1 - ty) + bottom * ty;
    }
  }
}

function remask(p: Float32Array, m: Uint8Array): void {
  for (let i = 0; i < p.length; i++) if (!m[i]) p[i] = 0;
}
