// This module is browser compatible.
// Shared by softmax.ts and softmax_cross_entropy.ts (private to gpu/ops): the logits shape check
// and the references' per-pixel walk with its log-sum-exp.
import type { Tensor } from "../tensor.ts";

/**
 * [pixels, H·W, K] of logits [N, K, H, W]; throws for any other shape.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { checkLogits } from "./_softmax_pixels.ts";
 * await getDevice();
 * const logits = Tensor.zeros([2, 3, 4, 4]);
 * console.log(checkLogits("softmax", logits)); // [32, 16, 3]: pixels, H·W, classes
 * logits.release();
 * ```
 */
export function checkLogits(op: string, logits: Tensor): [number, number, number] {
  if (logits.shape.length !== 4 || logits.size === 0) {
    throw new RangeError(`${op}: logits [${logits.shape}] must be a non-empty [N, K, H, W]`);
  }
  const [n, k, h, w] = logits.shape;
  return [n * h * w, h * w, k];
}

/**
 * Per-pixel walk shared by the references: label (−1 when ignored), logit indices, log-sum-exp.
 *
 * @example
 * ```ts
 * import { eachPixel } from "./_softmax_pixels.ts";
 * eachPixel([0, 0], [1], [1, 2, 1, 1], (y, idx, lse) => {
 *   console.log(y, idx, lse === Math.LN2); // 1 [0, 1] true
 * });
 * ```
 */
export function eachPixel(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  dims: readonly number[],
  fn: (y: number, idx: number[], lse: number) => void,
): void {
  const [n, k, h, w] = dims;
  const hw = h * w;
  for (let px = 0; px < n * hw; px++) {
    const base = Math.floor(px / hw) * k * hw + (px % hw);
    const idx = Array.from({ length: k }, (_, c) => base + c * hw);
    const m = Math.max(...idx.map((i) => logits[i]));
    const lse = m + Math.log(idx.reduce((s, i) => s + Math.exp(logits[i] - m), 0));
    const l = labels[px];
    fn(l >= 0 && l < k ? Math.round(l) : -1, idx, lse);
  }
}
