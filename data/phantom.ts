/**
 * Synthetic BraTS-style brain-tumour phantoms: skull-stripped four-modality
 * MRI with grey/white matter, CSF and ventricles, one or two irregular
 * tumours (enhancing rim, necrotic core, non-enhancing parts, oedema), a
 * bias field, noise and a random intensity scale. Deterministic for a seed.
 *
 * @module
 */

import { classesToLabels, type LabelConvention } from "./labels.ts";
import { fbm, normalTable, valueNoise } from "./_noise.ts";
import { hashInts, Random } from "./random.ts";

/** Options of {@link generatePhantom}. */
export interface PhantomOptions {
  /** Volume size in voxels, x (left-right), y (anterior-posterior), z (axial slices). Default 240×240×155. */
  size?: readonly [number, number, number];
  /** Seed: the same seed gives the same phantom. Default 1. */
  seed?: number;
  /** Label convention of `label`. Default `brats2017`. */
  labels?: LabelConvention;
}

/** One synthetic case. */
export interface Phantom {
  /** Volume size, x fastest. */
  shape: [number, number, number];
  /** Voxel size in mm (1 mm isotropic, as BraTS). */
  spacing: [number, number, number];
  /** Voxel -> world (RAS mm) affine, BraTS-like orientation. */
  affine: number[][];
  /** The four modalities, int16, background exactly 0. */
  modalities: { flair: Int16Array; t1: Int16Array; t1ce: Int16Array; t2: Int16Array };
  /** Label volume in `convention`. */
  label: Uint8Array;
  /** Label convention of `label`. */
  convention: LabelConvention;
  /** Number of tumours (1 or 2). */
  tumours: number;
  /** Whether any tumour has an enhancing part. */
  hasEnhancing: boolean;
}

// Tissue codes; tumour codes 5.. map to contiguous brats2015 classes below.
const BG = 0, CSF = 1, GM = 2, WM = 3, DGM = 4, ED = 5, ET = 6, NCR = 7, NET = 8;

/** brats2015 class of each tissue code (0 bg, 1 necrosis, 2 oedema, 3 non-enhancing, 4 enhancing). */
const TISSUE_TO_2015 = [0, 0, 0, 0, 0, 2, 4, 1, 3];

/** Relative intensity of each tissue in each modality (WM in T1 ≈ 0.9). */
const CONTRAST: Record<"flair" | "t1" | "t1ce" | "t2", number[]> = {
  //     bg  CSF   GM    WM    DGM   ED    ET    NCR   NET
  t1: [0, 0.25, 0.62, 0.9, 0.7, 0.55, 0.62, 0.3, 0.5],
  t1ce: [0, 0.28, 0.64, 0.9, 0.72, 0.57, 1.4, 0.3, 0.56],
  t2: [0, 1.6, 0.95, 0.6, 0.85, 1.3, 1.05, 1.5, 1.1],
  flair: [0, 0.12, 0.9, 0.66, 0.82, 1.45, 1.15, 0.7, 1.25],
};

const MODALITIES = ["flair", "t1", "t1ce", "t2"] as const;

interface Tumour {
  c: [number, number, number];
  rc: number;
  edema: number;
  enhancing: boolean;
  necrosis: number;
  rim: number;
  seed: number;
}

/**
 * Generates one phantom case. A 240×240×155 case takes about a second.
 *
 * @example
 * ```ts
 * const p = generatePhantom({ size: [96, 96, 64], seed: 7 });
 * p.modalities.flair.length; // 96 * 96 * 64
 * new Set(p.label); // subset of {0, 1, 2, 4}
 * ```
 */
export function generatePhantom(options: PhantomOptions = {}): Phantom {
  const [X, Y, Z] = options.size ?? [240, 240, 155];
  if (![X, Y, Z].every((d) => Number.isInteger(d) && d >= 8 && d <= 1024)) {
    throw new RangeError(
      `Phantom size ${X},${Y},${Z}: each dimension must be an integer in 8..1024`,
    );
  }
  const convention = options.labels ?? "brats2017";
  const rng = Random.forPhantom(options.seed ?? 1);
  const tissue = new Uint8Array(X * Y * Z);
  const texture = new Float32Array(X * Y * Z).fill(1);
  const geo = anatomy(tissue, [X, Y, Z], rng);
  const tumours = placeTumours(rng);
  for (const t of tumours) paintTumour(tissue, texture, geo, t);

  const classes = new Uint8Array(tissue.length);
  for (let i = 0; i < tissue.length; i++) classes[i] = TISSUE_TO_2015[tissue[i]];
  const label = classesToLabels(classes, "brats2015");
  if (convention !== "brats2015") {
    // brats2017/2023 merge non-enhancing (3) into label 1; enhancing is 4 or 3.
    const enh = convention === "brats2017" ? 4 : 3;
    for (let i = 0; i < label.length; i++) {
      const v = label[i];
      label[i] = v === 3 ? 1 : v === 4 ? enh : v;
    }
  }
  const gauss = normalTable(rng);
  const modalities = {} as Phantom["modalities"];
  const jitter = (x: number) => x * rng.range(0.93, 1.07);
  for (const m of MODALITIES) {
    const table = CONTRAST[m].map((v, i) => (i >= ED ? jitter(v) : v));
    modalities[m] = render(tissue, texture, table, [X, Y, Z], rng, gauss);
  }
  return {
    shape: [X, Y, Z],
    spacing: [1, 1, 1],
    affine: [[-1, 0, 0, 0], [0, -1, 0, Y - 1], [0, 0, 1, 0], [0, 0, 0, 1]],
    modalities,
    label,
    convention,
    tumours: tumours.length,
    hasEnhancing: tumours.some((t) => t.enhancing),
  };
}

/** Maps voxel coordinates to brain-normalised ones (brain surface near radius 1). */
interface Geometry {
  dims: [number, number, number];
  centre: [number, number, number];
  axes: [number, number, number];
}

function anatomy(tissue: Uint8Array, dims: [number, number, number], rng: Random): Geometry {
  const [X, Y, Z] = dims;
  const axes: [number, number, number] = [
    0.31 * X * rng.range(0.93, 1.05),
    0.38 * Y * rng.range(0.93, 1.03),
    0.42 * Z * rng.range(0.95, 1.03),
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
        const r = Math.sqrt(r2);
        const R = 1 + 0.035 * Math.sin(3.1 * u + ph[0]) * Math.sin(2.3 * v + ph[1]) +
          0.025 * Math.sin(4.3 * w + ph[2]) +
          (w > 0 ? -0.1 * w * w * w : 0);
        if (r > R + 0.035) continue;
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
        } else if (r > R + 0.012 + 0.02 * valueNoise(sulciSeed + 9, u * 5, v * 5, w * 5)) continue;
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
        tissue[row] = t;
      }
    }
  }
  return { dims, centre, axes };
}

function placeTumours(rng: Random): Tumour[] {
  const count = rng.next() < 0.2 ? 2 : 1;
  const tumours: Tumour[] = [];
  for (let n = 0; n < count; n++) {
    let c: [number, number, number] = [0.3, 0, 0];
    for (let tries = 0; tries < 50; tries++) {
      const side = rng.next() < 0.5 ? -1 : 1;
      c = [side * rng.range(0.16, 0.5), rng.range(-0.5, 0.5), rng.range(-0.3, 0.45)];
      const far = tumours.every((o) =>
        Math.hypot(o.c[0] - c[0], o.c[1] - c[1], o.c[2] - c[2]) > 0.5
      );
      if (Math.hypot(...c) < 0.62 && far) break;
    }
    const enhancing = rng.next() > 0.2;
    tumours.push({
      c,
      rc: n === 0 ? rng.range(0.13, 0.25) : rng.range(0.09, 0.16),
      edema: rng.range(1.5, 2.4),
      enhancing,
      necrosis: enhancing && rng.next() < 0.85 ? rng.range(0.35, 0.6) : 0,
      rim: rng.range(0.22, 0.4),
      seed: rng.int(),
    });
  }
  return tumours;
}

function paintTumour(tissue: Uint8Array, texture: Float32Array, geo: Geometry, t: Tumour): void {
  const [X, Y, Z] = geo.dims;
  const reach = t.rc * t.edema * 1.4;
  const lo = [0, 1, 2].map((a) =>
    Math.max(0, Math.floor(geo.centre[a] + (t.c[a] - reach) * geo.axes[a]))
  );
  const hi = [0, 1, 2].map((a) =>
    Math.min(geo.dims[a] - 1, Math.ceil(geo.centre[a] + (t.c[a] + reach) * geo.axes[a]))
  );
  const s1 = t.seed,
    s2 = hashInts(t.seed, 1, 2),
    s3 = hashInts(t.seed, 3, 4),
    s4 = hashInts(t.seed, 5, 6);
  const f = 2.2 / t.rc;
  for (let k = lo[2]; k <= hi[2] && k < Z; k++) {
    const w = (k - geo.centre[2]) / geo.axes[2] - t.c[2];
    for (let j = lo[1]; j <= hi[1] && j < Y; j++) {
      const v = (j - geo.centre[1]) / geo.axes[1] - t.c[1];
      for (let i = lo[0]; i <= hi[0] && i < X; i++) {
        const at = (k * Y + j) * X + i;
        const here = tissue[at];
        if (here === BG) continue;
        const u = (i - geo.centre[0]) / geo.axes[0] - t.c[0];
        const d = Math.sqrt(u * u + v * v + w * w);
        if (d > reach) continue;
        const nu = u * f * 0.5, nv = v * f * 0.5, nw = w * f * 0.5;
        const s = d / t.rc + 0.7 * (fbm(s1, nu, nv, nw) - 0.5);
        if (s < 1) {
          let code = NET;
          if (t.enhancing) {
            const rim = t.rim * (0.7 + 0.6 * valueNoise(s2, nu * 1.5, nv * 1.5, nw * 1.5));
            if (s > 1 - rim) code = valueNoise(s3, nu * 2, nv * 2, nw * 2) > 0.78 ? NET : ET;
            else if (t.necrosis > 0 && s < t.necrosis + 0.25) code = NCR;
          }
          tissue[at] = code;
          texture[at] = 0.9 + 0.2 * valueNoise(s4, nu * 3, nv * 3, nw * 3);
          continue;
        }
        if (here === CSF || here >= ED) continue;
        const e = d / (t.rc * t.edema) + 0.6 * (fbm(s3, nu * 0.7, nv * 0.7, nw * 0.7) - 0.5);
        if (e < (here === WM ? 1 : 0.8)) {
          tissue[at] = ED;
          texture[at] = 0.93 + 0.14 * valueNoise(s4, nu * 2, nv * 2, nw * 2);
        }
      }
    }
  }
}

function render(
  tissue: Uint8Array,
  texture: Float32Array,
  table: number[],
  dims: [number, number, number],
  rng: Random,
  gauss: Float32Array,
): Int16Array {
  const [X, Y, Z] = dims;
  const n = tissue.length;
  const img = new Float32Array(n);
  for (let i = 0; i < n; i++) img[i] = table[tissue[i]] * texture[i];
  blur(img, dims);
  const scale = rng.range(350, 1400);
  const sigma = 0.028;
  const b = [0, 1, 2, 3, 4, 5].map(() => rng.range(-0.18, 0.18));
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
