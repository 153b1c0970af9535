// This module is browser compatible.
/**
 * Postprocessing of a whole predicted label volume: keep only the largest
 * connected component of the whole tumour, and relabel a small enhancing
 * prediction as tumour core. `segment` applies it once every slice is in,
 * training's validation and `cv` apply the same function, so a score seen
 * anywhere is the score of the file `segment` writes.
 *
 * @module
 */

import { InputError } from "./input_error.ts";
import { type LabelConvention, labelConvention } from "./labels.ts";

/** What to do to a predicted volume once it is complete. */
export interface Postprocessing {
  /** Relabel enhancing as core when fewer voxels than this are enhancing (0: off). */
  minEnhancing?: number;
  /** Keep only the largest connected component (face neighbours) of the whole tumour. */
  largestComponent?: boolean;
}

/** What {@linkcode postprocessLabels} changed. */
export interface PostprocessResult {
  /** Tumour voxels set to background because they lay outside the largest component. */
  removed: number;
  /** Whether the small-enhancing rule relabelled enhancing voxels as core. */
  relabelled: boolean;
  /** Voxels labelled enhancing before the small-enhancing rule (after component removal). */
  enhancing: number;
}

/**
 * The label a convention gives the non-enhancing part of the core, which
 * small enhancing predictions are turned into: necrotic/non-enhancing core
 * (1) for brats2017/2023, non-enhancing (3) for brats2015.
 *
 * @example
 * ```ts
 * import { coreLabelFor } from "./postprocess.ts";
 * console.log(coreLabelFor("brats2017"), coreLabelFor("brats2015")); // 1 3
 * ```
 */
export function coreLabelFor(convention: LabelConvention): number {
  return convention === "brats2015" ? 3 : 1;
}

/**
 * Sets every tumour voxel (label ≠ 0) outside the largest 6-connected
 * component of the tumour to background, in place; returns how many it
 * cleared. Ties go to the component met first in x-fastest order.
 *
 * @example
 * ```ts
 * import { keepLargestComponent } from "./postprocess.ts";
 * // 5×1×1: a two-voxel blob and a one-voxel speck.
 * const labels = Uint8Array.from([2, 1, 0, 0, 4]);
 * console.log(keepLargestComponent(labels, [5, 1, 1]), labels); // 1 Uint8Array [2, 1, 0, 0, 0]
 * ```
 */
export function keepLargestComponent(labels: Uint8Array, shape: readonly number[]): number {
  const [nx, ny, nz] = shape;
  const n = nx * ny * nz;
  if (labels.length !== n) {
    throw new RangeError(`${labels.length} labels for a ${shape.join("×")} volume`);
  }
  const component = new Int32Array(n); // 0: not yet reached; else component number
  const queue = new Int32Array(n);
  const sizes = [0];
  for (let seed = 0; seed < n; seed++) {
    if (labels[seed] === 0 || component[seed] !== 0) continue;
    const id = sizes.length;
    let head = 0, tail = 0;
    const visit = (u: number) => {
      if (labels[u] !== 0 && component[u] === 0) {
        component[u] = id;
        queue[tail++] = u;
      }
    };
    visit(seed);
    while (head < tail) {
      const v = queue[head++];
      const x = v % nx, y = Math.floor(v / nx) % ny, z = Math.floor(v / (nx * ny));
      if (x > 0) visit(v - 1);
      if (x < nx - 1) visit(v + 1);
      if (y > 0) visit(v - nx);
      if (y < ny - 1) visit(v + nx);
      if (z > 0) visit(v - nx * ny);
      if (z < nz - 1) visit(v + nx * ny);
    }
    sizes.push(tail);
  }
  let largest = 0;
  for (let id = 1; id < sizes.length; id++) if (sizes[id] > sizes[largest]) largest = id;
  let removed = 0;
  for (let i = 0; i < n; i++) {
    if (component[i] !== 0 && component[i] !== largest) {
      labels[i] = 0;
      removed++;
    }
  }
  return removed;
}

/**
 * Applies `post` to a complete label volume of `convention`, in place:
 * first the largest-component rule, then the small-enhancing rule on what
 * is left (so a speck of enhancing outside the tumour cannot keep it).
 *
 * @throws {RangeError} for a `minEnhancing` that is not a non-negative integer.
 * @example
 * ```ts
 * import { postprocessLabels } from "./postprocess.ts";
 * // 6×1×1: enhancing (4) inside a tumour, and a far speck of oedema.
 * const labels = Uint8Array.from([2, 4, 4, 2, 0, 2]);
 * const result = postprocessLabels(labels, [6, 1, 1], "brats2017", {
 *   largestComponent: true,
 *   minEnhancing: 3,
 * });
 * console.log(result, labels);
 * // { removed: 1, relabelled: true, enhancing: 2 } Uint8Array [2, 1, 1, 2, 0, 0]
 * ```
 */
export function postprocessLabels(
  labels: Uint8Array,
  shape: readonly number[],
  convention: LabelConvention,
  post: Postprocessing,
): PostprocessResult {
  const min = post.minEnhancing ?? 0;
  if (!Number.isInteger(min) || min < 0) {
    throw new RangeError(`--min-enhancing must be a non-negative integer, got ${min}`);
  }
  const removed = post.largestComponent ? keepLargestComponent(labels, shape) : 0;
  const from = labelConvention(convention).regions.enhancing[0];
  let enhancing = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === from) enhancing++;
  const relabelled = enhancing > 0 && enhancing < min;
  if (relabelled) {
    const to = coreLabelFor(convention);
    for (let i = 0; i < labels.length; i++) if (labels[i] === from) labels[i] = to;
  }
  return { removed, relabelled, enhancing };
}

/**
 * Whether `post` changes anything at all (so the sink need not hold the volume).
 *
 * @example
 * ```ts
 * import { postprocessingActive } from "./postprocess.ts";
 * console.log(postprocessingActive({}), postprocessingActive({ minEnhancing: 100 })); // false true
 * ```
 */
export function postprocessingActive(post: Postprocessing): boolean {
  return (post.minEnhancing ?? 0) > 0 || post.largestComponent === true;
}

/** The file `cv` writes beside the checkpoints of a cross-validation, which `segment --model DIR` applies. */
export const POSTPROCESSING_FILE = "postprocessing.json";

/**
 * The postprocessing a `postprocessing.json` file's text chooses: its
 * `minEnhancing` (a non-negative integer) and `largestComponent` (a
 * boolean); other fields (how it was chosen) are ignored here.
 *
 * @throws {InputError} naming `name` for text that is not such a file.
 * @example
 * ```ts
 * import { parsePostprocessing } from "./postprocess.ts";
 * const text = '{ "minEnhancing": 200, "largestComponent": false, "dice": {} }';
 * console.log(parsePostprocessing(text, "cv/postprocessing.json"));
 * // { minEnhancing: 200, largestComponent: false }
 * ```
 */
export function parsePostprocessing(text: string, name: string): Postprocessing {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(name, "is not JSON");
  }
  const v = value as { minEnhancing?: unknown; largestComponent?: unknown } | null;
  const min = v?.minEnhancing;
  if (typeof min !== "number" || !Number.isInteger(min) || min < 0) {
    throw new InputError(name, "needs minEnhancing, a non-negative integer");
  }
  if (typeof v?.largestComponent !== "boolean") {
    throw new InputError(name, "needs largestComponent, true or false");
  }
  return { minEnhancing: min, largestComponent: v.largestComponent };
}
