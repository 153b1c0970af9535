import { mul, mulBackwardReference, mulReference } from "../gpu/ops/mul.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import assert from "node:assert/strict";
import { Tensor } from "../gpu/tensor.ts";

const forward = ([a, b]: Float64Array[]) => mulReference(a, b);
const backward = ([a, b]: Float64Array[], g: Float64Array) => mulBackwardReference([a, b], g);
const check = (shape: number[]) =>
  checkOp({
    shapes: [shape, shape],
    reference: forward,
    gpu: ([a, b]) => mul(a, b),
    referenceBackward: backward,
  });

gpuTest("mul: scalar", () => check([1]));
gpuTest("mul: vec4 path with a partial last invocation", () => check([2, 3, 6, 10]));
gpuTest("mul: odd NCHW", () => check([1, 1, 7, 9]));
gpuTest("mul: not a multiple of 64", () => check([3, 5, 13, 11]));
gpuTest("mul: large odd size (f32 path)", () => check([1_000_003]));
gpuTest("mul: a tensor times itself gets both gradients", () =>
  checkOp({
    shapes: [[2, 3, 5]],
    reference: ([a]) => mulReference(a, a),
    gpu: ([a]) => mul(a, a),
    referenceBackward: ([a], g) => [Float64Array.from(a, (v, i) => 2 * v * g[i])],
  }));
gpuTest("mul: mismatched shapes are refused", () => {
  assert.throws(() => mul(Tensor.zeros([2, 3]), Tensor.zeros([3, 2])), /differ/);
});

Deno.test("mul: reference backward matches finite differences", () => {
  checkGradient({ shapes: [[2, 3, 5, 7], [2, 3, 5, 7]], forward, backward });
});
