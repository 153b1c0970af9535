// This module is browser compatible.
/**
 * Element-wise product `y = a ∘ b` (same shapes), forward and backward, with
 * its plain-TypeScript reference. Used to fuse features across resolutions.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { elementwise, runElementwise } from "./_elementwise.ts";
import { Tensor } from "../tensor.ts";

/**
 * Reference forward: `a ∘ b` in float64.
 *
 * @example
 * ```ts
 * import { mulReference } from "./mul.ts";
 * console.log(mulReference([2, 3], [4, 5])); // Float64Array(2) [8, 15]
 * ```
 */
export function mulReference(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v * b[i]);
}

/**
 * Reference backward: `[g ∘ b, g ∘ a]` for inputs `[a, b]`.
 *
 * @example
 * ```ts
 * import { mulBackwardReference } from "./mul.ts";
 * const [da, db] = mulBackwardReference([[2], [4]], [1]);
 * console.log(da, db); // Float64Array(1) [4] Float64Array(1) [2]
 * ```
 */
export function mulBackwardReference(
  inputs: readonly [ArrayLike<number>, ArrayLike<number>],
  grad: ArrayLike<number>,
): [Float64Array, Float64Array] {
  const [a, b] = inputs;
  return [Float64Array.from(b, (v, i) => v * grad[i]), Float64Array.from(a, (v, i) => v * grad[i])];
}

const FORWARD = elementwise("mul.forward", ["a", "b"], [["y", "a * b"]]);
// Both input gradients in one pass: g is read once.
const BACKWARD = elementwise("mul.backward", ["a", "b", "g"], [["da", "g * b"], ["db", "g * a"]]);

/**
 * `a ∘ b`, element-wise (shapes must be equal).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { mul } from "./mul.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const y = mul(Tensor.from([2, 3], [2]), Tensor.from([4, 5], [2]));
 * console.log(await y.read()); // Float32Array(2) [8, 15]
 * scope.end();
 * ```
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size || a.shape.join() !== b.shape.join()) {
    throw new RangeError(`mul: shapes [${a.shape}] and [${b.shape}] differ`);
  }
  const y = Tensor.empty(a.shape, { label: "mul" });
  runElementwise(FORWARD, [a, b, y], a.size);
  recordOp("mul", [a, b], y, ([g]) => {
    const da = Tensor.empty(a.shape, { label: "mul.grad.a" });
    const db = Tensor.empty(b.shape, { label: "mul.grad.b" });
    runElementwise(BACKWARD, [a, b, g, da, db], a.size);
    return [da, db];
  });
  return y;
}
