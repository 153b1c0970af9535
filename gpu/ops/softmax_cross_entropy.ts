// This module is browser compatible.
/**
 * Softmax over channels fused with per-class-weighted cross-entropy: for
 * logits [N, K, H, W] and labels [N, 1, H, W] (float class ids; < 0 or ≥ K
 * means "ignore", e.g. padding) the loss is
 * `Σ w_y · (−log softmax(z)_y) / Σ w_y` over the labelled pixels (0 when none).
 * The backward writes dlogits directly. The plain-TypeScript references
 * (forward, backward), the WGSL, the dispatch. The forward-only softmax of
 * inference is softmax.ts.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { checkLogits, eachPixel } from "./_softmax_pixels.ts";

/** Shape and weights for the cross-entropy references. */
export interface CrossEntropyReferenceOptions {
  /** Logits shape [N, K, H, W]. */
  dims: readonly number[];
  /** Per-class weights (all 1 when absent). */
  weights?: ArrayLike<number> | null;
}

/**
 * Reference weighted mean cross-entropy in float64, as a one-element array.
 *
 * @example
 * ```ts
 * import { softmaxCrossEntropyReference } from "./softmax_cross_entropy.ts";
 * const loss = softmaxCrossEntropyReference([0, 0], [1], { dims: [1, 2, 1, 1] });
 * console.log(loss[0] === Math.LN2); // true
 * ```
 */
export function softmaxCrossEntropyReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: CrossEntropyReferenceOptions,
): Float64Array {
  let num = 0;
  let den = 0;
  eachPixel(logits, labels, options.dims, (y, idx, lse) => {
    if (y < 0) return;
    const wy = options.weights ? options.weights[y] : 1;
    num += wy * (lse - logits[idx[y]]);
    den += wy;
  });
  return Float64Array.of(den > 0 ? num / den : 0);
}

/**
 * Reference gradient of the loss with respect to the logits, in float64, for
 * an upstream gradient `grad` of the scalar loss (default 1).
 *
 * @example
 * ```ts
 * import { softmaxCrossEntropyBackwardReference } from "./softmax_cross_entropy.ts";
 * const dlogits = softmaxCrossEntropyBackwardReference([0, 0], [1], { dims: [1, 2, 1, 1] });
 * console.log(dlogits); // Float64Array(2) [0.5, -0.5]
 * ```
 */
export function softmaxCrossEntropyBackwardReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: CrossEntropyReferenceOptions & { grad?: number },
): Float64Array {
  const out = new Float64Array(logits.length);
  let den = 0;
  eachPixel(logits, labels, options.dims, (y) => {
    if (y >= 0) den += options.weights ? options.weights[y] : 1;
  });
  if (!(den > 0)) return out;
  eachPixel(logits, labels, options.dims, (y, idx, lse) => {
    if (y < 0) return;
    const scale = (options.grad ?? 1) * (options.weights ? options.weights[y] : 1) / den;
    idx.forEach((i, c) => out[i] = scale * (Math.exp(logits[i] - lse) - (c === y ? 1 : 0)));
  });
  return out;
}

// Per pixel p: its image n, offset s inside the plane, and its label (-1 when ignored). The class
// count K is a constant of the generated code, so the channel loops unroll and z stays in registers.
function pixelCode(k: number): string {
  return /* wgsl */ `
const K = ${k}u;
struct P { pixels: u32, hw: u32, threads: u32, weighted: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
fn logit_base(px: u32) -> u32 { return (px / p.hw) * K * p.hw + px % p.hw; }
fn label_of(px: u32) -> i32 {
  let l = labels[px];
  if (!(l >= 0.0) || l >= f32(K)) { return -1; }
  return i32(l + 0.5);
}
// A branch, not select(): unweighted calls bind labels here, which may hold fewer than K values.
fn weight_of(y: i32) -> f32 {
  if (p.weighted == 0u) { return 1.0; }
  return weights[y];
}
fn max_of(z: array<f32, K>) -> f32 {
  var m = z[0];
  for (var k = 1u; k < K; k++) { m = max(m, z[k]); }
  return m;
}
`;
}

/** The kernels for `k` classes (cached: each distinct code string compiles once). */
function kernelsFor(k: number): { partial: Kernel; backward: Kernel } {
  let kernels = cache.get(k);
  if (kernels) return kernels;
  const pixel = pixelCode(k);
  kernels = {
    // Each thread sums a strided set of pixels (neighbouring lanes read neighbouring pixels).
    partial: {
      name: "softmax_cross_entropy.partial",
      code: /* wgsl */ `${pixel}
@group(0) @binding(4) var<storage, read_write> partial: array<vec2f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= p.threads) { return; }
  var acc = vec2f(0.0);
  for (var px = t; px < p.pixels; px += p.threads) {
    let y = label_of(px);
    if (y < 0) { continue; }
    let base = logit_base(px);
    var z: array<f32, K>;
    for (var k = 0u; k < K; k++) { z[k] = logits[base + k * p.hw]; }
    let m = max_of(z);
    var s = 0.0;
    var zy = 0.0;
    for (var k = 0u; k < K; k++) {
      s += exp(z[k] - m);
      zy = select(zy, z[k], k == u32(y));
    }
    let w = weight_of(y);
    acc += vec2f(w * (m + log(s) - zy), w);
  }
  partial[t] = acc;
}`,
    },
    backward: {
      name: "softmax_cross_entropy.backward",
      code: /* wgsl */ `${pixel}
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read> gloss: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogits: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let px = ${LINEAR_INDEX};
  if (px >= p.pixels) { return; }
  let base = logit_base(px);
  let y = label_of(px);
  if (y < 0 || !(norm[0] > 0.0)) {
    for (var k = 0u; k < K; k++) { dlogits[base + k * p.hw] = 0.0; }
    return;
  }
  var z: array<f32, K>;
  for (var k = 0u; k < K; k++) { z[k] = logits[base + k * p.hw]; }
  let m = max_of(z);
  var s = 0.0;
  for (var k = 0u; k < K; k++) { z[k] = exp(z[k] - m); s += z[k]; }
  let scale = gloss[0] * weight_of(y) / norm[0];
  for (var k = 0u; k < K; k++) {
    dlogits[base + k * p.hw] = scale * (z[k] / s - select(0.0, 1.0, k == u32(y)));
  }
}`,
    },
  };
  cache.set(k, kernels);
  return kernels;
}

const cache = new Map<number, { partial: Kernel; backward: Kernel }>();

// One invocation adds the partial sums (a few thousand): no barriers, which llvmpipe runs slowly.
const FINAL: Kernel = {
  name: "softmax_cross_entropy.final",
  code: /* wgsl */ `
struct P { threads: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partial: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> norm: array<f32>;
@compute @workgroup_size(1)
fn main() {
  var sum = vec2f(0.0);
  var carry = vec2f(0.0);
  for (var t = 0u; t < p.threads; t++) {
    // Kahan summation keeps the f32 total accurate over many partials.
    let y = partial[t] - carry;
    let s = sum + y;
    carry = (s - sum) - y;
    sum = s;
  }
  loss[0] = select(0.0, sum.x / sum.y, sum.y > 0.0);
  norm[0] = sum.y;
}`,
};

// Partial-sum threads: enough workgroups to keep every core busy, few enough for one final adder.
const MAX_THREADS = 8192;

/** Options of {@linkcode softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /** Per-class weights [K] (e.g. median frequency balancing); all 1 when absent. */
  weights?: Tensor | null;
}

/**
 * The weighted mean cross-entropy of softmax(logits) against labels, as a
 * [1] tensor (computed on the GPU; nothing is read back). Differentiable in
 * the logits.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { softmaxCrossEntropy } from "./softmax_cross_entropy.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const logits = Tensor.zeros([1, 3, 2, 2]);
 * const labels = Tensor.from([0, 1, 2, -1], [1, 1, 2, 2]); // -1: ignored pixel
 * const loss = softmaxCrossEntropy(logits, labels, { weights: Tensor.from([1, 2, 2], [3]) });
 * console.log((await loss.read())[0].toFixed(4)); // 1.0986 (ln 3)
 * scope.end();
 * ```
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  options: SoftmaxCrossEntropyOptions = {},
): Tensor {
  const [pixels, hw, k] = checkLogits("softmaxCrossEntropy", logits);
  const [n, , h, w] = logits.shape;
  if (labels.size !== pixels) {
    throw new RangeError(
      `softmaxCrossEntropy: labels [${labels.shape}] must be [${n}, 1, ${h}, ${w}]`,
    );
  }
  const weights = options.weights ?? null;
  if (weights && weights.size !== k) {
    throw new RangeError(`softmaxCrossEntropy: weights [${weights.shape}] must be [${k}]`);
  }
  const threads = Math.min(MAX_THREADS, Math.ceil(pixels / 64) * 64);
  const kernels = kernelsFor(k);
  const params = [pixels, hw, threads, weights ? 1 : 0];
  // Unweighted: labels stand in for the unused weights binding (read-only aliasing is allowed).
  const inputs = [logits, labels, weights ?? labels];
  const partial = Tensor.empty([threads, 2], { label: "softmax_cross_entropy.partial" });
  dispatch(kernels.partial, [...inputs, partial], { params, workgroups: threads / 64 });
  const loss = Tensor.empty([1], { label: "softmax_cross_entropy.loss" });
  const norm = Tensor.empty([1], { label: "softmax_cross_entropy.norm" });
  dispatch(FINAL, [partial, loss, norm], { params: [threads], workgroups: 1 });
  partial.release();
  if (!isRecording()) {
    norm.release();
    return loss;
  }
  recordOp("softmax_cross_entropy", [logits], loss, ([gloss]) => {
    const dlogits = Tensor.empty(logits.shape, { label: "softmax_cross_entropy.dlogits" });
    dispatch(kernels.backward, [...inputs, norm, gloss, dlogits], {
      params,
      workgroups: gridFor(pixels),
    });
    norm.release();
    return [dlogits];
  });
  return loss;
}
