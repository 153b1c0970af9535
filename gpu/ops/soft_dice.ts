// This module is browser compatible.
/**
 * Soft Dice loss of softmax(logits) against labels, the overlap term that
 * sits beside cross-entropy in nnU-Net-style training: cross-entropy is
 * driven by voxel counts, Dice by each region's overlap, so small regions
 * (necrotic core, enhancing rim) weigh as much as oedema. For logits
 * [N, K, H, W] and labels [N, 1, H, W] (float class ids; < 0 or ≥ K is
 * ignored) with p = softmax(z) per pixel, summed over every labelled pixel of
 * the batch, for each foreground class c = 1 … K−1:
 * `I_c = Σ p_c·[y = c]`, `S_c = Σ p_c + Σ [y = c]`,
 * `D_c = (2·I_c + ε) / (S_c + ε)`, and the loss is `1 − mean_c D_c` (ε = 1, so
 * a class absent from the batch and from the prediction counts as matched).
 * The plain-TypeScript references (forward, backward), the WGSL, the dispatch.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, f32Bits, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { checkLogits, eachPixel } from "./_softmax_pixels.ts";

/** The smoothing ε of every class's Dice ratio. */
export const DICE_SMOOTH = 1;

/** Per-class sums of the references: overlap I_c and size S_c, foreground classes only used. */
function classSums(logits: ArrayLike<number>, labels: ArrayLike<number>, dims: readonly number[]) {
  const k = dims[1];
  const inter = new Float64Array(k), size = new Float64Array(k);
  eachPixel(logits, labels, dims, (y, idx, lse) => {
    if (y < 0) return;
    idx.forEach((i, c) => (size[c] += Math.exp(logits[i] - lse)));
    inter[y] += Math.exp(logits[idx[y]] - lse);
    size[y] += 1;
  });
  return { inter, size };
}

/**
 * Reference soft Dice loss in float64, as a one-element array.
 *
 * @example
 * ```ts
 * import { softDiceReference } from "./soft_dice.ts";
 * // Two pixels, two classes, a confident correct prediction: loss near 0.
 * const loss = softDiceReference([9, -9, -9, 9], [0, 1], { dims: [1, 2, 1, 2] });
 * console.log(loss[0] < 1e-3); // true
 * ```
 */
export function softDiceReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { dims: readonly number[] },
): Float64Array {
  const { inter, size } = classSums(logits, labels, options.dims);
  let mean = 0;
  for (let c = 1; c < inter.length; c++) {
    mean += (2 * inter[c] + DICE_SMOOTH) / (size[c] + DICE_SMOOTH) / (inter.length - 1);
  }
  return Float64Array.of(1 - mean);
}

/**
 * Reference gradient of the soft Dice loss with respect to the logits, in
 * float64, for an upstream gradient `grad` of the scalar loss (default 1).
 *
 * @example
 * ```ts
 * import { softDiceBackwardReference } from "./soft_dice.ts";
 * const d = softDiceBackwardReference([0, 0], [1], { dims: [1, 2, 1, 1] });
 * console.log(d[1] < 0 && d[0] === -d[1]); // true: raising the true class's logit lowers the loss
 * ```
 */
export function softDiceBackwardReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { dims: readonly number[]; grad?: number },
): Float64Array {
  const { inter, size } = classSums(logits, labels, options.dims);
  const k = inter.length;
  const out = new Float64Array(logits.length);
  eachPixel(logits, labels, options.dims, (y, idx, lse) => {
    if (y < 0) return;
    const p = idx.map((i) => Math.exp(logits[i] - lse));
    // dLoss/dp_c, then through the softmax: dz_j = p_j (g_j − Σ_c g_c p_c).
    const g = p.map((_, c) => {
      if (c === 0) return 0;
      const s = size[c] + DICE_SMOOTH;
      return -((c === y ? 2 * s : 0) - (2 * inter[c] + DICE_SMOOTH)) / (s * s) / (k - 1);
    });
    const dot = g.reduce((acc, gc, c) => acc + gc * p[c], 0);
    idx.forEach((i, j) => (out[i] = (options.grad ?? 1) * p[j] * (g[j] - dot)));
  });
  return out;
}

// The class count K is a constant of the generated code, so the class loops unroll.
function headerCode(k: number): string {
  return /* wgsl */ `
const K = ${k}u;
const SMOOTH = ${DICE_SMOOTH.toFixed(1)};
struct P { pixels: u32, hw: u32, threads: u32, weight: u32 }
@group(0) @binding(0) var<uniform> p: P;
`;
}

// Per pixel: its logits' base index, its label (-1 when ignored), its softmax.
function pixelCode(k: number): string {
  return /* wgsl */ `${headerCode(k)}
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
fn logit_base(px: u32) -> u32 { return (px / p.hw) * K * p.hw + px % p.hw; }
fn label_of(px: u32) -> i32 {
  let l = labels[px];
  if (!(l >= 0.0) || l >= f32(K)) { return -1; }
  return i32(l + 0.5);
}
fn softmax_at(base: u32) -> array<f32, K> {
  var z: array<f32, K>;
  var m = logits[base];
  for (var k = 0u; k < K; k++) { z[k] = logits[base + k * p.hw]; m = max(m, z[k]); }
  var s = 0.0;
  for (var k = 0u; k < K; k++) { z[k] = exp(z[k] - m); s += z[k]; }
  for (var k = 0u; k < K; k++) { z[k] = z[k] / s; }
  return z;
}
`;
}

/** The kernels for `k` classes (cached: each distinct code string compiles once). */
function kernelsFor(k: number): { partial: Kernel; final: Kernel; backward: Kernel } {
  let kernels = cache.get(k);
  if (kernels) return kernels;
  const pixel = pixelCode(k);
  kernels = {
    // Each thread sums a strided set of pixels: [I_0..I_K-1, S_0..S_K-1] per thread.
    partial: {
      name: "soft_dice.partial",
      code: /* wgsl */ `${pixel}
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= p.threads) { return; }
  var inter: array<f32, K>;
  var size: array<f32, K>;
  for (var px = t; px < p.pixels; px += p.threads) {
    let y = label_of(px);
    if (y < 0) { continue; }
    let q = softmax_at(logit_base(px));
    for (var k = 0u; k < K; k++) {
      let hit = select(0.0, 1.0, k == u32(y));
      inter[k] += hit * q[k];
      size[k] += q[k] + hit;
    }
  }
  for (var k = 0u; k < K; k++) {
    partial[t * 2u * K + k] = inter[k];
    partial[t * 2u * K + K + k] = size[k];
  }
}`,
    },
    // One invocation adds the partial sums (a few thousand rows): no barriers, slow on llvmpipe.
    final: {
      name: "soft_dice.final",
      code: /* wgsl */ `${headerCode(k)}
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@compute @workgroup_size(1)
fn main() {
  var total: array<f32, 2 * K>;
  var carry: array<f32, 2 * K>;
  for (var t = 0u; t < p.threads; t++) {
    for (var j = 0u; j < 2u * K; j++) {
      // Kahan summation keeps the f32 totals accurate over many partials.
      let y = partial[t * 2u * K + j] - carry[j];
      let s = total[j] + y;
      carry[j] = (s - total[j]) - y;
      total[j] = s;
    }
  }
  var mean = 0.0;
  for (var c = 1u; c < K; c++) {
    mean += (2.0 * total[c] + SMOOTH) / (total[K + c] + SMOOTH);
  }
  for (var j = 0u; j < 2u * K; j++) { sums[j] = total[j]; }
  loss[0] = bitcast<f32>(p.weight) * (1.0 - mean / f32(K - 1u));
}`,
    },
    backward: {
      name: "soft_dice.backward",
      code: /* wgsl */ `${pixel}
@group(0) @binding(3) var<storage, read> sums: array<f32>;
@group(0) @binding(4) var<storage, read> gloss: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let px = ${LINEAR_INDEX};
  if (px >= p.pixels) { return; }
  let base = logit_base(px);
  let y = label_of(px);
  if (y < 0) {
    for (var k = 0u; k < K; k++) { dlogits[base + k * p.hw] = 0.0; }
    return;
  }
  let q = softmax_at(base);
  var g: array<f32, K>;
  var dot = 0.0;
  for (var c = 1u; c < K; c++) {
    let s = sums[K + c] + SMOOTH;
    let hit = select(0.0, 2.0 * s, c == u32(y));
    g[c] = -(hit - (2.0 * sums[c] + SMOOTH)) / (s * s * f32(K - 1u));
    dot += g[c] * q[c];
  }
  for (var k = 0u; k < K; k++) { dlogits[base + k * p.hw] = bitcast<f32>(p.weight) * gloss[0] * q[k] * (g[k] - dot); }
}`,
    },
  };
  cache.set(k, kernels);
  return kernels;
}

const cache = new Map<number, { partial: Kernel; final: Kernel; backward: Kernel }>();

// Partial-sum threads: enough workgroups to keep every core busy, few enough for one final adder.
const MAX_THREADS = 4096;

/**
 * The soft Dice loss of softmax(logits) against labels over the whole batch,
 * times `options.weight` (default 1), as a [1] tensor (computed on the GPU;
 * nothing is read back).
 * Differentiable in the logits.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { softDice } from "./soft_dice.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const logits = Tensor.zeros([1, 2, 1, 2]); // p = 0.5 everywhere
 * const labels = Tensor.from([0, 1], [1, 1, 1, 2]);
 * const loss = softDice(logits, labels);
 * console.log((await loss.read())[0].toFixed(4)); // 0.3333: 1 − (2·0.5 + 1) / (1 + 1 + 1), class 1
 * scope.end();
 * ```
 */
export function softDice(
  logits: Tensor,
  labels: Tensor,
  options: { weight?: number } = {},
): Tensor {
  const [pixels, hw, k] = checkLogits("softDice", logits);
  const [n, , h, w] = logits.shape;
  if (k < 2) throw new RangeError(`softDice: logits [${logits.shape}] need at least 2 classes`);
  if (labels.size !== pixels) {
    throw new RangeError(`softDice: labels [${labels.shape}] must be [${n}, 1, ${h}, ${w}]`);
  }
  const threads = Math.min(MAX_THREADS, Math.ceil(pixels / 64) * 64);
  const kernels = kernelsFor(k);
  // The weight scales loss and gradient in the kernels: no extra op or upload per step.
  const params = [pixels, hw, threads, f32Bits(options.weight ?? 1)];
  const partial = Tensor.empty([threads, 2 * k], { label: "soft_dice.partial" });
  dispatch(kernels.partial, [logits, labels, partial], { params, workgroups: threads / 64 });
  const sums = Tensor.empty([2 * k], { label: "soft_dice.sums" });
  const loss = Tensor.empty([1], { label: "soft_dice.loss" });
  dispatch(kernels.final, [partial, sums, loss], { params, workgroups: 1 });
  partial.release();
  if (!isRecording()) {
    sums.release();
    return loss;
  }
  recordOp("soft_dice", [logits], loss, ([gloss]) => {
    const dlogits = Tensor.empty(logits.shape, { label: "soft_dice.dlogits" });
    dispatch(kernels.backward, [logits, labels, sums, gloss, dlogits], {
      params,
      workgroups: gridFor(pixels),
    });
    sums.release();
    return [dlogits];
  });
  return loss;
}
