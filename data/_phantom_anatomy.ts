// This module is browser compatible.
/**
 * Private to the phantoms: the tissue codes and the healthy anatomy
 * (grey/white matter, sulci, CSF, ventricles, deep grey matter) painted into
 * a tissue volume in brain-normalised coordinates.
 *
 * @module
 */

import { fbm, valueNoise } from "./_noise.ts";
import type { Random } from "./random.ts";

/** Tissue codes; tumour codes 5.. map to brats2015 classes in `_phantom_contrast.ts`. */
export const BG = 0, CSF = 1, GM = 2, WM = 3, DGM = 4, ED = 5, ET = 6, NCR = 7, NET = 8;

/** Maps voxel coordinates to brain-normalised ones (brain surface near radius 1). */
export interface Geometry {
  /** Volume size, x fastest. */
  dims: [number, number, number];
  /** Brain centre in voxels. */
  centre: [number, number, number];
  /** Brain half-axes in voxels. */
  axes: [number, number, number];
}

/**
 * Paints the healthy brain into `tissue` (codes above) and returns its
 * geometry. `scale` multiplies the brain's half-axes (in-plane, in-plane,
 * axial); `[1, 1, 1]` is the classic brain, filling the volume as BraTS's does.
 *
 * @example
 * ```ts
 * import { anatomy, WM } from "./_phantom_anatomy.ts";
 * import { Random } from "./random.ts";
 * const tissue = new Uint8Array(32 * 32 * 24);
 * const geo = anatomy(tissue, [32, 32, 24], Random.forPhantom(1), [1, 1, 1]);
 * tissue.includes(WM); // true
 * geo.axes[0] < 16; // true
 * ```
 */
export function anatomy(
  tissue: Uint8Array,
  dims: [number, number, number],
  rng: Random,
  scale: readonly [number, number, number],
): Geometry {
  const [X, Y, Z] = dims;
  const axes: [number, number, number] = [
    0.31 * X * rng.range(0.93, 1.05) * scale[0],
    0.38 * Y * rng.range(0.93, 1.03) * scale[1],
    0.42 * Z * rng.range(0.95, 1.03) * scale[2],
  ];
  const centre: [number, number, number] = [
    (X - 1) / 2 + rng.range(-1, 1),
    (Y - 1) / 2 + rng.range(-2, 2),
    0.47 * Z,
  ];
  const ph = [0, 1, 2, 3, 4].map(() => rng.range(0, 2 * Math.PI));
  const gyriSeed = rng.int(), sulciSeed = rng.int();
  const ventricle = rng.range(0.8, 1.3);
  for (let k = 0; k < Z; k++) {
    const w = (k - centre[2]) / axes[2];
    for (let j = 0; j < Y; j++) {
      const v = (j - centre[1]) / axes[1];
      let row = (k * Y + j) * X;
      for (let i = 0; i < X; i++, row++) {
        // Frontal pole narrower than occipital, lower brain narrower (temporal lobes).
        const u = (i - centre[0]) / axes[0] * (1 + 0.12 * v) *
          (w < -0.2 ? 1 + 0.6 * (w + 0.2) * (w + 0.2) : 1);
        const r2 = u * u + v * v + w * w;
        if (r2 > 1.3) continue;
        const t = tissueAt(u, v, w, Math.sqrt(r2), ph, gyriSeed, sulciSeed, ventricle);
        if (t !== BG) tissue[row] = t;
      }
    }
  }
  return { dims, centre, axes };
}

function tissueAt(
  u: number,
  v: number,
  w: number,
  r: number,
  ph: number[],
  gyriSeed: number,
  sulciSeed: number,
  ventricle: number,
): number {
  const R = 1 + 0.035 * Math.sin(3.1 * u + ph[0]) * Math.sin(2.3 * v + ph[1]) +
    0.025 * Math.sin(4.3 * w + ph[2]) +
    (w > 0 ? -0.1 * w * w * w : 0);
  if (r > R + 0.035) return BG;
  let t: number = CSF;
  if (r < R * 0.62) t = WM; // deeper than any cortex or sulcus: skip the noise
  else if (r < R) {
    const g = fbm(gyriSeed, u * 7, v * 7, w * 7);
    const band = 0.06 + 0.14 * g * g;
    t = r < R * (1 - band) ? WM : GM;
    const depth = (R - r) / R;
    if (depth < band + 0.16) {
      // Sulci: thin CSF clefts lined with grey matter, reaching into the white matter.
      const s = Math.abs(valueNoise(sulciSeed, u * 9, v * 9, w * 7) - 0.5);
      const reach = 1 - depth / (band + 0.16);
      if (s < 0.025 * reach + 0.008) t = CSF;
      else if (s < 0.09 * reach) t = GM;
    }
  } else if (r > R + 0.012 + 0.02 * valueNoise(sulciSeed + 9, u * 5, v * 5, w * 5)) return BG;
  // Interhemispheric fissure.
  if (Math.abs(u) < 0.015 + 0.015 * r && w > -0.3 && r > 0.3 + 0.12 * Math.max(0, -v)) {
    t = CSF;
  }
  // Deep grey matter (basal ganglia / thalamus) either side of the ventricles.
  const du = (Math.abs(u) - 0.3) / 0.11, dv = (v + 0.02) / 0.24, dw = (w + 0.1) / 0.17;
  if (du * du + dv * dv + dw * dw < 1) t = DGM;
  // Lateral ventricles: crescents that diverge towards the back; third ventricle on the midline.
  const off = 0.07 + 0.1 * Math.max(0, -v) + 0.03 * v * v;
  const vu = (Math.abs(u) - off) / (0.075 * ventricle * (1 + 0.4 * Math.max(0, v)));
  const vv = (v - 0.05) / 0.45, vw = (w - 0.12 + 0.35 * v * v) / (0.14 * ventricle);
  if (vu * vu + vv * vv + vw * vw < 1 && Math.abs(u) > 0.012) t = CSF;
  if (Math.abs(u) < 0.02 && Math.abs(v + 0.05) < 0.14 && w > -0.25 && w < 0.0) t = CSF;
  return t;
}
