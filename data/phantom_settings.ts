// This module is browser compatible.
/**
 * The phantoms' two varieties' settings, the limits of each
 * option, and resolving a call's options against its variety.
 *
 * @module
 */

import type { Span, TumourSettings } from "./_phantom_tumour.ts";

/** `classic`: today's phantoms, byte for byte; `rich`: everything below varies. */
export type PhantomVariety = "classic" | "rich";

/** A fixed value, or a span `[lo, hi]` drawn uniformly. */
export type PhantomSpan = number | readonly [number, number];

/** What a variety fixes; spans are drawn per case (`tumourSize`, `irregularity` per tumour; `noise`, `biasField` per modality). */
export interface PhantomVarietySettings {
  /** Number of tumours, 1-3. */
  tumours: PhantomSpan;
  /** Core radius of the first (largest) tumour, relative to the brain's half-axes. */
  tumourSize: PhantomSpan;
  /** Boundary irregularity: 0 round, 0.5 classic, 1 lobulated and ragged. */
  irregularity: PhantomSpan;
  /** Share of tumours at the brain surface (cortex). */
  surfaceShare: number;
  /** Share of tumours across the midline (corpus callosum, "butterfly"). */
  midlineShare: number;
  /** Share of tumours without an enhancing part (non-enhancing core only). */
  nonEnhancingShare: number;
  /** Share of enhancing tumours with a necrotic core. */
  necrosisShare: number;
  /** Bias-field strength, a multiple of the classic one (0: none). */
  biasField: PhantomSpan;
  /** Noise sigma, a multiple of the classic 2.8% of white matter (0: none). */
  noise: PhantomSpan;
  /** Per-modality contrast differences as between scanners (tissue jitter, gamma); 0: none. */
  scannerContrast: PhantomSpan;
  /** Brain size, a multiple of the classic one (which fills the volume as BraTS's does). */
  brainSize: PhantomSpan;
  /** In-plane voxel size in mm (header pixdim; the brain keeps its size in mm). */
  voxelSize: PhantomSpan;
  /** Slice thickness in mm (header pixdim; the brain keeps its height in mm). */
  sliceThickness: PhantomSpan;
}

/**
 * Each variety's settings.
 *
 * @example
 * ```ts
 * import { PHANTOM_VARIETIES } from "./phantom_settings.ts";
 * console.log(PHANTOM_VARIETIES.rich.noise); // [0.3, 2.5]: drawn per case and modality
 * ```
 */
export const PHANTOM_VARIETIES: Readonly<Record<PhantomVariety, Readonly<PhantomVarietySettings>>> =
  {
    classic: {
      tumours: [1, 2],
      tumourSize: [0.13, 0.25],
      irregularity: 0.5,
      surfaceShare: 0,
      midlineShare: 0,
      nonEnhancingShare: 0.2,
      necrosisShare: 0.85,
      biasField: 1,
      noise: 1,
      scannerContrast: 0,
      brainSize: 1,
      voxelSize: 1,
      sliceThickness: 1,
    },
    rich: {
      tumours: [1, 3],
      tumourSize: [0.08, 0.3],
      irregularity: [0.2, 1],
      surfaceShare: 0.2,
      midlineShare: 0.1,
      nonEnhancingShare: 0.25,
      necrosisShare: 0.7,
      biasField: [0, 2.5],
      noise: [0.3, 2.5],
      scannerContrast: [0, 1.5],
      brainSize: [0.8, 1.05],
      voxelSize: [0.9, 1.25],
      sliceThickness: [1, 2],
    },
  };

/**
 * The allowed range of each option.
 *
 * @example
 * ```ts
 * import { PHANTOM_LIMITS } from "./phantom_settings.ts";
 * console.log(PHANTOM_LIMITS.voxelSize); // [0.2, 5] mm
 * ```
 */
export const PHANTOM_LIMITS: Readonly<
  Record<keyof PhantomVarietySettings, readonly [number, number]>
> = {
  tumours: [1, 3],
  tumourSize: [0.03, 0.45],
  irregularity: [0, 1],
  surfaceShare: [0, 1],
  midlineShare: [0, 1],
  nonEnhancingShare: [0, 1],
  necrosisShare: [0, 1],
  biasField: [0, 4],
  noise: [0, 8],
  scannerContrast: [0, 3],
  brainSize: [0.5, 1.2],
  voxelSize: [0.2, 5],
  sliceThickness: [0.2, 10],
};

/** What the varieties fix beyond the options (classic's values are today's). */
const HIDDEN: Record<
  PhantomVariety,
  Pick<
    TumourSettings,
    "countWeights" | "separate" | "satelliteSize" | "oedema" | "maxOedema" | "necrosisSize" | "rim"
  >
> = {
  classic: {
    countWeights: [0.8, 0.2],
    separate: false,
    satelliteSize: [0.09, 0.16],
    oedema: [1.5, 2.4],
    maxOedema: Infinity,
    necrosisSize: [0.35, 0.6],
    rim: [0.22, 0.4],
  },
  rich: {
    countWeights: [0.6, 0.25, 0.15],
    separate: true,
    satelliteSize: [0.06, 0.2],
    oedema: [1.2, 2.6],
    maxOedema: 0.5,
    necrosisSize: [0.25, 0.7],
    rim: [0.15, 0.45],
  },
};

/** Settings of one call, every span as `[lo, hi]`. */
export interface ResolvedSettings extends TumourSettings {
  biasField: Span;
  noise: Span;
  scannerContrast: Span;
  brainSize: Span;
  voxelSize: Span;
  sliceThickness: Span;
}

type Options = Partial<PhantomVarietySettings> & { variety?: PhantomVariety };

/**
 * The options resolved against their variety, checked against
 * {@linkcode PHANTOM_LIMITS} (RangeError naming the option otherwise).
 *
 * @example
 * ```ts
 * import { resolveSettings } from "./phantom_settings.ts";
 * resolveSettings({ variety: "rich", noise: 0 }).noise; // [0, 0]
 * resolveSettings({ tumours: 3 }).countWeights; // [0, 0, 1]
 * ```
 */
export function resolveSettings(options: Options): ResolvedSettings {
  const variety = options.variety ?? "classic";
  if (variety !== "classic" && variety !== "rich") {
    throw new RangeError(`Phantom variety "${variety}": use classic or rich`);
  }
  const preset = PHANTOM_VARIETIES[variety];
  const span = (key: keyof PhantomVarietySettings): Span => {
    const value = options[key] ?? preset[key];
    const [lo, hi] = typeof value === "number" ? [value, value] : value;
    const [min, max] = PHANTOM_LIMITS[key];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && min <= lo && lo <= hi && hi <= max)) {
      throw new RangeError(
        `Phantom ${key} ${
          lo === hi ? lo : `${lo}-${hi}`
        }: must be within ${min}..${max}, low before high`,
      );
    }
    return [lo, hi];
  };
  const share = (key: keyof PhantomVarietySettings) => span(key)[0];
  const hidden = { ...HIDDEN[variety] };
  if (options.tumours !== undefined) {
    const [lo, hi] = span("tumours");
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) {
      throw new RangeError(`Phantom tumours ${lo}-${hi}: must be whole numbers`);
    }
    hidden.countWeights = Array.from({ length: hi }, (_, n) => (n + 1 >= lo ? 1 : 0));
    hidden.separate = true;
  }
  const size = span("tumourSize");
  if (options.tumourSize !== undefined) hidden.satelliteSize = [size[0] * 0.7, size[1] * 0.65];
  return {
    ...hidden,
    size,
    irregularity: span("irregularity"),
    surfaceShare: share("surfaceShare"),
    midlineShare: share("midlineShare"),
    nonEnhancingShare: share("nonEnhancingShare"),
    necrosisShare: share("necrosisShare"),
    biasField: span("biasField"),
    noise: span("noise"),
    scannerContrast: span("scannerContrast"),
    brainSize: span("brainSize"),
    voxelSize: span("voxelSize"),
    sliceThickness: span("sliceThickness"),
  };
}
