// This module is browser compatible.
/**
 * Private to the phantoms: how tissues look in each modality (the contrast
 * table, a scanner's per-case differences) and rendering a tissue volume to
 * an int16 image with partial-volume blur, bias field and noise.
 *
 * @module
 */

import { BG, ED } from "./_phantom_anatomy.ts";
import type { Random } from "./random.ts";

/** The four modalities in the program's channel order. */
export const MODALITIES = ["flair", "t1", "t1ce", "t2"] as const;

/** A modality's name. */
export type Modality = typeof MODALITIES[number];

/** brats2015 class of each tissue code (0 bg, 1 necrosis, 2 oedema, 3 non-enhancing, 4 enhancing). */
export const TISSUE_TO_2015: readonly number[] = [0, 0, 0, 0, 0, 2, 4, 1, 3];

/** Relative intensity of each tissue in each modality (WM in T1 ≈ 0.9). */
const CONTRAST: Record<Modality, readonly number[]> = {
  //     bg  CSF   GM    WM    DGM   ED    ET    NCR   NET
  t1: [0, 0.25, 0.62, 0.9, 0.7, 0.55, 0.62, 0.3, 0.5],
  t1ce: [0, 0.28, 0.64, 0.9, 0.72, 0.57, 1.4, 0.3, 0.56],
  t2: [0, 1.6, 0.95, 0.6, 0.85, 1.3, 1.05, 1.5, 1.1],
  flair: [0, 0.12, 0.9, 0.66, 0.82, 1.45, 1.15, 0.7, 1.25],
};

/** Noise sigma at level 1, relative to the contrast table (white matter ≈ 0.6-0.9). */
const SIGMA = 0.028;

/** Bias-field polynomial coefficient bound at strength 1. */
const BIAS = 0.18;

/**
 * A modality's tissue intensities for one case: the classic table with the
 * tumour tissues jittered by ±7% (drawn from `rng`, the classic stream), then,
 * for `scanner` > 0, every tissue jittered by ±6%·scanner and a gamma of
 * exp(±0.2·scanner) (drawn from `aux`), as between scanners and protocols.
 *
 * @example
 * ```ts
 * import { contrastTable } from "./_phantom_contrast.ts";
 * import { Random } from "./random.ts";
 * const t1 = contrastTable("t1", new Random(1), new Random(2), 0);
 * t1[3] > t1[2]; // white matter brighter than grey in T1: true
 * ```
 */
export function contrastTable(
  m: Modality,
  rng: Random,
  aux: Random,
  scanner: number,
): number[] {
  const jitter = (x: number) => x * rng.range(0.93, 1.07);
  const table = CONTRAST[m].map((v, i) => (i >= ED ? jitter(v) : v));
  if (scanner <= 0) return table;
  const gamma = Math.exp(0.2 * scanner * aux.range(-1, 1));
  return table.map((v, i) => i === BG ? 0 : (v * (1 + 0.06 * scanner * aux.range(-1, 1))) ** gamma);
}

/** Per-modality strengths of {@linkcode render}'s bias field and noise. */
export interface RenderLevels {
  /** Noise sigma as a multiple of the classic 0.028. */
  noise: number;
  /** Bias-field coefficients' bound as a multiple of the classic 0.18. */
  bias: number;
}

/**
 * Renders tissue codes through a contrast table: texture, partial-volume
 * blur, a smooth multiplicative bias field, Gaussian noise and a random
 * scale (350-1400), as int16 with the background exactly 0 and the brain ≥ 1.
 *
 * @example
 * ```ts
 * import { render } from "./_phantom_contrast.ts";
 * import { normalTable } from "./_noise.ts";
 * import { Random } from "./random.ts";
 * const tissue = new Uint8Array(8 * 8 * 8).fill(3), texture = new Float32Array(512).fill(1);
 * const rng = new Random(1);
 * const img = render(tissue, texture, [0, 0.25, 0.62, 0.9], [8, 8, 8], rng, normalTable(rng), {
 *   noise: 1, bias: 1,
 * });
 * img.every((v) => v > 0); // true
 * ```
 */
export function render(
  tissue: Uint8Array,
  texture: Float32Array,
  table: readonly number[],
  dims: [number, number, number],
  rng: Random,
  gauss: Float32Array,
  levels: RenderLevels,
): Int16Array {
  const [X, Y, Z] = dims;
  const n = tissue.length;
  const img = new Float32Array(n);
  for (let i = 0; i < n; i++) img[i] = table[tissue[i]] * texture[i];
  blur(img, dims);
  const scale = rng.range(350, 1400);
  const sigma = SIGMA * levels.noise;
  const b = [0, 1, 2, 3, 4, 5].map(() => rng.range(-BIAS * levels.bias, BIAS * levels.bias));
  const out = new Int16Array(n);
  let noiseState = rng.int();
  for (let k = 0; k < Z; k++) {
    const w = 2 * k / Z - 1;
    for (let j = 0; j < Y; j++) {
      const v = 2 * j / Y - 1;
      let at = (k * Y + j) * X;
      for (let i = 0; i < X; i++, at++) {
        if (tissue[at] === BG) continue;
        const u = 2 * i / X - 1;
        const bias = Math.exp(
          b[0] * u + b[1] * v + b[2] * w + b[3] * u * v + b[4] * (u * u - v * v) + b[5] * w * w,
        );
        noiseState = (Math.imul(noiseState, 1664525) + 1013904223) | 0;
        const value = (img[at] * bias + sigma * gauss[noiseState >>> 16]) * scale;
        out[at] = Math.max(1, Math.min(32767, Math.round(value)));
      }
    }
  }
  return out;
}

/** [1,2,1]/4 blur along each axis, for partial-volume edges. */
function blur(img: Float32Array, [X, Y, Z]: [number, number, number]): void {
  const strides = [1, X, X * Y];
  const sizes = [X, Y, Z];
  for (let a = 0; a < 3; a++) {
    const s = strides[a], len = sizes[a];
    const line = new Float32Array(len);
    const outer = img.length / len;
    for (let o = 0; o < outer; o++) {
      // Start index of the o-th line along axis a.
      const base = a === 0 ? o * X : a === 1 ? (o % X) + Math.floor(o / X) * X * Y : o;
      for (let t = 0; t < len; t++) line[t] = img[base + t * s];
      for (let t = 1; t < len - 1; t++) {
        img[base + t * s] = 0.25 * line[t - 1] + 0.5 * line[t] + 0.25 * line[t + 1];
      }
    }
  }
}
