import { add, addBackwardReference, addReference } from "../gpu/ops/add.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const forward = ([a, b]: Float64Array[]) => addReference(a, b);
const backward = (_: Float64Array[], g: Float64Array) => addBackwardReference(g);

gpuTest("add: GPU matches reference, forward and backward", async () => {
  for (const shape of [[1], [3, 5, 7], [2, 64, 130]]) {
    await checkOp({
      shapes: [shape, shape],
      reference: forward,
      gpu: ([a, b]) => add(a, b),
      referenceBackward: backward,
    });
  }
});

gpuTest("add: odd size spread over a 2-D grid", async () => {
  const n = 64 * 65535 + 13;
  await checkOp({ shapes: [[n], [n]], reference: forward, gpu: ([a, b]) => add(a, b) });
});

Deno.test("add: reference backward matches finite differences", () => {
  checkGradient({ shapes: [[4, 5], [4, 5]], forward, backward });
});
