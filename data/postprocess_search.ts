// This module is browser compatible.
/**
 * Choosing the postprocessing on out-of-fold predictions: every candidate
 * (small-enhancing threshold T on a grid, with and without keeping the
 * largest tumour component) is applied to each case as it comes, its Dice
 * per region accumulated, and the candidate with the best mean Dice over
 * the three regions and all cases is chosen. Cases are not kept, so a
 * cohort of any size is searched in the memory of one case.
 *
 * @module
 */

import { type LabelConvention, REGIONS, regionTables } from "./labels.ts";
import type { RegionScores } from "./metrics.ts";
import { type Postprocessing, postprocessLabels } from "./postprocess.ts";

/** The small-enhancing thresholds tried (voxels); 0 is the rule off. */
export const MIN_ENHANCING_GRID: readonly number[] = [0, 10, 25, 50, 100, 200, 300, 500, 750, 1000];

/** One candidate's result over the cases seen. */
export interface CandidateScore {
  /** The candidate. */
  post: Required<Postprocessing>;
  /** Mean Dice per region over the cases. */
  dice: RegionScores;
  /** Mean of `dice`'s three regions. */
  mean: number;
}

/** Dice of each region of `pred` against `truth` (1 when a region is empty in both). */
function regionDice(
  pred: Uint8Array,
  truth: Uint8Array,
  tables: Record<"whole" | "core" | "enhancing", Uint8Array>,
): RegionScores {
  const out = { whole: 0, core: 0, enhancing: 0 };
  for (const r of REGIONS) {
    const t = tables[r];
    let both = 0, p = 0, q = 0;
    for (let i = 0; i < pred.length; i++) {
      const a = t[pred[i]], b = t[truth[i]];
      p += a;
      q += b;
      both += a & b;
    }
    out[r] = p + q === 0 ? 1 : (2 * both) / (p + q);
  }
  return out;
}

/**
 * Accumulates every candidate's Dice over cases and picks the best.
 *
 * @example
 * ```ts
 * import { PostprocessSearch } from "./postprocess_search.ts";
 * const search = new PostprocessSearch("brats2017", { grid: [0, 3] });
 * // 6×1×1: the truth has no enhancing; the prediction has two enhancing voxels and a far speck.
 * const truth = Uint8Array.from([2, 1, 1, 2, 0, 0]);
 * const pred = Uint8Array.from([2, 4, 4, 2, 0, 2]);
 * search.add(pred, truth, [6, 1, 1]);
 * console.log(search.best().post); // { minEnhancing: 3, largestComponent: true }
 * ```
 */
export class PostprocessSearch {
  #convention: LabelConvention;
  #tables: Record<"whole" | "core" | "enhancing", Uint8Array>;
  #candidates: Required<Postprocessing>[];
  #sums: RegionScores[];
  #cases = 0;

  /** Searches `options.grid` (default {@linkcode MIN_ENHANCING_GRID}) × largest component off/on. */
  constructor(convention: LabelConvention, options: { grid?: readonly number[] } = {}) {
    this.#convention = convention;
    this.#tables = regionTables(convention);
    // Simplest first: a later candidate must do strictly better to be chosen.
    this.#candidates = [false, true].flatMap((largestComponent) =>
      (options.grid ?? MIN_ENHANCING_GRID).map((minEnhancing) => ({
        minEnhancing,
        largestComponent,
      }))
    );
    this.#sums = this.#candidates.map(() => ({ whole: 0, core: 0, enhancing: 0 }));
  }

  /** Scores every candidate on one case (volumes are not changed or kept). */
  add(pred: Uint8Array, truth: Uint8Array, shape: readonly number[]): void {
    if (pred.length !== truth.length) {
      throw new RangeError(`prediction of ${pred.length} voxels, truth of ${truth.length}`);
    }
    // Per component rule, a threshold either leaves the volume or relabels all its enhancing:
    // two volumes to score, whatever the grid.
    const scored = [false, true].map((largestComponent) => {
      const base = pred.slice();
      const { enhancing } = postprocessLabels(base, shape, this.#convention, { largestComponent });
      const relabelled = base.slice();
      postprocessLabels(relabelled, shape, this.#convention, { minEnhancing: enhancing + 1 });
      return {
        enhancing,
        kept: regionDice(base, truth, this.#tables),
        relabelled: regionDice(relabelled, truth, this.#tables),
      };
    });
    for (const [i, post] of this.#candidates.entries()) {
      const s = scored[post.largestComponent ? 1 : 0];
      const d = s.enhancing > 0 && s.enhancing < post.minEnhancing ? s.relabelled : s.kept;
      for (const r of REGIONS) this.#sums[i][r] += d[r];
    }
    this.#cases++;
  }

  /** Every candidate's mean scores, in the order tried. */
  scores(): CandidateScore[] {
    const n = Math.max(this.#cases, 1);
    return this.#candidates.map((post, i) => {
      const dice = {
        whole: this.#sums[i].whole / n,
        core: this.#sums[i].core / n,
        enhancing: this.#sums[i].enhancing / n,
      };
      return { post, dice, mean: (dice.whole + dice.core + dice.enhancing) / 3 };
    });
  }

  /** The best candidate (the first of equals, so nothing is added that does not help). */
  best(): CandidateScore {
    return this.scores().reduce((best, c) => (c.mean > best.mean + 1e-12 ? c : best));
  }
}
