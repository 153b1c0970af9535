// This module is browser compatible.
// The next batch, assembled while the GPU runs the current one (private to the trainer).
import type { AugmentOptions } from "./augment.ts";
import { assembleBatch, type BatchArrays, type LoadedCase } from "./training_data.ts";
import { type CaseCache, patchFor, type TrainingWindow } from "./window_sampler.ts";

/** Assembles the batch `windows` at `step` of the current epoch. */
export type AssembleBatch = (
  windows: readonly TrainingWindow[],
  step: number,
) => Promise<BatchArrays>;

/**
 * Holds at most one batch assembled ahead. Its draws are keyed by (seed, epoch, step), so
 * assembling early gives the same arrays as assembling on time; a batch taken for another
 * step or another window list (the plan changed) is assembled afresh.
 *
 * @example
 * ```ts
 * import { BatchPrefetch } from "./_batch_prefetch.ts";
 * const made: number[] = [];
 * const prefetch = new BatchPrefetch((windows, step) => {
 *   made.push(step);
 *   return Promise.resolve({
 *     image: new Float32Array(0), labels: new Float32Array(0),
 *     windows: windows.length, seq: 3, modalities: 4, height: 0, width: 0,
 *   });
 * });
 * const batches = [[{ caseIndex: 0, start: 0, tumour: true }], [{ caseIndex: 0, start: 3, tumour: false }]];
 * await prefetch.take(batches[0], 0);
 * prefetch.ahead(batches[1], 1); // while step 0 runs
 * await prefetch.take(batches[1], 1); // already made
 * console.log(made); // [0, 1]
 * ```
 */
export class BatchPrefetch {
  #assemble: AssembleBatch;
  #next: { windows: readonly TrainingWindow[]; step: number; arrays: Promise<BatchArrays> } | null =
    null;

  constructor(assemble: AssembleBatch) {
    this.#assemble = assemble;
  }

  /** Starts assembling `windows` for `step`; a failure surfaces when the batch is taken. */
  ahead(windows: readonly TrainingWindow[], step: number): void {
    const arrays = this.#assemble(windows, step);
    arrays.catch(() => {}); // not unhandled if the run stops before taking it
    this.#next = { windows, step, arrays };
  }

  /** The arrays of `windows` at `step`: the ones assembled ahead if they match, else fresh. */
  take(windows: readonly TrainingWindow[], step: number): Promise<BatchArrays> {
    const next = this.#next;
    this.#next = null;
    if (next && next.windows === windows && next.step === step) return next.arrays;
    return this.#assemble(windows, step);
  }
}

/**
 * The trainer's assembler for one epoch: the windows' cases from the cache, then
 * `assembleBatch` with the draws keyed by (seed, epoch, step).
 *
 * @example
 * ```ts
 * import { cropFor } from "../data/preprocess.ts";
 * import { epochAssembler } from "./_batch_prefetch.ts";
 * import { CaseCache } from "./window_sampler.ts";
 * const plane = 16 * 16;
 * const loaded = {
 *   id: "a", width: 16, height: 16, depth: 4, crop: cropFor(16, 16), modalities: 4,
 *   image: new Float32Array(4 * 4 * plane), classes: new Uint8Array(4 * plane),
 * };
 * const cache = new CaseCache(() => Promise.resolve(loaded), { capacity: 2 });
 * const options = { seq: 3, seed: 1, augment: false as const, patch: 0, patchTumourShare: 0.3 };
 * const assemble = epochAssembler(cache, options, 0);
 * const arrays = await assemble([{ caseIndex: 0, start: 1, tumour: false }], 0);
 * console.log(arrays.windows, arrays.width); // 1 16
 * ```
 */
export function epochAssembler(
  cache: CaseCache<LoadedCase>,
  o: {
    seq: number;
    seed: number;
    augment: AugmentOptions | false;
    patch: number;
    patchTumourShare?: number;
  },
  epoch: number,
): AssembleBatch {
  return async (windows, step) => {
    const cases = await Promise.all(windows.map((w) => cache.get(w.caseIndex)));
    return assembleBatch(windows, {
      cases,
      seq: o.seq,
      key: [o.seed, epoch, step],
      augment: o.augment,
      patch: { size: patchFor(o.patch, cases), tumourShare: o.patchTumourShare },
    });
  };
}
