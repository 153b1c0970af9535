import assert from "node:assert/strict";
import { modelConfig } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { trainStep } from "../train/step.ts";
import type { BatchArrays } from "../train/training_data.ts";
import { gpuTest } from "./_gpu.ts";

/** A batch of 2 windows × 3 slices of 16², with a square "tumour" of classes 1-3. */
function batch(): BatchArrays {
  const plane = 16 * 16, n = 2 * 3;
  const labels = new Float32Array(n * plane);
  const image = new Float32Array(n * 4 * plane);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < plane; i++) {
      const [x, y] = [i % 16, Math.floor(i / 16)];
      const c = x >= 4 && x < 12 && y >= 4 && y < 12 ? 1 + ((x + y + s) % 3) : 0;
      labels[s * plane + i] = c;
      for (let m = 0; m < 4; m++) image[(s * 4 + m) * plane + i] = c * 0.3 + m * 0.1 - 0.5;
    }
  }
  return { image, labels, windows: 2, seq: 3, modalities: 4, height: 16, width: 16 };
}

gpuTest(
  "trainStep: the loss is cross-entropy plus `dice` × soft Dice, on the same logits",
  async () => {
    const losses: number[] = [];
    for (const dice of [0, 1, 2.5]) {
      // The same seed: identical weights, so the first step sees identical logits.
      const network = SegmentationNetwork.create(modelConfig("unet", { widths: [4, 4, 4, 4] }), {
        seed: 3,
      });
      try {
        losses.push(await trainStep(network, batch(), { weights: null, lr: 1e-3, dice }));
      } finally {
        network.release();
      }
    }
    const [ce, plusOne, plusTwoAndHalf] = losses;
    const softDice = plusOne - ce;
    assert.ok(softDice > 0.05 && softDice < 1, `soft Dice ${softDice}`);
    assert.ok(Math.abs((plusTwoAndHalf - ce) - 2.5 * softDice) < 1e-4, losses.join(", "));
  },
);
