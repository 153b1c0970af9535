// This module is browser compatible.
// The one place that picks a weight-gradient kernel (private to gpu/ops): dy's rows in place where
// they can be bound and dispatch less, else uniform windows of dy, else chunked partial sums.
import type { Tensor } from "../tensor.ts";
import type { ChunkedGradTile, WindowGradTile } from "./tiles.ts";
import { chunkedWeightGrad } from "./_weight_grad_texture_wgsl.ts";
import { rowsWeightGrad } from "./_weight_grad_rows_wgsl.ts";
import { windowWeightGrad } from "./_weight_grad_window_wgsl.ts";

/** Options of {@linkcode weightGradient}. */
export interface WeightGradientOptions {
  /** Kernel size (1 or 3). */
  k: number;
  /** The first kernel to try: "rows" (default) falls back to "window", then "chunked". */
  algorithm?: "rows" | "window" | "chunked";
  /** Tile of the rows and window kernels (for benchmarks). */
  windowTile?: WindowGradTile;
  /** Tile of the chunked kernel (for benchmarks). */
  chunkedTile?: ChunkedGradTile;
  /** Shape of dw (default [cout, cin, k, k]). */
  shape?: readonly number[];
}

/**
 * dw of a stride-1 conv from its input x [n, cin, h, w] and output gradient dy [n, cout, h, w].
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { weightGradient } from "./_weight_grad.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const gy = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const dw = weightGradient(x, gy, { k: 3 });
 * console.log(dw.shape, (await dw.read())[4]); // [1, 1, 3, 3] 16
 * scope.end();
 * ```
 */
export function weightGradient(x: Tensor, dy: Tensor, options: WeightGradientOptions): Tensor {
  const { k, shape, algorithm = "rows" } = options;
  const tile = options.windowTile;
  let dw = algorithm === "rows" ? rowsWeightGrad(x, dy, { k, tile, shape }) : null;
  if (algorithm !== "chunked") dw ??= windowWeightGrad(x, dy, { k, tile, shape });
  return dw ?? chunkedWeightGrad(x, dy, { k, tile: options.chunkedTile, shape });
}
