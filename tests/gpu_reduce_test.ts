import { sum, sumBackwardReference, sumReference } from "../gpu/ops/reduce.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const forward = ([x]: Float64Array[]) => sumReference(x);
const backward = ([x]: Float64Array[], g: Float64Array) => [sumBackwardReference(x, g)];
const check = (shape: number[], atol = 1e-4) =>
  checkOp({
    shapes: [shape],
    reference: forward,
    gpu: ([x]) => sum(x),
    referenceBackward: backward,
    atol,
  });

gpuTest("sum: one element", () => check([1]));
gpuTest("sum: odd NCHW", () => check([1, 1, 7, 9]));
gpuTest("sum: fewer elements than partial sums", () => check([3, 5, 2]));
gpuTest("sum: many partials, odd size", () => check([9, 3, 241, 239], 2e-3));
gpuTest("sum: every partial full (4096 parts)", () => check([64 * 65536 * 2 + 5], 5e-3));

Deno.test("sum: reference backward matches finite differences", () => {
  checkGradient({ shapes: [[3, 5, 7]], forward, backward });
});
