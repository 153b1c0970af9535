import assert from "node:assert/strict";
import {
  softmaxCrossEntropy,
  softmaxCrossEntropyBackwardReference,
  softmaxCrossEntropyReference,
} from "../gpu/ops/softmax_cross_entropy.ts";
import { softmax, softmaxReference } from "../gpu/ops/softmax.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, checkGradient, checkOp, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

type Shape = [number, number, number, number];

/** Class ids in [-1, K): about one pixel in K+1 is ignored. */
function labelsFor([n, k, h, w]: Shape, seed: number): Float64Array {
  return randomArray(n * h * w, seed, -1, k).map(Math.floor);
}

/** One checkOp case: logits scaled to ±4 so probabilities range widely. */
async function checkCase(s: Shape, weighted: boolean, seed = 1): Promise<void> {
  const [n, k, h, w] = s;
  const labels = labelsFor(s, seed + 50);
  const weights = weighted ? randomArray(k, seed + 60, 0.2, 3) : null;
  const labelT = Tensor.from(labels, [n, 1, h, w]);
  const weightT = weights ? Tensor.from(weights, [k]) : null;
  const logits = randomArray(n * k * h * w, seed, -4, 4);
  await checkOp({
    shapes: [s],
    inputs: [logits],
    reference: ([z]) => softmaxCrossEntropyReference(z, labels, { dims: s, weights }),
    gpu: ([z]) => softmaxCrossEntropy(z, labelT, { weights: weightT }),
    referenceBackward: ([z], g) => [
      softmaxCrossEntropyBackwardReference(z, labels, { dims: s, weights, grad: g[0] }),
    ],
    atol: 1e-5,
  });
}

gpuTest("softmaxCrossEntropy: GPU matches reference, unweighted", async () => {
  for (
    const s of [[1, 1, 1, 1], [1, 2, 3, 5], [2, 5, 7, 9], [3, 4, 31, 33], [1, 40, 3, 5]] as Shape[]
  ) {
    await checkCase(s, false);
  }
});

gpuTest("softmaxCrossEntropy: GPU matches reference, class weights", async () => {
  for (const s of [[1, 3, 1, 1], [2, 5, 7, 9], [1, 5, 150, 150]] as Shape[]) {
    await checkCase(s, true, 4);
  }
});

gpuTest("softmaxCrossEntropy: every pixel ignored gives loss 0 and zero gradient", async () => {
  const s: Shape = [1, 3, 4, 5];
  const labels = Tensor.from(new Float32Array(20).fill(-1), [1, 1, 4, 5]);
  await checkOp({
    shapes: [s],
    reference: () => Float64Array.of(0),
    gpu: ([z]) => softmaxCrossEntropy(z, labels),
    referenceBackward: () => [new Float64Array(60)],
  });
});

gpuTest("softmaxCrossEntropy: extreme logits stay finite", async () => {
  const logits = Tensor.from([1000, -1000, -1000, 1000], [1, 2, 1, 2]);
  const labels = Tensor.from([1, 1], [1, 1, 1, 2]);
  const loss = await softmaxCrossEntropy(logits, labels).read();
  assertClose(loss, [1000], { rtol: 1e-6, what: "loss" }); // (2000 + 0) / 2
});

gpuTest("softmax: GPU matches reference", async () => {
  for (const s of [[1, 1, 1, 1], [2, 5, 7, 9], [1, 4, 65, 3]] as Shape[]) {
    await checkOp({
      shapes: [s],
      reference: ([z]) => softmaxReference(z, { dims: s }),
      gpu: ([z]) => softmax(z),
      seed: 9,
    });
  }
});

gpuTest("softmaxCrossEntropy: mismatched labels or weights are rejected", () => {
  const logits = Tensor.zeros([1, 3, 2, 2]);
  assert.throws(() => softmaxCrossEntropy(logits, Tensor.zeros([1, 1, 2, 3])), /labels/);
  assert.throws(
    () => softmaxCrossEntropy(logits, Tensor.zeros([1, 1, 2, 2]), { weights: Tensor.zeros([2]) }),
    /weights/,
  );
});

Deno.test("softmaxCrossEntropy: reference backward matches finite differences", () => {
  for (const weighted of [false, true]) {
    const s: Shape = [2, 4, 3, 5];
    const labels = labelsFor(s, 3);
    const weights = weighted ? randomArray(4, 8, 0.2, 3) : null;
    checkGradient({
      shapes: [s],
      forward: ([z]) => softmaxCrossEntropyReference(z, labels, { dims: s, weights }),
      backward: ([z], g) => [
        softmaxCrossEntropyBackwardReference(z, labels, { dims: s, weights, grad: g[0] }),
      ],
      samples: 120,
    });
  }
});
