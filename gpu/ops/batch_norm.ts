// This module is browser compatible.
/**
 * Batch normalisation over NCHW (per channel, statistics over N, H, W),
 * training and inference: the dispatch of the WGSL kernels in `_batch_norm_wgsl.ts`
 * (two-pass per-channel reductions without barriers), optionally with the ReLU and a 2×2
 * max-pool fused. Float64 references: batch_norm_reference.ts (re-exported here). Folding
 * into a convolution: batch_norm_fold.ts.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, f32Bits } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { maxPool2x2 } from "./max_pool.ts";
import {
  fitsVec4,
  NORMALIZE_POOL_ARGMAX_VEC4,
  NORMALIZE_POOL_VEC4,
  poolBackwardVec4,
  vec4Grid,
} from "./_max_pool_wgsl.ts";
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

export {
  batchNormBackwardReference,
  type BatchNormBackwardReferenceOptions,
  batchNormReference,
  type BatchNormReferenceOptions,
  type BatchNormReferenceParams,
} from "./batch_norm_reference.ts";

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
  /**
   * 2×2 max-pool (stride 2) of the output, fused into the normalising pass where H is even and W
   * a multiple of 4 (else normalised, then pooled): the result is [N, C, H/2, W/2] and the
   * full-size map is never written. Not in the float64 references: compose with max_pool's.
   */
  pool?: boolean;
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
  if (options.pool && !fitsVec4(x.shape)) {
    const full = batchNorm(x, params, { ...options, pool: false });
    const pooled = maxPool2x2(full);
    if (!isRecording()) full.release();
    return pooled;
  }
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
  const { workgroups, step } = planeGrid(units, c, n);
  const relu = options.relu ? 1 : 0;
  const saving = isRecording() && [x, gamma, beta].some((t) => t.requiresGrad);
  let y: Tensor;
  let arg: Tensor | null = null;
  if (options.pool) {
    const [, , h, w] = x.shape;
    y = Tensor.empty([n, c, h / 2, w / 2], { label: "batch_norm.pooled" });
    const grid = vec4Grid(x.shape, options.relu);
    if (saving) {
      arg = Tensor.empty(y.shape, { label: "batch_norm.pool_argmax" });
      dispatch(NORMALIZE_POOL_ARGMAX_VEC4, [x, stats, gamma, beta, y, arg], grid);
    } else dispatch(NORMALIZE_POOL_VEC4, [x, stats, gamma, beta, y], grid);
  } else {
    y = Tensor.empty(x.shape, { label: "batch_norm" });
    dispatch(pick(NORMALIZE), [x, stats, gamma, beta, y], {
      params: [units, c, step, relu],
      workgroups,
    });
  }
  if (!saving) {
    stats.release();
    return y;
  }
  recordOp("batch_norm", [x, gamma, beta], y, ([pooledGrad]) => {
    // Through the fused pool: the full-size gradient of the normalised map first.
    const g = arg ? poolBackwardVec4(pooledGrad, arg, x.shape) : pooledGrad;
    arg?.release();
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
    if (g !== pooledGrad) g.release();
    partial.release();
    stats.release();
    return [dx, dgamma, dbeta];
  });
  return y;
}
