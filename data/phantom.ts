// This module is browser compatible.
/**
 * Synthetic BraTS-style brain-tumour phantoms: skull-stripped four-modality
 * MRI with grey/white matter, CSF and ventricles, irregular tumours
 * (enhancing rim, necrotic core, non-enhancing parts, oedema), a bias field,
 * noise and scanner-like intensity differences. Deterministic for a seed and
 * options.
 *
 * Two varieties: `classic` (the default) makes exactly the phantoms this
 * project has always made; `rich` varies tumour count, size, shape and site,
 * the tumours' parts, bias field, noise, contrast between modalities, brain
 * size, voxel size and slice thickness. Every one of them can also be set on
 * its own on top of either.
 *
 * @module
 */

import { classesToLabels, type LabelConvention } from "./labels.ts";
import { normalTable } from "./_noise.ts";
import { hashInts, Random } from "./random.ts";
import { anatomy } from "./_phantom_anatomy.ts";
import { placeTumours } from "./_phantom_tumour.ts";
import { paintTumour } from "./_phantom_paint.ts";
import { contrastTable, MODALITIES, render, TISSUE_TO_2015 } from "./_phantom_contrast.ts";
import {
  type PhantomSpan,
  type PhantomVariety,
  type PhantomVarietySettings,
  resolveSettings,
} from "./phantom_settings.ts";

/**
 * Options of {@link generatePhantom}. Each variety option overrides the
 * variety's value; a span `[lo, hi]` is drawn uniformly per case (per
 * tumour for `tumourSize` and `irregularity`), a number is fixed. Ranges
 * allowed are in {@linkcode PHANTOM_LIMITS}, the varieties' values in
 * {@linkcode PHANTOM_VARIETIES}.
 */
export interface PhantomOptions extends Partial<PhantomVarietySettings> {
  /** Volume size in voxels, x (left-right), y (anterior-posterior), z (axial slices). Default 240×240×155. */
  size?: readonly [number, number, number];
  /** Seed: the same seed (and options) gives the same phantom. Default 1. */
  seed?: number;
  /** Label convention of `label`. Default `brats2017`. */
  labels?: LabelConvention;
  /** `classic` (default): today's phantoms, byte for byte; `rich`: everything varies. */
  variety?: PhantomVariety;
  /**
   * Number of tumours, 1-3. Given here (or with `rich`), tumours are kept
   * apart by their whole extent, so each is one connected component; classic
   * has one, and a second in 20% of cases whose oedema may touch the first's.
   */
  tumours?: PhantomSpan;
}

/** One synthetic case. */
export interface Phantom {
  /** Volume size, x fastest. */
  shape: [number, number, number];
  /** Voxel size in mm: in-plane, in-plane, slice thickness (classic: 1 mm isotropic, as BraTS). */
  spacing: [number, number, number];
  /** Voxel -> world (RAS mm) affine, BraTS-like orientation, scaled by `spacing`. */
  affine: number[][];
  /** The four modalities, int16, background exactly 0. */
  modalities: { flair: Int16Array; t1: Int16Array; t1ce: Int16Array; t2: Int16Array };
  /** Label volume in `convention`. */
  label: Uint8Array;
  /** Label convention of `label`. */
  convention: LabelConvention;
  /** Number of tumours (1-3). */
  tumours: number;
  /** Whether the label volume holds any enhancing tumour. */
  hasEnhancing: boolean;
}

/**
 * Generates one phantom case. A 240×240×155 case takes about a second.
 *
 * @example
 * ```ts
 * import { generatePhantom } from "./phantom.ts";
 * const p = generatePhantom({ size: [48, 48, 32], seed: 7 });
 * p.modalities.flair.length; // 48 * 48 * 32
 * new Set(p.label); // subset of {0, 1, 2, 4}
 * const rich = generatePhantom({ size: [48, 48, 32], seed: 7, variety: "rich", noise: 0 });
 * rich.spacing; // e.g. [1.12, 1.12, 1.6]
 * ```
 */
export function generatePhantom(options: PhantomOptions = {}): Phantom {
  const [X, Y, Z] = options.size ?? [240, 240, 155];
  if (![X, Y, Z].every((d) => Number.isInteger(d) && d >= 8 && d <= 1024)) {
    throw new RangeError(
      `Phantom size ${X},${Y},${Z}: each dimension must be an integer in 8..1024`,
    );
  }
  const dims: [number, number, number] = [X, Y, Z];
  const convention = options.labels ?? "brats2017";
  const s = resolveSettings(options);
  const seed = options.seed ?? 1;
  // Classic draws stay on `rng`; what classic never drew comes from streams of its own.
  const rng = Random.forPhantom(seed);
  const aux = (k: number) => new Random(hashInts(seed | 0, 0x7f4a7c15, k));
  const geometryRng = aux(1), tumourRng = aux(2), scannerRng = aux(3);
  const draw = (r: Random, span: readonly [number, number]) => r.range(span[0], span[1]);
  const brain = draw(geometryRng, s.brainSize);
  const voxel = Math.round(draw(geometryRng, s.voxelSize) * 100) / 100;
  const thickness = Math.round(draw(geometryRng, s.sliceThickness) * 100) / 100;
  // The brain's physical size is kept, so larger voxels make it span fewer; it must stay inside.
  const inPlane = Math.min(1.15, Math.max(0.25, brain / voxel));
  const axial = Math.min(1.05, Math.max(0.15, brain / thickness));

  const tissue = new Uint8Array(X * Y * Z);
  const texture = new Float32Array(X * Y * Z).fill(1);
  const geo = anatomy(tissue, dims, rng, [inPlane, inPlane, axial]);
  const tumours = placeTumours(rng, tumourRng, s, { geo, tissue });
  for (const t of tumours) paintTumour(tissue, texture, geo, t);
  const label = tissueLabels(tissue, convention);

  const gauss = normalTable(rng);
  const scanner = draw(scannerRng, s.scannerContrast);
  const modalities = {} as Phantom["modalities"];
  for (const m of MODALITIES) {
    const table = contrastTable(m, rng, scannerRng, scanner);
    const levels = { noise: draw(scannerRng, s.noise), bias: draw(scannerRng, s.biasField) };
    modalities[m] = render(tissue, texture, table, dims, rng, gauss, levels);
  }
  return {
    shape: dims,
    spacing: [voxel, voxel, thickness],
    affine: [
      [-voxel, 0, 0, 0],
      [0, -voxel, 0, (Y - 1) * voxel],
      [0, 0, thickness, 0],
      [0, 0, 0, 1],
    ],
    modalities,
    label,
    convention,
    tumours: tumours.length,
    // From the labels: a small tumour's rim may have no voxel of its own.
    hasEnhancing: label.includes(convention === "brats2023" ? 3 : 4),
  };
}

function tissueLabels(tissue: Uint8Array, convention: LabelConvention): Uint8Array {
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
  return label;
}
