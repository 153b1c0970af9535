import assert from "node:assert/strict";
import {
  maxPool2x2,
  maxPool2x2BackwardReference,
  maxPool2x2Reference,
} from "../gpu/ops/max_pool.ts";
import { Tape } from "../gpu/autograd.ts";
import { encoder } from "../gpu/kernel.ts";
import { Tensor } from "../gpu/tensor.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const check = (shape: number[], inputs?: Float64Array[]) =>
  checkOp({
    shapes: [shape],
    inputs,
    reference: ([x]) => maxPool2x2Reference(x, { shape }),
    gpu: ([x]) => maxPool2x2(x),
    referenceBackward: ([x], g) => [maxPool2x2BackwardReference(x, g, { shape })],
  });

gpuTest("max_pool: 2×2 to 1×1", () => check([1, 1, 2, 2]));
gpuTest("max_pool: odd sizes are floored", () => check([1, 1, 7, 9]));
gpuTest("max_pool: N=3, C=5, odd and larger than a tile", () => check([3, 5, 19, 33]));
gpuTest("max_pool: an input smaller than 2×2 is refused", () => {
  assert.throws(() => maxPool2x2(Tensor.zeros([2, 3, 1, 5])), /smaller than 2×2/);
});
gpuTest(
  "max_pool: ties go to the first element",
  () => check([1, 2, 4, 4], [new Float64Array(32).fill(1)]),
);
gpuTest("max_pool: 3×3 gives 1×1 and no gradient to the last row and column", async () => {
  await check([1, 1, 3, 3], [Float64Array.from([1, 2, 9, 3, 4, 9, 9, 9, 9])]);
});

gpuTest("max_pool: the argmax is kept only when recording", () => {
  const x = Tensor.zeros([1, 1, 8, 8], { requiresGrad: true });
  const before = encoder.pool.bytesLive;
  maxPool2x2(x);
  assert.equal(encoder.pool.bytesLive - before, 64);
  const tape = new Tape();
  tape.run(() => maxPool2x2(x));
  assert.equal(encoder.pool.bytesLive - before, 64 + 128);
  assert.equal(tape.length, 1);
});

Deno.test("max_pool: reference backward matches finite differences", () => {
  const shape = [2, 3, 5, 7];
  checkGradient({
    shapes: [shape],
    forward: ([x]) => maxPool2x2Reference(x, { shape }),
    backward: ([x], g) => [maxPool2x2BackwardReference(x, g, { shape })],
  });
});
gpuTest("max_pool: vec4 path (W multiple of 4, even H), odd pair counts, ties", async () => {
  await check([2, 3, 6, 12]);
  await check([1, 2, 4, 8]);
  await check([1, 1, 2, 20]);
  await check([1, 2, 4, 4], [new Float64Array(32).fill(1)]);
});
