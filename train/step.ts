// This module is browser compatible.
/**
 * One training step: a batch of windows copied out of their loaded cases
 * and augmented, then forward, cross-entropy, backward and one Adam update
 * on the GPU, with only the loss read back.
 *
 * @module
 */

import { Tape } from "../gpu/autograd.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { add } from "../gpu/ops/add.ts";
import { softDice } from "../gpu/ops/soft_dice.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import type { AugmentOptions } from "./augment.ts";
import { assembleBatch, type BatchArrays, type LoadedCase } from "./training_data.ts";
import type { PatchOptions, TrainingWindow } from "./window_sampler.ts";

/**
 * One optimisation step on assembled arrays; returns the batch's loss: the
 * (class-weighted) cross-entropy, plus `dice` × the soft Dice loss when `dice` > 0.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * import { trainStep } from "./step.ts";
 * await getDevice();
 * const network = SegmentationNetwork.create(modelConfig("unet", { widths: [2, 2, 2, 2] }));
 * const plane = 16 * 16;
 * const loss = await trainStep(network, {
 *   image: new Float32Array(3 * 4 * plane).fill(0.5),
 *   labels: new Float32Array(3 * plane),
 *   windows: 1,
 *   seq: 3,
 *   modalities: 4,
 *   height: 16,
 *   width: 16,
 * }, { weights: null, lr: 1e-3 });
 * console.log(loss);
 * network.release();
 * ```
 */
export async function trainStep(
  network: SegmentationNetwork,
  arrays: BatchArrays,
  options: { weights: Tensor | null; lr: number; dice?: number },
): Promise<number> {
  const scope = TensorScope.begin();
  try {
    const n = arrays.windows * arrays.seq;
    const x = Tensor.from(arrays.image, [n, arrays.modalities, arrays.height, arrays.width], {
      label: "train.input",
    });
    const y = Tensor.from(arrays.labels, [n, 1, arrays.height, arrays.width], {
      label: "train.labels",
    });
    const tape = new Tape();
    const dice = options.dice ?? 0;
    const loss = tape.run(() => {
      const logits = network.forward(x, { steps: arrays.seq, mode: "train" });
      const ce = softmaxCrossEntropy(logits, y, { weights: options.weights });
      if (dice === 0) return ce;
      return add(ce, softDice(logits, y, { weight: dice }));
    });
    tape.backward(loss);
    adamStep(network.params, { lr: options.lr });
    network.params.zeroGrad();
    return (await loss.read())[0];
  } finally {
    scope.end();
  }
}

/** Where a batch sits in the run: its draws are keyed by (seed, epoch, step). */
export interface BatchPosition {
  /** Seed of the run. */
  seed: number;
  /** Global epoch (0-based). */
  epoch: number;
  /** Batch index in the epoch (0-based). */
  step: number;
}

/**
 * Assembles and trains one batch of windows; returns its loss.
 *
 * @throws {RangeError} when the loss is not finite (training diverged).
 * @example
 * ```ts
 * import { cropFor } from "../data/preprocess.ts";
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * import { trainBatch } from "./step.ts";
 * await getDevice();
 * const network = SegmentationNetwork.create(modelConfig("unet", { widths: [2, 2, 2, 2] }));
 * const plane = 16 * 16;
 * const loaded = {
 *   id: "a", width: 16, height: 16, depth: 4, crop: cropFor(16, 16), modalities: 4,
 *   image: new Float32Array(4 * 4 * plane).fill(0.5), classes: new Uint8Array(4 * plane),
 * };
 * const loss = await trainBatch(network, [{ caseIndex: 0, start: 0, tumour: false }], {
 *   cases: [loaded], seq: 3, at: { seed: 1, epoch: 0, step: 0 }, weights: null, lr: 1e-3,
 * });
 * console.log(loss);
 * network.release();
 * ```
 */
export async function trainBatch(
  network: SegmentationNetwork,
  batch: readonly TrainingWindow[],
  options: {
    cases: readonly LoadedCase[];
    seq: number;
    at: BatchPosition;
    augment?: AugmentOptions | false;
    patch?: PatchOptions;
    weights: Tensor | null;
    lr: number;
    dice?: number;
  },
): Promise<number> {
  const { at } = options;
  const arrays = assembleBatch(batch, {
    cases: options.cases,
    seq: options.seq,
    key: [at.seed, at.epoch, at.step],
    augment: options.augment,
    patch: options.patch,
  });
  const { weights, lr, dice } = options;
  const loss = await trainStep(network, arrays, { weights, lr, dice });
  if (!Number.isFinite(loss)) {
    throw new RangeError(
      `training diverged at epoch ${at.epoch + 1}, batch ${at.step + 1} (loss ${loss}); ` +
        `try a lower --lr`,
    );
  }
  return loss;
}
