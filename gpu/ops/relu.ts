// This module is browser compatible.
/**
 * Rectified linear unit `y = max(x, 0)`, forward and backward, with its
 * plain-TypeScript reference.
 *
 * The template every op in this folder follows, in this order: module doc,
 * CPU reference (forward, then backward), WGSL, dispatch (recording the
 * backward on the tape). Its test (tests/gpu_relu_test.ts) checks the GPU
 * against the reference and the reference's backward against finite
 * differences through `checkOp` and `checkGradient`.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { elementwise, runElementwise } from "./_elementwise.ts";
import { Tensor } from "../tensor.ts";

/**
 * Reference forward: `max(x, 0)` in float64.
 *
 * @example
 * ```ts
 * import { reluReference } from "./relu.ts";
 * console.log(reluReference([-1, 2])); // Float64Array(2) [0, 2]
 * ```
 */
export function reluReference(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : 0));
}

/**
 * Reference backward: the output gradient where `x > 0`, else 0.
 *
 * @example
 * ```ts
 * import { reluBackwardReference } from "./relu.ts";
 * console.log(reluBackwardReference([-1, 2], [5, 7])); // Float64Array(2) [0, 7]
 * ```
 */
export function reluBackwardReference(
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
): Float64Array {
  return Float64Array.from(x, (v, i) => (v > 0 ? grad[i] : 0));
}

const FORWARD = elementwise("relu.forward", ["x"], [["y", "max(x, T(0.0))"]]);
const BACKWARD = elementwise("relu.backward", ["x", "g"], [[
  "dx",
  "select(T(0.0), g, x > T(0.0))",
]]);

/**
 * `max(x, 0)`, element-wise. On a tape, backward uses the input `x` (no extra copy).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { relu } from "./relu.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const y = relu(Tensor.from([-1, 2], [2]));
 * console.log(await y.read()); // Float32Array(2) [0, 2]
 * scope.end();
 * ```
 */
export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape, { label: "relu" });
  runElementwise(FORWARD, [x, y], x.size);
  recordOp("relu", [x], y, ([g]) => [reluBackward(x, g)]);
  return y;
}

/**
 * The gradient `g` where `x > 0`, else 0: ReLU's backward. `x` may be ReLU's input or its output
 * (both are positive at the same places), so ops with a fused ReLU use it on their output.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { reluBackward } from "./relu.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const dx = reluBackward(Tensor.from([0, 2], [2]), Tensor.from([5, 7], [2]));
 * console.log(await dx.read()); // Float32Array(2) [0, 7]
 * scope.end();
 * ```
 */
export function reluBackward(x: Tensor, g: Tensor): Tensor {
  const dx = Tensor.empty(x.shape, { label: "relu.grad" });
  runElementwise(BACKWARD, [x, g, dx], x.size);
  return dx;
}
