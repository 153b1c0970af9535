// This module is browser compatible.
/**
 * One training step on a batch already assembled (windows copied out of their
 * loaded cases and augmented): forward, loss, backward and one Adam update on
 * the GPU, with only the loss read back.
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
import type { BatchArrays } from "./training_data.ts";

/** Options of {@linkcode trainStep}. */
export interface StepOptions {
  /** Class weights of the cross-entropy (null: unweighted). */
  weights: Tensor | null;
  /** Adam learning rate. */
  lr: number;
  /** Weight of the soft Dice term (default 0: cross-entropy alone). */
  dice?: number;
  /**
   * Called once the step is submitted, before its loss is awaited: CPU work done here (the next
   * batch) overlaps the GPU's on adapters whose submit returns at once.
   */
  whileRunning?: () => void;
}

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
  options: StepOptions,
): Promise<number> {
  const scope = TensorScope.begin();
  let loss: Promise<Float32Array>;
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
    const value = tape.run(() => {
      const logits = network.forward(x, { steps: arrays.seq, mode: "train" });
      const ce = softmaxCrossEntropy(logits, y, { weights: options.weights });
      if (dice === 0) return ce;
      return add(ce, softDice(logits, y, { weight: dice }));
    });
    tape.backward(value, undefined, { releaseSaved: true });
    adamStep(network.params, { lr: options.lr });
    network.params.zeroGrad();
    // Submits the step; the read-back waits for it, so the caller's work goes in between.
    loss = value.read();
  } finally {
    scope.end();
  }
  try {
    options.whileRunning?.();
  } catch (e) {
    loss.catch(() => {}); // the step's own failure, if any, is not the one to report
    throw e;
  }
  return (await loss)[0];
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
 * Trains one assembled batch (see `assembleBatch`); returns its loss.
 *
 * @throws {RangeError} when the loss is not finite (training diverged).
 * @example
 * ```ts
 * import { cropFor } from "../data/preprocess.ts";
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * import { trainBatch } from "./step.ts";
 * import { assembleBatch } from "./training_data.ts";
 * await getDevice();
 * const network = SegmentationNetwork.create(modelConfig("unet", { widths: [2, 2, 2, 2] }));
 * const plane = 16 * 16;
 * const loaded = {
 *   id: "a", width: 16, height: 16, depth: 4, crop: cropFor(16, 16), modalities: 4,
 *   image: new Float32Array(4 * 4 * plane).fill(0.5), classes: new Uint8Array(4 * plane),
 * };
 * const at = { seed: 1, epoch: 0, step: 0 };
 * const windows = [{ caseIndex: 0, start: 0, tumour: false }];
 * const key = [at.seed, at.epoch, at.step] as const;
 * const arrays = assembleBatch(windows, { cases: [loaded], seq: 3, key });
 * const loss = await trainBatch(network, arrays, { at, weights: null, lr: 1e-3 });
 * console.log(loss);
 * network.release();
 * ```
 */
export async function trainBatch(
  network: SegmentationNetwork,
  arrays: BatchArrays,
  options: StepOptions & { at: BatchPosition },
): Promise<number> {
  const { at } = options;
  const loss = await trainStep(network, arrays, options);
  if (!Number.isFinite(loss)) {
    throw new RangeError(
      `training diverged at epoch ${at.epoch + 1}, batch ${at.step + 1} (loss ${loss}); ` +
        `try a lower --lr`,
    );
  }
  return loss;
}
