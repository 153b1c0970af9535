import { argmaxChannels, argmaxChannelsReference } from "../gpu/ops/argmax.ts";
import { checkOp, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const check = (dims: number[], inputs?: Float64Array[]) =>
  checkOp({
    shapes: [dims],
    inputs,
    reference: ([x]) => argmaxChannelsReference(x, { dims }),
    gpu: ([x]) => argmaxChannels(x),
    atol: 0,
    rtol: 0,
  });

gpuTest("argmaxChannels: GPU matches reference on odd shapes", async () => {
  for (const dims of [[1, 1, 1, 1], [1, 2, 3, 5], [2, 5, 7, 9], [3, 5, 67, 61]]) await check(dims);
});

gpuTest("argmaxChannels: ties go to the lowest class index", async () => {
  // Values from a set of 3 over 5 channels: most pixels have tied maxima.
  const dims = [2, 5, 9, 11];
  const x = randomArray(2 * 5 * 9 * 11, 4, 0, 3).map(Math.floor);
  await check(dims, [x]);
  await check([1, 4, 2, 3], [new Float64Array(24)]); // all equal: class 0 everywhere
});
