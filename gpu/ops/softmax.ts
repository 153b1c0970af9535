// This module is browser compatible.
/**
 * Softmax over the channels of [N, K, H, W], forward only: averaging class
 * probabilities at inference. The plain-TypeScript reference, the WGSL, the
 * dispatch. Training uses the fused softmaxCrossEntropy
 * (softmax_cross_entropy.ts) instead.
 *
 * @module
 */

import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { checkLogits, eachPixel } from "./_softmax_pixels.ts";

/**
 * Reference softmax over channels in float64.
 *
 * @example
 * ```ts
 * import { softmaxReference } from "./softmax.ts";
 * const probs = softmaxReference([0, Math.log(3)], { dims: [1, 2, 1, 1] });
 * console.log(probs); // Float64Array(2) [0.25, 0.7500000000000001]
 * ```
 */
export function softmaxReference(
  logits: ArrayLike<number>,
  options: { dims: readonly number[] },
): Float64Array {
  const out = new Float64Array(logits.length);
  eachPixel(logits, new Float64Array(logits.length), options.dims, (_, idx, lse) => {
    for (const i of idx) out[i] = Math.exp(logits[i] - lse);
  });
  return out;
}

const cache = new Map<number, Kernel>();

/** The softmax kernel for `k` classes (cached; K is a constant of the code, so loops unroll). */
function softmaxKernel(k: number): Kernel {
  let kernel = cache.get(k);
  if (kernel) return kernel;
  kernel = {
    name: "softmax.forward",
    code: /* wgsl */ `
const K = ${k}u;
struct P { pixels: u32, hw: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let px = ${LINEAR_INDEX};
  if (px >= p.pixels) { return; }
  let base = (px / p.hw) * K * p.hw + px % p.hw;
  var z: array<f32, K>;
  var m = logits[base];
  for (var k = 0u; k < K; k++) { z[k] = logits[base + k * p.hw]; m = max(m, z[k]); }
  var s = 0.0;
  for (var k = 0u; k < K; k++) { z[k] = exp(z[k] - m); s += z[k]; }
  for (var k = 0u; k < K; k++) { probs[base + k * p.hw] = z[k] / s; }
}`,
  };
  cache.set(k, kernel);
  return kernel;
}

/**
 * Softmax over the channel axis of [N, K, H, W] (forward only: for averaging
 * class probabilities at inference).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { softmax } from "./softmax.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const probs = softmax(Tensor.from([0, 0], [1, 2, 1, 1]));
 * console.log(await probs.read()); // Float32Array(2) [0.5, 0.5]
 * scope.end();
 * ```
 */
export function softmax(logits: Tensor): Tensor {
  const [pixels, hw, k] = checkLogits("softmax", logits);
  const probs = Tensor.empty(logits.shape, { label: "softmax" });
  dispatch(softmaxKernel(k), [logits, probs], {
    params: [pixels, hw],
    workgroups: gridFor(pixels),
  });
  return probs;
}
