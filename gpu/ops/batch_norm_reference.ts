// This module is browser compatible.
/**
 * The plain-TypeScript float64 references of batch_norm.ts (forward, and backward to the input, γ
 * and β, through the fused ReLU) that its kernels are tested against.
 *
 * @module
 */

import type { BatchNormOptions } from "./batch_norm.ts";

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
 * import { batchNormReference } from "./batch_norm_reference.ts";
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
 * import { batchNormBackwardReference } from "./batch_norm_reference.ts";
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
