// This module is browser compatible.
/**
 * Label conventions of the BraTS challenges, the mapping between a
 * convention's label values and the model's contiguous classes, and the
 * whole / core / enhancing tumour regions of each convention.
 *
 * @module
 */

import { InputError } from "./input_error.ts";

/** Name of a label convention: which integer means which tumour tissue. */
export type LabelConvention = "brats2015" | "brats2017" | "brats2023";

/** The three evaluated tumour regions. */
export type Region = "whole" | "core" | "enhancing";

/** All label conventions, in the order they are listed to users. */
export const LABEL_CONVENTIONS: readonly LabelConvention[] = [
  "brats2015",
  "brats2017",
  "brats2023",
];

/** The three regions in reporting order. */
export const REGIONS: readonly Region[] = ["whole", "core", "enhancing"];

/** What a convention's labels are and which of them make up each region. */
export interface ConventionInfo {
  /** The convention's name. */
  readonly name: LabelConvention;
  /** Label values in class order: `labels[c]` is the label of contiguous class `c`. */
  readonly labels: readonly number[];
  /** Human-readable tissue name of each label, same order as `labels`. */
  readonly names: readonly string[];
  /** Label values belonging to each region. */
  readonly regions: Readonly<Record<Region, readonly number[]>>;
}

const CONVENTIONS: Record<LabelConvention, ConventionInfo> = {
  brats2015: {
    name: "brats2015",
    labels: [0, 1, 2, 3, 4],
    names: ["background", "necrosis", "oedema", "non-enhancing", "enhancing"],
    regions: { whole: [1, 2, 3, 4], core: [1, 3, 4], enhancing: [4] },
  },
  brats2017: {
    name: "brats2017",
    labels: [0, 1, 2, 4],
    names: ["background", "necrotic/non-enhancing core", "oedema", "enhancing"],
    regions: { whole: [1, 2, 4], core: [1, 4], enhancing: [4] },
  },
  brats2023: {
    name: "brats2023",
    labels: [0, 1, 2, 3],
    names: ["background", "necrotic/non-enhancing core", "oedema", "enhancing"],
    regions: { whole: [1, 2, 3], core: [1, 3], enhancing: [3] },
  },
};

/**
 * Looks up a label convention by name.
 *
 * @throws {RangeError} for an unknown name, listing the known ones.
 * @example
 * ```ts
 * import { labelConvention } from "./labels.ts";
 * const info = labelConvention("brats2017");
 * console.log(info.labels, info.regions.core); // [0, 1, 2, 4] [1, 4]
 * ```
 */
export function labelConvention(name: string): ConventionInfo {
  const info = (CONVENTIONS as Record<string, ConventionInfo | undefined>)[name];
  if (!info) {
    throw new RangeError(
      `Unknown label convention "${name}": expected one of ${LABEL_CONVENTIONS.join(", ")}`,
    );
  }
  return info;
}

/** Lookup table label value -> class index (255 = not in the convention), for labels 0..255. */
function labelToClassTable(info: ConventionInfo): Uint8Array {
  const table = new Uint8Array(256).fill(255);
  info.labels.forEach((label, c) => table[label] = c);
  return table;
}

/**
 * Finds the values in `labels` that are not labels of the convention
 * (non-integers, negatives, non-finite and unknown integers), at most `limit`
 * of them, sorted.
 *
 * @example
 * ```ts
 * import { invalidLabels } from "./labels.ts";
 * console.log(invalidLabels([0, 1, 3, 7, 3], "brats2017")); // [3, 7]
 * ```
 */
export function invalidLabels(
  labels: ArrayLike<number>,
  convention: LabelConvention,
  options: { limit?: number } = {},
): number[] {
  const limit = options.limit ?? 10;
  const table = labelToClassTable(labelConvention(convention));
  const bad = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v >= 0 && v < 256 && Number.isInteger(v) && table[v] !== 255) continue;
    bad.add(v);
    if (bad.size >= limit) break;
  }
  return [...bad].sort((a, b) => a - b);
}

/**
 * Throws unless every value is a label of the convention. The error names
 * the offending values (and the file, when `path` is given).
 *
 * @throws {InputError} when `path` is given, else {RangeError}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLabels } from "./labels.ts";
 * checkLabels(new Uint8Array([0, 1, 2, 4]), "brats2017"); // fine
 * assert.throws(
 *   () => checkLabels(new Uint8Array([0, 3]), "brats2017", { path: "x_seg.nii.gz" }),
 *   { message: "x_seg.nii.gz: label values 3 are not in brats2017 (0, 1, 2, 4)" },
 * );
 * ```
 */
export function checkLabels(
  labels: ArrayLike<number>,
  convention: LabelConvention,
  options: { path?: string } = {},
): void {
  const bad = invalidLabels(labels, convention);
  if (bad.length === 0) return;
  const info = labelConvention(convention);
  const problem = `label values ${bad.join(", ")} are not in ${convention} (${
    info.labels.join(", ")
  })`;
  throw options.path ? new InputError(options.path, problem) : new RangeError(problem);
}

/**
 * Maps label values of a convention to contiguous classes `0..n-1`
 * (the class of a label is its index in `labelConvention(c).labels`).
 *
 * @throws like {@link checkLabels} when a value is not in the convention.
 * @example
 * ```ts
 * import { labelsToClasses } from "./labels.ts";
 * console.log(labelsToClasses([0, 1, 2, 4], "brats2017")); // Uint8Array [0, 1, 2, 3]
 * ```
 */
export function labelsToClasses(
  labels: ArrayLike<number>,
  convention: LabelConvention,
  options: { path?: string; out?: Uint8Array } = {},
): Uint8Array {
  const table = labelToClassTable(labelConvention(convention));
  const out = options.out ?? new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    const c = v >= 0 && v < 256 && Number.isInteger(v) ? table[v] : 255;
    if (c === 255) {
      checkLabels(labels, convention, options);
    }
    out[i] = c;
  }
  return out;
}

/**
 * Maps contiguous classes back to the label values of a convention.
 *
 * @throws {RangeError} for a class index outside `0..n-1`.
 * @example
 * ```ts
 * import { classesToLabels } from "./labels.ts";
 * console.log(classesToLabels([0, 1, 2, 3], "brats2017")); // Uint8Array [0, 1, 2, 4]
 * ```
 */
export function classesToLabels(
  classes: ArrayLike<number>,
  convention: LabelConvention,
  options: { out?: Uint8Array } = {},
): Uint8Array {
  const labels = labelConvention(convention).labels;
  const out = options.out ?? new Uint8Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const label = labels[classes[i]];
    if (label === undefined) {
      throw new RangeError(
        `Class ${classes[i]} is outside 0..${labels.length - 1} of ${convention}`,
      );
    }
    out[i] = label;
  }
  return out;
}

/**
 * The class with the largest score at each voxel of `classes` planes of
 * `plane` voxels each (layout `[classes, plane]`); the first wins ties.
 *
 * @example
 * ```ts
 * import { argmaxClasses } from "./labels.ts";
 * // Two classes over three voxels.
 * console.log(argmaxClasses(Float32Array.from([0.9, 0.2, 0.5, 0.1, 0.8, 0.5]), 2, 3));
 * // Uint8Array [0, 1, 0]
 * ```
 */
export function argmaxClasses(
  scores: Float32Array,
  classes: number,
  plane: number,
  out: Uint8Array = new Uint8Array(plane),
): Uint8Array {
  out.fill(0);
  const best = scores.slice(0, plane);
  for (let c = 1; c < classes; c++) {
    const offset = c * plane;
    for (let i = 0; i < plane; i++) {
      const p = scores[offset + i];
      if (p > best[i]) {
        best[i] = p;
        out[i] = c;
      }
    }
  }
  return out;
}

/**
 * Lookup tables label value (0..255) -> 1 if the label is in the region.
 *
 * @example
 * ```ts
 * import { regionTables } from "./labels.ts";
 * const t = regionTables("brats2017");
 * console.log(t.core[4], t.core[2]); // 1 0: enhancing is core, oedema is not
 * ```
 */
export function regionTables(convention: LabelConvention): Record<Region, Uint8Array> {
  const info = labelConvention(convention);
  const make = (values: readonly number[]) => {
    const t = new Uint8Array(256);
    for (const v of values) t[v] = 1;
    return t;
  };
  return {
    whole: make(info.regions.whole),
    core: make(info.regions.core),
    enhancing: make(info.regions.enhancing),
  };
}

/**
 * Binary masks (1 inside) of the whole, core and enhancing regions of a
 * label array. Values outside the convention count as outside every region.
 *
 * @example
 * ```ts
 * import { regionMasks } from "./labels.ts";
 * const m = regionMasks([0, 1, 2, 4], "brats2017");
 * console.log(m.whole, m.core, m.enhancing);
 * // Uint8Array [0, 1, 1, 1] Uint8Array [0, 1, 0, 1] Uint8Array [0, 0, 0, 1]
 * ```
 */
export function regionMasks(
  labels: ArrayLike<number>,
  convention: LabelConvention,
): Record<Region, Uint8Array> {
  const tables = regionTables(convention);
  const n = labels.length;
  const masks = { whole: new Uint8Array(n), core: new Uint8Array(n), enhancing: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const v = labels[i] & 255;
    if (v !== labels[i]) continue;
    masks.whole[i] = tables.whole[v];
    masks.core[i] = tables.core[v];
    masks.enhancing[i] = tables.enhancing[v];
  }
  return masks;
}
