// This module is browser compatible.
/**
 * Renders axial slices as pictures: grey-scale modality panels, label maps
 * in colour over the anatomy, and prediction-versus-truth overlays, encoded
 * as PNG. Browser-safe.
 *
 * @module
 */

import { type LabelConvention, labelConvention } from "./labels.ts";
import { encodePng } from "./png.ts";
import type { Phantom } from "./phantom.ts";

/** An RGBA picture, rows top to bottom. */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width*height*4` bytes. */
  pixels: Uint8Array;
}

/** Colour of a tissue name: the usual BraTS viewer colours. */
const TISSUE_COLOURS: Record<string, [number, number, number]> = {
  "necrosis": [230, 40, 40],
  "necrotic/non-enhancing core": [230, 40, 40],
  "oedema": [40, 200, 60],
  "non-enhancing": [60, 110, 255],
  "enhancing": [255, 220, 0],
};

/**
 * RGB colour of each label value of a convention (background omitted).
 *
 * @example
 * ```ts
 * import { labelColours } from "./overlay.ts";
 * console.log(labelColours("brats2017"));
 * // { 1: [230, 40, 40], 2: [40, 200, 60], 4: [255, 220, 0] }: red, green, yellow
 * ```
 */
export function labelColours(
  convention: LabelConvention,
): Record<number, [number, number, number]> {
  const info = labelConvention(convention);
  const out: Record<number, [number, number, number]> = {};
  info.labels.forEach((label, c) => {
    if (label !== 0) out[label] = TISSUE_COLOURS[info.names[c]] ?? [255, 0, 255];
  });
  return out;
}

/**
 * Renders one slice (x fastest) in grey, windowed between the 1st and 99.5th
 * percentiles of its non-zero values. Row 0 of the picture is the largest y
 * (anterior at the top for BraTS-oriented volumes).
 *
 * @example
 * ```ts
 * import { greyImage } from "./overlay.ts";
 * const slice = new Float32Array([0, 50, 100, 200]); // 2×2, x fastest
 * const img = greyImage(slice, { width: 2, height: 2 });
 * console.log(img.pixels.filter((_, i) => i % 4 === 0)); // [127, 254, 0, 63]: row 0 is y = 1
 * ```
 */
export function greyImage(
  slice: ArrayLike<number>,
  options: { width: number; height: number },
): RgbaImage {
  const { width, height } = options;
  const values: number[] = [];
  const step = Math.max(1, Math.floor(slice.length / 20000));
  for (let i = 0; i < slice.length; i += step) if (slice[i] !== 0) values.push(slice[i]);
  values.sort((a, b) => a - b);
  const lo = values.length ? Math.min(0, values[Math.floor(values.length * 0.01)]) : 0;
  const hi = values.length
    ? values[Math.min(values.length - 1, Math.floor(values.length * 0.995))]
    : 1;
  const scale = 255 / (hi - lo || 1);
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = Math.max(0, Math.min(255, (slice[y * width + x] - lo) * scale));
      const p = ((height - 1 - y) * width + x) * 4;
      pixels[p] = pixels[p + 1] = pixels[p + 2] = g;
      pixels[p + 3] = 255;
    }
  }
  return { width, height, pixels };
}

/**
 * Blends label colours over a picture of the same slice (alpha 0.5 by
 * default); labels not in the convention are drawn magenta.
 *
 * @example
 * ```ts
 * import { greyImage, labelImage } from "./overlay.ts";
 * const [width, height] = [2, 1];
 * const flair = new Float32Array([100, 100]);
 * const seg = new Uint8Array([0, 4]); // enhancing at x = 1
 * const img = labelImage(greyImage(flair, { width, height }), seg, { convention: "brats2017" });
 * console.log(img.pixels); // [254, 254, 254, 255, 254, 237, 127, 255]: yellow blended in at x = 1
 * ```
 */
export function labelImage(
  base: RgbaImage,
  labels: ArrayLike<number>,
  options: { convention: LabelConvention; alpha?: number },
): RgbaImage {
  const colours = labelColours(options.convention);
  const alpha = options.alpha ?? 0.5;
  const { width, height } = base;
  const pixels = base.pixels.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = labels[y * width + x];
      if (!v) continue;
      const c = colours[v] ?? [255, 0, 255];
      const p = ((height - 1 - y) * width + x) * 4;
      for (let ch = 0; ch < 3; ch++) pixels[p + ch] = pixels[p + ch] * (1 - alpha) + c[ch] * alpha;
    }
  }
  return { width, height, pixels };
}

/**
 * Places pictures side by side (same height), with a 2-pixel dark gap.
 *
 * @example
 * ```ts
 * import { greyImage, sideBySide } from "./overlay.ts";
 * const imageA = greyImage(new Float32Array(16), { width: 4, height: 4 });
 * const imageB = greyImage(new Float32Array(12), { width: 3, height: 4 });
 * const row = sideBySide([imageA, imageB]);
 * console.log(row.width, row.height); // 9 4: 4 + 2-pixel gap + 3
 * ```
 */
export function sideBySide(images: RgbaImage[]): RgbaImage {
  const gap = 2;
  const height = Math.max(...images.map((i) => i.height));
  const width = images.reduce((n, i) => n + i.width, 0) + gap * (images.length - 1);
  const pixels = new Uint8Array(width * height * 4);
  for (let p = 3; p < pixels.length; p += 4) pixels[p] = 255;
  let x0 = 0;
  for (const img of images) {
    for (let y = 0; y < img.height; y++) {
      pixels.set(
        img.pixels.subarray(y * img.width * 4, (y + 1) * img.width * 4),
        (y * width + x0) * 4,
      );
    }
    x0 += img.width + gap;
  }
  return { width, height, pixels };
}

/**
 * Encodes an RGBA picture as PNG bytes.
 *
 * @example
 * ```ts
 * import { greyImage, imageToPng, sideBySide } from "./overlay.ts";
 * const a = greyImage(Float32Array.from({ length: 16 }, (_, i) => i), { width: 4, height: 4 });
 * const b = greyImage(new Float32Array(16), { width: 4, height: 4 });
 * const png = imageToPng(sideBySide([a, b]));
 * console.log(new TextDecoder().decode(png.subarray(1, 4))); // "PNG"
 * ```
 */
export function imageToPng(image: RgbaImage): Uint8Array {
  return encodePng(image.pixels, { width: image.width, height: image.height, channels: 4 });
}

/**
 * A prediction-versus-truth picture of one slice as PNG: the anatomy, the
 * truth in colour, the prediction in colour, side by side.
 *
 * @example
 * ```ts
 * import { overlayPng } from "./overlay.ts";
 * const flairSlice = Float32Array.from({ length: 64 }, (_, i) => 100 + i); // 8×8
 * const truthSlice = new Uint8Array(64).fill(2, 16, 40);
 * const predSlice = new Uint8Array(64).fill(2, 24, 48);
 * const png = overlayPng(flairSlice, {
 *   width: 8,
 *   height: 8,
 *   truth: truthSlice,
 *   prediction: predSlice,
 *   convention: "brats2017",
 * });
 * const view = new DataView(png.buffer, png.byteOffset);
 * console.log(view.getUint32(16), view.getUint32(20)); // 28 8: three 8×8 panels and two gaps
 * ```
 */
export function overlayPng(
  background: ArrayLike<number>,
  options: {
    width: number;
    height: number;
    truth: ArrayLike<number>;
    prediction: ArrayLike<number>;
    convention: LabelConvention;
  },
): Uint8Array {
  const base = greyImage(background, options);
  const truth = labelImage(base, options.truth, options);
  const prediction = labelImage(base, options.prediction, options);
  return imageToPng(sideBySide([base, truth, prediction]));
}

/**
 * A preview of a phantom: the middle slice of its tumour's axial extent
 * (the slice with the most tumour if that one has none) in FLAIR, T1, T1c
 * and T2, then the labels in colour over FLAIR, as PNG bytes.
 *
 * @example
 * ```ts
 * import { previewPng } from "./overlay.ts";
 * import { generatePhantom } from "./phantom.ts";
 * // FLAIR, T1, T1c, T2 and the labels, in a row: a PNG file's bytes.
 * const png = previewPng(generatePhantom({ size: [32, 32, 8], seed: 3 }));
 * console.log(png[1], png[2], png[3]); // 80 78 71 ("PNG")
 * ```
 */
export function previewPng(
  p: Pick<Phantom, "shape" | "modalities" | "label" | "convention">,
): Uint8Array {
  const [X, Y, Z] = p.shape;
  const n = X * Y;
  let first = -1, last = -1, most = -1, mostArea = 0;
  for (let z = 0; z < Z; z++) {
    let area = 0;
    for (let i = z * n; i < z * n + n; i++) if (p.label[i] !== 0) area++;
    if (area > 0) {
      if (first < 0) first = z;
      last = z;
    }
    if (area > mostArea) [most, mostArea] = [z, area];
  }
  const middle = (first + last) >> 1;
  const empty = !p.label.subarray(middle * n, middle * n + n).some((v) => v !== 0);
  // Tumours apart from each other can leave the middle slice empty: then the slice with the most.
  const z = first < 0 ? Z >> 1 : empty ? most : middle;
  const slice = (a: Int16Array | Uint8Array) => a.subarray(z * n, z * n + n);
  const panels = (["flair", "t1", "t1ce", "t2"] as const).map((m) =>
    greyImage(slice(p.modalities[m]), { width: X, height: Y })
  );
  panels.push(labelImage(panels[0], slice(p.label), { convention: p.convention }));
  return imageToPng(sideBySide(panels));
}
