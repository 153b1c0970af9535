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
 * labelColours("brats2017"); // { 1: [230,40,40], 2: [40,200,60], 4: [255,220,0] }
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
 * const img = greyImage(slice, { width: 240, height: 240 });
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
 * const img = labelImage(greyImage(flair, { width, height }), seg, { convention: "brats2017" });
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
 * const row = sideBySide([imageA, imageB]);
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
 * await Deno.writeFile("a.png", imageToPng(sideBySide([a, b])));
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
 * const png = overlayPng(flairSlice, {
 *   width: 240, height: 240, truth: truthSlice, prediction: predSlice, convention: "brats2017",
 * });
 * await Deno.writeFile("overlay.png", png);
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
 * A preview of a phantom: the middle slice of its tumour's axial extent in
 * FLAIR, T1, T1c and T2, then the labels in colour over FLAIR, as PNG bytes.
 *
 * @example
 * ```ts
 * await Deno.writeFile("preview.png", previewPng(generatePhantom({ seed: 3 })));
 * ```
 */
export function previewPng(
  p: Pick<Phantom, "shape" | "modalities" | "label" | "convention">,
): Uint8Array {
  const [X, Y, Z] = p.shape;
  const n = X * Y;
  let first = -1, last = -1;
  for (let z = 0; z < Z; z++) {
    if (p.label.subarray(z * n, z * n + n).some((v) => v !== 0)) {
      if (first < 0) first = z;
      last = z;
    }
  }
  const z = first < 0 ? Z >> 1 : (first + last) >> 1;
  const slice = (a: Int16Array | Uint8Array) => a.subarray(z * n, z * n + n);
  const panels = (["flair", "t1", "t1ce", "t2"] as const).map((m) =>
    greyImage(slice(p.modalities[m]), { width: X, height: Y })
  );
  panels.push(labelImage(panels[0], slice(p.label), { convention: p.convention }));
  return imageToPng(sideBySide(panels));
}
