// This module is browser compatible.
/**
 * Cross-validation folds: cases split by case into `folds` groups,
 * deterministic from the sorted case ids and the seed, stratified so each
 * fold gets its fair share of cases with and without an enhancing part
 * (read from each label volume by {@linkcode hasEnhancing}).
 *
 * @module
 */

import type { Case } from "../data/cases.ts";
import { InputError } from "../data/input_error.ts";
import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { Random } from "../data/random.ts";
import type { SourceInput } from "../data/source.ts";
import { openModality } from "../pipeline/_modality_reader.ts";

/** A case as the split sees it. */
export interface FoldCase {
  /** Case id (the split depends on the sorted ids, not on the order given). */
  id: string;
  /** Whether its label volume holds any enhancing tumour. */
  enhancing: boolean;
}

/**
 * The fold (0 … `folds` − 1) of each case, in the order given. Each stratum
 * (with enhancing, without) is shuffled by the seed and dealt round the
 * folds, the second stratum continuing where the first stopped, so fold
 * sizes differ by at most one and so does each fold's count of either kind.
 *
 * @throws {RangeError} for fewer than two folds, or fewer cases than folds.
 * @example
 * ```ts
 * import { assignFolds } from "./folds.ts";
 * const cases = ["a", "b", "c", "d", "e", "f"].map((id, i) => ({ id, enhancing: i < 4 }));
 * const folds = assignFolds(cases, 2, 1);
 * console.log(folds.filter((f) => f === 0).length); // 3: three cases validate in each fold
 * ```
 */
export function assignFolds(cases: readonly FoldCase[], folds: number, seed: number): number[] {
  if (!Number.isInteger(folds) || folds < 2) {
    throw new RangeError(`--folds must be a whole number >= 2, got ${folds}`);
  }
  if (cases.length < folds) {
    throw new RangeError(`${folds} folds need at least ${folds} cases; there are ${cases.length}`);
  }
  const order = [...cases.keys()].sort((
    a,
    b,
  ) => (cases[a].id < cases[b].id ? -1 : cases[a].id > cases[b].id ? 1 : 0));
  const out = new Array<number>(cases.length);
  let dealt = 0;
  for (const [stratum, enhancing] of [true, false].entries()) {
    const members = order.filter((i) => cases[i].enhancing === enhancing);
    for (const i of Random.forKey(seed, 0xf01d, stratum).shuffle(members)) out[i] = dealt++ % folds;
  }
  return out;
}

/**
 * Whether a case's label volume holds any enhancing tumour (streamed, for
 * the stratified split of `train --folds`).
 *
 * @throws {InputError} for a missing or unreadable label volume.
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { hasEnhancing } from "./folds.ts";
 * const label = encodeNifti(Uint8Array.from([0, 2, 4, 0]), { shape: [2, 2, 1], datatype: "uint8" });
 * console.log(await hasEnhancing({ id: "x", dir: "", label }, "brats2017")); // true
 * ```
 */
export async function hasEnhancing(
  c: Pick<Case<SourceInput>, "id" | "dir" | "label">,
  convention: LabelConvention,
): Promise<boolean> {
  if (!c.label) throw new InputError(c.dir, `case ${c.id} has no label volume`);
  const enhancing = labelConvention(convention).regions.enhancing[0];
  const reader = await openModality(c.label, new Map());
  try {
    for await (const slice of reader.slices()) {
      for (let i = 0; i < slice.length; i++) if (slice[i] === enhancing) return true;
    }
    return false;
  } finally {
    await reader.close();
  }
}
