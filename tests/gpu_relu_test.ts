import { relu, reluBackwardReference, reluReference } from "../gpu/ops/relu.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const forward = ([x]: Float64Array[]) => reluReference(x);
const backward = ([x]: Float64Array[], g: Float64Array) => [reluBackwardReference(x, g)];
const check = (shape: number[]) =>
  checkOp({
    shapes: [shape],
    reference: forward,
    gpu: ([x]) => relu(x),
    referenceBackward: backward,
  });

gpuTest("relu: scalar", () => check([1]));
gpuTest("relu: vec4 path with a partial last invocation", () => check([2, 3, 6, 10]));
gpuTest("relu: odd NCHW", () => check([1, 1, 7, 9]));
gpuTest("relu: not a multiple of 64", () => check([3, 5, 13, 11]));
gpuTest("relu: large odd size (f32 path)", () => check([1_000_003]));

Deno.test("relu: reference backward matches finite differences", () => {
  checkGradient({ shapes: [[2, 3, 5, 7]], forward, backward });
});
