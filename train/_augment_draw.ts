// This module is browser compatible.
// Draws one window's augmentation parameters from its keyed generator, a fixed count per transform.

import type { Random } from "../data/random.ts";
import type { AugmentSettings, TransformSetting } from "./augment_settings.ts";

/** What one modality of a window gets; each value at its identity means "not applied". */
export interface ChannelDraw {
  /** Noise variance (0: none). */
  noise: number;
  /** Seed of this modality's noise. */
  noiseSeed: number;
  /** Blur sigma in pixels (0: none). */
  blur: number;
  /** Brightness factor (1: none). */
  brightness: number;
  /** Contrast factor (1: none). */
  contrast: number;
  /** Low-resolution factor (1: none). */
  lowRes: number;
  /** Gamma of the inverted pass (1: none). */
  invertedGamma: number;
  /** Gamma (1: none). */
  gamma: number;
  /** Additive shift (0: none). */
  shift: number;
}

/** What one window gets: one spatial transform for all its slices, and per-modality intensity changes. */
export interface AugmentDraw {
  /** Rotation in degrees (0: none). */
  angle: number;
  /** Zoom (1: none). */
  scale: number;
  /** Whether x is mirrored. */
  mirrorX: boolean;
  /** Whether y is mirrored. */
  mirrorY: boolean;
  /** Elastic deformation, or null for none. */
  elastic: { alpha: number; sigma: number; seed: number } | null;
  /** Per modality, in channel order. */
  channels: ChannelDraw[];
}

/** The draw that changes nothing. */
export function identityDraw(channels: number): AugmentDraw {
  const channel: ChannelDraw = {
    noise: 0,
    noiseSeed: 0,
    blur: 0,
    brightness: 1,
    contrast: 1,
    lowRes: 1,
    invertedGamma: 1,
    gamma: 1,
    shift: 0,
  };
  return {
    angle: 0,
    scale: 1,
    mirrorX: false,
    mirrorY: false,
    elastic: null,
    channels: Array.from({ length: channels }, () => ({ ...channel })),
  };
}

/**
 * Draws a window's augmentation. Every transform consumes the same number of
 * draws whether or not it is picked or enabled, so switching one transform
 * leaves the others' draws alone.
 */
export function drawAugmentation(s: AugmentSettings, rng: Random, channels: number): AugmentDraw {
  const d = identityDraw(channels);
  const picked = (p: number) => rng.next() < p;
  const rotate = picked(s.rotation.p), angle = uniform(s.rotation, rng.next());
  if (rotate) d.angle = angle;
  const zoom = picked(s.scale.p), scale = skewed(s.scale, rng.next(), rng.next());
  if (zoom) d.scale = scale;
  const deform = picked(s.elastic.p);
  const alpha = lerp(s.elastic.alpha, rng.next()), sigma = lerp(s.elastic.sigma, rng.next());
  const seed = rng.int();
  if (deform) d.elastic = { alpha, sigma, seed };
  d.mirrorX = picked(s.mirror.p);
  d.mirrorY = picked(s.mirror.p);
  const noise = picked(s.noise.p), variance = uniform(s.noise, rng.next());
  const window = {
    blur: picked(s.blur.p),
    brightness: picked(s.brightness.p),
    contrast: picked(s.contrast.p),
    lowRes: picked(s.lowRes.p),
    invertedGamma: picked(s.gamma.invert),
    gamma: picked(s.gamma.p),
    shift: picked(s.shift.p),
  };
  for (const c of d.channels) {
    const noiseSeed = rng.int();
    if (noise) Object.assign(c, { noise: variance, noiseSeed });
    const blur = picked(s.blur.perChannel), sigma = uniform(s.blur, rng.next());
    if (window.blur && blur) c.blur = sigma;
    const brightness = uniform(s.brightness, rng.next());
    if (window.brightness) c.brightness = brightness;
    const contrast = skewed(s.contrast, rng.next(), rng.next());
    if (window.contrast) c.contrast = contrast;
    const low = picked(s.lowRes.perChannel), factor = uniform(s.lowRes, rng.next());
    if (window.lowRes && low) c.lowRes = factor;
    const inverted = skewed(s.gamma, rng.next(), rng.next());
    if (window.invertedGamma) c.invertedGamma = inverted;
    const gamma = skewed(s.gamma, rng.next(), rng.next());
    if (window.gamma) c.gamma = gamma;
    const shift = uniform(s.shift, rng.next());
    if (window.shift) c.shift = shift;
  }
  return d;
}

/** Whether a draw changes any intensity. */
export function changesIntensity(d: AugmentDraw): boolean {
  return d.channels.some((c) =>
    c.noise > 0 || c.blur > 0 || c.brightness !== 1 || c.contrast !== 1 || c.lowRes !== 1 ||
    c.invertedGamma !== 1 || c.gamma !== 1 || c.shift !== 0
  );
}

function lerp(range: readonly [number, number], u: number): number {
  return range[0] + (range[1] - range[0]) * u;
}

function uniform(t: TransformSetting, u: number): number {
  return lerp(t.range, u);
}

/** nnU-Net's draw for factors: below 1 or above 1 with even odds, then uniform in that part. */
function skewed(t: TransformSetting, branch: number, u: number): number {
  const [lo, hi] = t.range;
  if (hi <= 1 || lo >= 1) return lerp(t.range, u);
  return branch < 0.5 ? lerp([lo, 1], u) : lerp([1, hi], u);
}
