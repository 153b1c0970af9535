import assert from "node:assert/strict";
import {
  DICE_SMOOTH,
  softDice,
  softDiceBackwardReference,
  softDiceReference,
} from "../gpu/ops/soft_dice.ts";
import { Tensor } from "../gpu/tensor.ts";
import { checkGradient, checkOp, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

type Shape = [number, number, number, number];

/** Class ids in [-1, K): about one pixel in K+1 is ignored. */
const labelsFor = ([n, k, h, w]: Shape, seed: number) =>
  randomArray(n * h * w, seed, -1, k).map(Math.floor);

async function checkCase(s: Shape, seed = 1): Promise<void> {
  const [n, , h, w] = s;
  const labels = labelsFor(s, seed + 50);
  const labelT = Tensor.from(labels, [n, 1, h, w]);
  await checkOp({
    shapes: [s],
    inputs: [randomArray(s.reduce((a, b) => a * b, 1), seed, -4, 4)],
    reference: ([z]) => softDiceReference(z, labels, { dims: s }),
    gpu: ([z]) => softDice(z, labelT),
    referenceBackward: ([z], g) => [softDiceBackwardReference(z, labels, { dims: s, grad: g[0] })],
    atol: 1e-5,
  });
}

gpuTest("softDice: GPU matches reference, forward and backward, odd shapes", async () => {
  for (const s of [[1, 2, 1, 1], [1, 2, 3, 5], [2, 5, 7, 9], [3, 4, 31, 33]] as Shape[]) {
    await checkCase(s);
  }
});

gpuTest("softDice: more pixels than partial-sum threads (strided sums), 4 classes", async () => {
  await checkCase([9, 4, 96, 96], 3);
});

Deno.test("softDice: reference backward matches finite differences", () => {
  for (const s of [[1, 2, 2, 3], [2, 4, 3, 3]] as Shape[]) {
    const labels = labelsFor(s, 9);
    checkGradient({
      shapes: [s],
      forward: ([z]) => softDiceReference(z, labels, { dims: s }),
      backward: ([z], g) => [softDiceBackwardReference(z, labels, { dims: s, grad: g[0] })],
    });
  }
});

Deno.test("softDice: reference is 1 − mean foreground Dice of the soft prediction", () => {
  // Hard one-hot predictions (logits ±30): the soft Dice is the Dice of the labels, smoothed.
  const dims: Shape = [1, 3, 1, 4];
  const predicted = [0, 1, 1, 2];
  const truth = [0, 1, 2, 2];
  const logits = new Float64Array(12);
  predicted.forEach((c, px) => {
    for (let k = 0; k < 3; k++) logits[k * 4 + px] = k === c ? 30 : -30;
  });
  // Class 1: I = 1, S = 2 + 1; class 2: I = 1, S = 1 + 2.
  const dice = (i: number, s: number) => (2 * i + DICE_SMOOTH) / (s + DICE_SMOOTH);
  const want = 1 - (dice(1, 3) + dice(1, 3)) / 2;
  assert.ok(Math.abs(softDiceReference(logits, truth, { dims })[0] - want) < 1e-9);
  // Ignored pixels count for nothing: dropping pixel 3 (a true class 2, predicted 2) changes class 2's sums.
  const ignored = [0, 1, 2, -1];
  const want2 = 1 - (dice(1, 3) + dice(0, 1)) / 2;
  assert.ok(Math.abs(softDiceReference(logits, ignored, { dims })[0] - want2) < 1e-9);
});

gpuTest("softDice: wrong shapes are refused in one line", () => {
  const z = Tensor.zeros([1, 3, 2, 2]);
  assert.throws(
    () => softDice(z, Tensor.zeros([1, 1, 2, 3])),
    /labels \[1,1,2,3\] must be \[1, 1, 2, 2\]/,
  );
  assert.throws(
    () => softDice(Tensor.zeros([1, 1, 2, 2]), Tensor.zeros([1, 1, 2, 2])),
    /at least 2 classes/,
  );
});
