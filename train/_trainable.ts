// This module is browser compatible.
// Settings and data that cannot train are refused before the first step, not discovered as an untrained checkpoint.

import type { TrainingSource } from "./training_data.ts";

/**
 * Throws, in one line, when `source` cannot train with windows of `seq`
 * slices: no training case, every case shorter than `seq`, no tumour voxel
 * in any training label (phase 1, and the class weights, need some).
 * Returns warnings for what still trains: cases shorter than `seq`
 * (skipped), no validation cases (the last epoch then stands in for the best).
 *
 * @throws {RangeError} naming what is missing.
 * @example
 * ```ts
 * import { trainableWarnings } from "./_trainable.ts";
 * const kase = (id: string, depth: number) => ({ id, depth, tumour: new Uint8Array(depth).fill(1) });
 * const source = { train: [kase("a", 32), kase("b", 2)], val: [] };
 * console.log(trainableWarnings(source, 3));
 * // ["1 training case has fewer than 3 slices and is skipped: b (2)", "no validation cases: …"]
 * ```
 */
export function trainableWarnings(
  source: Pick<TrainingSource, "train" | "val">,
  seq: number,
): string[] {
  const { train } = source;
  if (train.length === 0) throw new RangeError("no training cases");
  const short = train.filter((c) => c.depth < seq);
  const deepest = Math.max(...train.map((c) => c.depth));
  if (short.length === train.length) {
    throw new RangeError(
      `--seq ${seq} is more slices than any training case has (deepest ${deepest}): ` +
        "no training windows; lower --seq",
    );
  }
  if (!train.some((c) => c.depth >= seq && c.tumour.some((t) => t === 1))) {
    throw new RangeError(
      "no tumour voxels in the training labels: nothing to learn tumour from " +
        "(check the label files and --labels)",
    );
  }
  const warnings: string[] = [];
  if (short.length) {
    const listed = short.slice(0, 5).map((c) => `${c.id} (${c.depth})`).join(", ");
    warnings.push(
      `${short.length} training case${short.length === 1 ? " has" : "s have"} fewer than ` +
        `${seq} slices and ${short.length === 1 ? "is" : "are"} skipped: ${listed}` +
        (short.length > 5 ? ", …" : ""),
    );
  }
  if (source.val.length === 0) {
    warnings.push(
      "no validation cases: no Dice to choose the best epoch by, so the last epoch is kept " +
        "as the best checkpoint",
    );
  }
  return warnings;
}
