// This module is browser compatible.
/**
 * Cross-validation folds: cases split by case into `folds` groups,
 * deterministic from the sorted case ids and the seed, stratified so each
 * fold gets its fair share of cases with and without an enhancing part.
 *
 * @module
 */

import { Random } from "../data/random.ts";

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
