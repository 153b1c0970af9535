// This module is browser compatible.
/**
 * Batch normalisation over NCHW (per channel, statistics over N, H, W),
 * training and inference: the plain-TypeScript references (forward, backward),
 * then the dispatch of the WGSL kernels in `_batch_norm_wgsl.ts` (two-pass
 * per-channel reductions without barriers). Folding into a convolution:
 * batch_norm_fold.ts.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, f32Bits } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import {
  GRAD_FINAL,
  GRAD_INPUT,
  GRAD_PARTIAL,
  NORMALIZE,
  partsFor,
  planeGrid,
  RUNNING_STATS,
  STATS_FINAL,
  STATS_PARTIAL,
  type Variants,
} from "./_batch_norm_wgsl.ts";

/** Float64 arrays of a batch-norm layer's parameters, for the references. */
export interface BatchNormReferenceParams {
  /** Scale per channel. */
  gamma: ArrayLike<number>;
  /** Shift per channel. */
  beta: ArrayLike<number>;
  /** Running mean per channel. */
  runningMean: ArrayLike<number>;
  /** Running variance per channel. */
  runningVar: ArrayLike<number>;
}

/** Options of {@linkcode batchNormReference}. */
export interface BatchNormReferenceOptions extends BatchNormOptions {
  /** Input shape [N, C, H, W]. */
  shape: readonly number[];
}

/** Per-channel mean and biased variance over N, H, W, in float64. */
function channelStats(
  x: ArrayLike<number>,
  shape: readonly number[],
): [Float64Array, Float64Array] {
  const [n, c, h, w] = shape;
  const hw = h * w;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let j = 0; j < hw; j++) s += x[(b * c + ch) * hw + j];
    mean[ch] = s / (n * hw);
    let v = 0;
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) v += (x[(b * c + ch) * hw + j] - mean[ch]) ** 2;
    }
    variance[ch] = v / (n * hw);
  }
  return [mean, variance];
}

/**
 * Reference forward in float64: the output, and the running statistics after
 * the call (updated in training mode, unchanged in inference).
 *
 * @example
 * ```ts
 * import { batchNormReference } from "./batch_norm.ts";
 * const params = { gamma: [1], beta: [0], runningMean: [0], runningVar: [1] };
 * const options = { shape: [2, 1, 1, 1], training: true, eps: 0 };
 * const { y, runningMean } = batchNormReference([1, 3], params, options);
 * console.log(y, runningMean); // Float64Array(2) [-1, 1] Float64Array(1) [0.2]
 * ```
 */
export function batchNormReference(
  x: ArrayLike<number>,
  params: BatchNormReferenceParams,
  options: BatchNormReferenceOptions,
): { y: Float64Array; runningMean: Float64Array; runningVar: Float64Array } {
  const [n, c, h, w] = options.shape;
  const hw = h * w;
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  const runningMean = Float64Array.from(params.runningMean);
  const runningVar = Float64Array.from(params.runningVar);
  let mean: ArrayLike<number> = runningMean;
  let variance: ArrayLike<number> = runningVar;
  if (options.training) {
    [mean, variance] = channelStats(x, options.shape);
    const m = n * hw;
    for (let ch = 0; ch < c; ch++) {
      runningMean[ch] = (1 - momentum) * params.runningMean[ch] + momentum * mean[ch];
      runningVar[ch] = (1 - momentum) * params.runningVar[ch] +
        momentum * variance[ch] * m / (m - 1);
    }
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % c;
    y[i] = (x[i] - mean[ch]) / Math.sqrt(variance[ch] + eps) * params.gamma[ch] + params.beta[ch];
    if (options.relu && y[i] < 0) y[i] = 0;
  }
  return { y, runningMean, runningVar };
}

/** Options of {@linkcode batchNormBackwardReference}. */
export interface BatchNormBackwardReferenceOptions extends BatchNormReferenceOptions {
  /** The layer's parameters (γ; β with `relu`; the running statistics in inference mode). */
  params: BatchNormReferenceParams;
}

/**
 * Reference backward in float64: gradients of x, γ and β given the output
 * gradient. Training differentiates through the batch statistics; inference
 * treats the running statistics as constants.
 *
 * @example
 * ```ts
 * import { batchNormBackwardReference } from "./batch_norm.ts";
 * const params = { gamma: [1], beta: [0], runningMean: [0], runningVar: [1] };
 * const { dx, dgamma, dbeta } = batchNormBackwardReference([1, 3], [1, 0], {
 *   shape: [2, 1, 1, 1], params, training: true, eps: 0,
 * });
 * console.log(dx, dgamma[0], dbeta[0]); // Float64Array(2) [0, 0] -1 1
 * ```
 */
export function batchNormBackwardReference(
  x: ArrayLike<number>,
  outputGrad: ArrayLike<number>,
  options: BatchNormBackwardReferenceOptions,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [n, c, h, w] = options.shape;
  const hw = h * w;
  const m = n * hw;
  const eps = options.eps ?? 1e-5;
  const { gamma, beta } = options.params;
  const [mean, variance] = options.training
    ? channelStats(x, options.shape)
    : [options.params.runningMean, options.params.runningVar];
  const inv = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const channel = (i: number) => Math.floor(i / hw) % c;
  // Through a fused max(·, 0), the gradient is zero where the normalised output is not positive.
  const grad = options.relu
    ? Float64Array.from(outputGrad, (g, i) => {
      const ch = channel(i);
      return (x[i] - mean[ch]) * inv[ch] * gamma[ch] + beta[ch] > 0 ? g : 0;
    })
    : outputGrad;
  for (let i = 0; i < x.length; i++) {
    const ch = channel(i);
    dbeta[ch] += grad[i];
    dgamma[ch] += grad[i] * (x[i] - mean[ch]) * inv[ch];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = channel(i);
    const xhat = (x[i] - mean[ch]) * inv[ch];
    const centred = options.training ? grad[i] - dbeta[ch] / m - xhat * dgamma[ch] / m : grad[i];
    dx[i] = gamma[ch] * inv[ch] * centred;
  }
  return { dx, dgamma, dbeta };
}

/** The learned scale and shift and the running statistics of one batch-norm layer, each [C]. */
export interface BatchNormParams {
  /** Scale γ (learned). */
  gamma: Tensor;
  /** Shift β (learned). */
  beta: Tensor;
  /** Running mean, updated in training mode. */
  runningMean: Tensor;
  /** Running (unbiased) variance, updated in training mode. */
  runningVar: Tensor;
}

/** Options of {@linkcode batchNorm}. */
export interface BatchNormOptions {
  /** Batch statistics (and running-stat update) when true; running statistics when false. */
  training: boolean;
  /** `max(·, 0)` of the output, fused (the backward recomputes the mask from x). */
  relu?: boolean;
  /** Weight of the new batch in the running averages (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

function checkShapes(x: Tensor, params: BatchNormParams): [number, number, number] {
  if (x.shape.length !== 4) throw new RangeError(`batchNorm: shape [${x.shape}] is not NCHW`);
  const [n, c, h, w] = x.shape;
  for (const [name, t] of Object.entries(params)) {
    if ((t as Tensor).size !== c) {
      throw new RangeError(`batchNorm: ${name} has ${(t as Tensor).size} values for ${c} channels`);
    }
  }
  if (n > 65535 || c > 65535) throw new RangeError(`batchNorm: shape [${x.shape}] too large`);
  return [n, c, h * w];
}

/**
 * Batch normalisation of `x` [N, C, H, W]. Training normalises with the batch
 * mean and biased variance over N·H·W and updates the running statistics on
 * the GPU (unbiased variance, like PyTorch); inference uses the running
 * statistics. Gradients flow to x, γ and β.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { batchNorm } from "./batch_norm.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const bn = {
 *   gamma: Tensor.from([1], [1]), beta: Tensor.from([0], [1]),
 *   runningMean: Tensor.from([0], [1]), runningVar: Tensor.from([1], [1]),
 * };
 * const y = batchNorm(Tensor.from([1, 3], [2, 1, 1, 1]), bn, { training: true, eps: 0 });
 * console.log(await y.read()); // Float32Array(2) [-1, 1]
 * scope.end();
 * ```
 */
export function batchNorm(x: Tensor, params: BatchNormParams, options: BatchNormOptions): Tensor {
  const [n, c, hw] = checkShapes(x, params);
  const { gamma, beta, runningMean, runningVar } = params;
  const eps = options.eps ?? 1e-5;
  const count = n * hw;
  // Plane kernels index in units of T (vec4 when every plane is a whole number of vec4).
  const vec = hw % 4 === 0;
  const pick = (k: Variants) => (vec ? k.vec4 : k.scalar);
  const units = vec ? hw / 4 : hw;
  const stats = Tensor.empty([2, c], { label: "batch_norm.stats" });
  const channels = Math.ceil(c / 64);
  const parts = partsFor(units);
  if (options.training) {
    if (count < 2) {
      throw new RangeError(
        `batchNorm: training needs more than 1 value per channel, got [${x.shape}]`,
      );
    }
    const partial = Tensor.empty([c, parts, 3], { label: "batch_norm.partial" });
    dispatch(pick(STATS_PARTIAL), [x, partial], {
      params: [units, c, n, parts],
      workgroups: [parts / 64, c],
    });
    dispatch(STATS_FINAL, [partial, stats, runningMean, runningVar], {
      params: [c, parts, f32Bits(options.momentum ?? 0.1), f32Bits(eps)],
      workgroups: channels,
    });
    partial.release();
  } else {
    dispatch(RUNNING_STATS, [runningMean, runningVar, stats], {
      params: [c, f32Bits(eps)],
      workgroups: channels,
    });
  }
  const y = Tensor.empty(x.shape, { label: "batch_norm" });
  const { workgroups, step } = planeGrid(units, c, n);
  const relu = options.relu ? 1 : 0;
  dispatch(pick(NORMALIZE), [x, stats, gamma, beta, y], {
    params: [units, c, step, relu],
    workgroups,
  });
  const saving = isRecording() && [x, gamma, beta].some((t) => t.requiresGrad);
  if (!saving) {
    stats.release();
    return y;
  }
  recordOp("batch_norm", [x, gamma, beta], y, ([g]) => {
    const partial = Tensor.empty([c, parts, 2], { label: "batch_norm.grad_partial" });
    dispatch(pick(GRAD_PARTIAL), [x, g, stats, gamma, beta, partial], {
      params: [units, c, n, parts, relu],
      workgroups: [parts / 64, c],
    });
    const dgamma = Tensor.empty([c], { label: "batch_norm.grad_gamma" });
    const dbeta = Tensor.empty([c], { label: "batch_norm.grad_beta" });
    dispatch(GRAD_FINAL, [partial, dgamma, dbeta], { params: [c, parts], workgroups: channels });
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape, { label: "batch_norm.grad" });
      dispatch(pick(GRAD_INPUT), [x, g, stats, gamma, beta, dgamma, dbeta, dx], {
        params: [units, c, step, options.training ? 1 : 0, f32Bits(count), relu],
        workgroups,
      });
    }
    partial.release();
    stats.release();
    return [dx, dgamma, dbeta];
  });
  return y;
}
