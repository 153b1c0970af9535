// This module is browser compatible.
/**
 * Folding an inference-mode batch norm into the convolution before it, so
 * inference runs one conv instead of conv + normalise; with the reference.
 *
 * @module
 */

import { dispatch, f32Bits, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import type { BatchNormParams, BatchNormReferenceParams } from "./batch_norm.ts";

/** Options of {@linkcode foldBatchNorm}. */
export interface FoldBatchNormOptions {
  /** The batch norm's epsilon (default 1e-5). */
  eps?: number;
}

/**
 * Reference of {@linkcode foldBatchNorm} in float64, for a weight [Cout, ...]
 * and an optional bias [Cout].
 *
 * @example
 * ```ts
 * import { foldBatchNormReference } from "./batch_norm_fold.ts";
 * const bn = { gamma: [2], beta: [1], runningMean: [0], runningVar: [1] };
 * const { weight, bias } = foldBatchNormReference([1, 1], null, { params: bn, eps: 0 });
 * console.log(weight, bias); // Float64Array(2) [2, 2] Float64Array(1) [1]
 * ```
 */
export function foldBatchNormReference(
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  options: { params: BatchNormReferenceParams; eps?: number },
): { weight: Float64Array; bias: Float64Array } {
  const { gamma, beta, runningMean, runningVar } = options.params;
  const cout = gamma.length;
  const per = weight.length / cout;
  const eps = options.eps ?? 1e-5;
  const scale = Float64Array.from(runningVar, (v, c) => gamma[c] / Math.sqrt(v + eps));
  return {
    weight: Float64Array.from(weight, (v, i) => v * scale[Math.floor(i / per)]),
    bias: Float64Array.from(scale, (s, c) => ((bias?.[c] ?? 0) - runningMean[c]) * s + beta[c]),
  };
}

const FOLD_WEIGHT: Kernel = {
  name: "batch_norm.fold_weight",
  code: /* wgsl */ `
struct P { n: u32, per: u32, eps: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> runningVar: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  let c = i / p.per;
  out[i] = w[i] * gamma[c] * inverseSqrt(runningVar[c] + bitcast<f32>(p.eps));
}`,
};

const FOLD_BIAS: Kernel = {
  name: "batch_norm.fold_bias",
  code: /* wgsl */ `
struct P { c: u32, eps: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> runningMean: array<f32>;
@group(0) @binding(5) var<storage, read> runningVar: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.c) { return; }
  let s = gamma[c] * inverseSqrt(runningVar[c] + bitcast<f32>(p.eps));
  out[c] = (b[c] - runningMean[c]) * s + beta[c];
}`,
};

/**
 * Folds an inference-mode batch norm into the convolution before it:
 * `conv(x; weight, bias) → BN` equals `conv(x; result.weight, result.bias)`.
 * `convWeight` is [Cout, ...] (output channel first); a null bias counts as 0.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { foldBatchNorm } from "./batch_norm_fold.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * // A 1×1 conv [Cout 2, Cin 1] whose batch norm scales by 2 and shifts by 1 in both channels.
 * const weight = Tensor.from([1, 3], [2, 1, 1, 1]);
 * const bn = {
 *   gamma: Tensor.from([2, 2], [2]), beta: Tensor.from([1, 1], [2]),
 *   runningMean: Tensor.zeros([2]), runningVar: Tensor.from([1, 1], [2]),
 * };
 * const folded = foldBatchNorm(weight, null, bn, { eps: 0 });
 * console.log(await folded.weight.read()); // Float32Array(2) [2, 6]
 * console.log(await folded.bias.read()); // Float32Array(2) [1, 1]
 * scope.end();
 * ```
 */
export function foldBatchNorm(
  convWeight: Tensor,
  convBias: Tensor | null,
  bn: BatchNormParams,
  options: FoldBatchNormOptions = {},
): { weight: Tensor; bias: Tensor } {
  const cout = convWeight.shape[0];
  for (const [name, t] of Object.entries({ ...bn, convBias })) {
    if (t instanceof Tensor && t.size !== cout) {
      throw new RangeError(
        `foldBatchNorm: ${name} has ${t.size} values for ${cout} output channels`,
      );
    }
  }
  const eps = f32Bits(options.eps ?? 1e-5);
  const weight = Tensor.empty(convWeight.shape, { label: "batch_norm.folded_weight" });
  dispatch(FOLD_WEIGHT, [convWeight, bn.gamma, bn.runningVar, weight], {
    params: [convWeight.size, convWeight.size / cout, eps],
    workgroups: gridFor(convWeight.size),
  });
  const b = convBias ?? Tensor.zeros([cout], { label: "batch_norm.zero_bias" });
  const bias = Tensor.empty([cout], { label: "batch_norm.folded_bias" });
  dispatch(FOLD_BIAS, [b, bn.gamma, bn.beta, bn.runningMean, bn.runningVar, bias], {
    params: [cout, eps],
    workgroups: Math.ceil(cout / 64),
  });
  if (!convBias) b.release();
  return { weight, bias };
}
