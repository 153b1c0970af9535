import assert from "node:assert/strict";
import {
  concatChannels,
  concatChannelsBackwardReference,
  concatChannelsReference,
} from "../gpu/ops/concat.ts";
import { Tensor } from "../gpu/tensor.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const check = (shapes: number[][]) =>
  checkOp({
    shapes,
    reference: (xs) => concatChannelsReference(xs, shapes),
    gpu: (ts) => concatChannels(ts),
    referenceBackward: (_, g) => concatChannelsBackwardReference(g, shapes),
  });

gpuTest("concat: two single channels, N=1", () => check([[1, 1, 3, 5], [1, 1, 3, 5]]));
gpuTest("concat: uneven channels, N=3", () => check([[3, 2, 7, 9], [3, 5, 7, 9]]));
gpuTest(
  "concat: four inputs (stacking modalities)",
  () => check([[2, 1, 13, 11], [2, 3, 13, 11], [2, 1, 13, 11], [2, 2, 13, 11]]),
);
gpuTest("concat: rank 2", () => check([[5, 3], [5, 1], [5, 67]]));
gpuTest(
  "concat: block over 65535 workgroups",
  () => check([[1, 1, 64 * 65535 + 3], [1, 1, 64 * 65535 + 3]]),
);
gpuTest("concat: mismatched spatial size is refused", () => {
  assert.throws(
    () => concatChannels([Tensor.zeros([1, 2, 4, 4]), Tensor.zeros([1, 2, 4, 5])]),
    /differ/,
  );
});

Deno.test("concat: reference backward matches finite differences", () => {
  const shapes = [[2, 2, 3, 3], [2, 1, 3, 3], [2, 3, 3, 3]];
  checkGradient({
    shapes,
    forward: (xs) => concatChannelsReference(xs, shapes),
    backward: (_, g) => concatChannelsBackwardReference(g, shapes),
  });
});
