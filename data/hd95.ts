// This module is browser compatible.
/**
 * HD95: the 95th percentile of the symmetric distances between two surfaces,
 * in mm (anisotropic spacing), with numpy's percentile rule. Browser-safe.
 *
 * @module
 */

import { distancesToSites } from "./_distance.ts";

/**
 * The 95th percentile of the symmetric surface distances in mm between two non-empty lists of
 * surface voxels (flat indices into `shape`, x fastest).
 *
 * @example
 * ```ts
 * import { hd95 } from "./hd95.ts";
 * // Two one-voxel surfaces two voxels apart along x, voxels 1.5 mm wide.
 * console.log(hd95([0], [2], { shape: [3, 1, 1], spacing: [1.5, 1, 1] })); // 3
 * ```
 */
export function hd95(
  a: number[],
  b: number[],
  options: {
    shape: readonly [number, number, number];
    spacing: readonly [number, number, number];
  },
): number {
  const { shape, spacing } = options;
  const ab = distancesToSites(b, a, shape, spacing), ba = distancesToSites(a, b, shape, spacing);
  const all = new Float64Array(ab.length + ba.length);
  all.set(ab);
  all.set(ba, ab.length);
  return percentile(all, 95);
}

/**
 * The q-th percentile with linear interpolation between order statistics
 * (numpy's default).
 *
 * @example
 * ```ts
 * import { percentile } from "./hd95.ts";
 * console.log(percentile([1, 2, 3, 4, 5], 95)); // 4.8
 * console.log(percentile([5, 1, 4, 2, 3], 50)); // 3
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q / 100;
  const lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
