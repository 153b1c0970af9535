// This module is browser compatible.
// What a case's inputs say about the result before it is computed: a blank or constant modality, non-axial slices.

import { MODALITIES } from "../data/cases.ts";
import type { ZScoreStats } from "../data/normalise.ts";

const SLICE_KIND = ["sagittal", "coronal", "axial"] as const;

/**
 * One line per input that makes the labels unreliable: a modality with no
 * non-zero voxel or one value over all of them (the network then sees a
 * blank channel), and slices that are not axial (the third voxel axis
 * closer to left-right or front-back than to head-foot in world space), as
 * the network was trained on axial slices. The lines name the modality,
 * not the case; the caller adds that.
 *
 * @example
 * ```ts
 * import { inputWarnings } from "./_input_warnings.ts";
 * const ok = { count: 10, mean: 5, std: 2, constant: false };
 * const blank = { count: 0, mean: 0, std: 1, constant: false };
 * const sagittal = [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]];
 * console.log(inputWarnings([blank, ok, ok, ok], sagittal));
 * // ["flair is empty (every voxel 0)", "slices are sagittal, not axial: …"]
 * ```
 */
export function inputWarnings(
  stats: readonly ZScoreStats[],
  affine: readonly (readonly number[])[] | undefined,
): string[] {
  const lines: string[] = [];
  stats.forEach((s, m) => {
    if (s.count === 0) lines.push(`${MODALITIES[m]} is empty (every voxel 0)`);
    else if (s.constant) {
      lines.push(`${MODALITIES[m]} is constant (${s.mean} in every non-zero voxel)`);
    }
  });
  if (affine) {
    const k = [0, 1, 2].map((row) => Math.abs(affine[row]?.[2] ?? 0));
    const along = k.indexOf(Math.max(...k));
    if (k[along] > 0 && along !== 2) {
      lines.push(
        `slices are ${SLICE_KIND[along]}, not axial: the network was trained on axial slices, ` +
          "so reorient the volumes (third voxel axis head-foot) for reliable labels",
      );
    }
  }
  return lines;
}
