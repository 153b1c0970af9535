/**
 * Batch normalisation over NCHW (per channel, statistics over N, H, W),
 * forward and backward, training and inference, with the plain-TypeScript
 * references (folding into a convolution: batch_norm_fold.ts).
 *
 * Per-channel reductions run in two passes without workgroup barriers
 * (llvmpipe runs a barrier as a coroutine switch): one invocation per
 * (channel, part) sums a strided share of the channel, then one invocation per
 * channel merges the parts. Variances merge with Chan's formula from shifted
 * sums, so large means do not cancel the variance away.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, f32Bits, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/** A kernel over planes in f32 or, when H·W is a multiple of 4, in vec4 (about 2× faster on llvmpipe). */
interface Variants {
  vec4: Kernel;
  scalar: Kernel;
}

function variants(name: string, body: string): Variants {
  const vec4 = "alias T = vec4<f32>;\nconst WIDTH = 4u;\n" +
    "fn hsum(v: T) -> f32 { return v.x + v.y + v.z + v.w; }\nfn first(v: T) -> f32 { return v.x; }\n";
  const scalar = "alias T = f32;\nconst WIDTH = 1u;\n" +
    "fn hsum(v: T) -> f32 { return v; }\nfn first(v: T) -> f32 { return v; }\n";
  return {
    vec4: { name: `${name}.vec4`, code: vec4 + body },
    scalar: { name, code: scalar + body },
  };
}

// Part s of channel c covers j = s, s + parts, ... of every plane (n, c): neighbours read neighbours.
const STATS_PARTIAL = variants(
  "batch_norm.stats_partial",
  /* wgsl */ `
struct P { hw: u32, c: u32, n: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = gid.x;
  let c = gid.y;
  let o = (c * p.parts + s) * 3u;
  if (s >= p.hw) {
    partial[o] = 0.0;
    partial[o + 1u] = 0.0;
    partial[o + 2u] = 0.0;
    return;
  }
  // Shifting by one of the part's own values keeps the sum of squares from cancelling.
  let shift = first(x[c * p.hw + s]);
  var v1 = T(0.0);
  var v2 = T(0.0);
  for (var n = 0u; n < p.n; n++) {
    let base = (n * p.c + c) * p.hw;
    for (var j = s; j < p.hw; j += p.parts) {
      let d = x[base + j] - shift;
      v1 += d;
      v2 += d * d;
    }
  }
  let s1 = hsum(v1);
  let s2 = hsum(v2);
  let k = f32(p.n * ((p.hw - s + p.parts - 1u) / p.parts) * WIDTH);
  partial[o] = k;
  partial[o + 1u] = shift + s1 / k;
  partial[o + 2u] = max(s2 - s1 * s1 / k, 0.0);
}`,
);

const STATS_FINAL: Kernel = {
  name: "batch_norm.stats_final",
  code: /* wgsl */ `
struct P { c: u32, parts: u32, momentum: u32, eps: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(4) var<storage, read_write> runningVar: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.c) { return; }
  var na = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var s = 0u; s < p.parts; s++) {
    let o = (c * p.parts + s) * 3u;
    let nb = partial[o];
    if (nb == 0.0) { continue; }
    let nab = na + nb;
    let delta = partial[o + 1u] - mean;
    mean += delta * (nb / nab);
    m2 += partial[o + 2u] + delta * delta * (na * (nb / nab));
    na = nab;
  }
  stats[c] = mean;
  stats[p.c + c] = inverseSqrt(m2 / na + bitcast<f32>(p.eps));
  let mom = bitcast<f32>(p.momentum);
  runningMean[c] = (1.0 - mom) * runningMean[c] + mom * mean;
  runningVar[c] = (1.0 - mom) * runningVar[c] + mom * (m2 / (na - 1.0));
}`,
};

const RUNNING_STATS: Kernel = {
  name: "batch_norm.running_stats",
  code: /* wgsl */ `
struct P { c: u32, eps: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> runningMean: array<f32>;
@group(0) @binding(2) var<storage, read> runningVar: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.c) { return; }
  stats[c] = runningMean[c];
  stats[p.c + c] = inverseSqrt(runningVar[c] + bitcast<f32>(p.eps));
}`,
};

// Grid (x: chunks of the plane, y: channel, z: batch): channel and plane come without division.
const NORMALIZE = variants(
  "batch_norm.normalize",
  /* wgsl */ `
struct P { hw: u32, c: u32, step: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<T>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.y;
  let mean = stats[c];
  let scale = stats[p.c + c] * gamma[c];
  let shift = beta[c];
  let base = (gid.z * p.c + c) * p.hw;
  for (var j = gid.x; j < p.hw; j += p.step) {
    y[base + j] = (x[base + j] - mean) * scale + shift;
  }
}`,
);

const GRAD_PARTIAL = variants(
  "batch_norm.grad_partial",
  /* wgsl */ `
struct P { hw: u32, c: u32, n: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> g: array<T>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = gid.x;
  let c = gid.y;
  let mean = stats[c];
  var sg = T(0.0);
  var sgx = T(0.0);
  for (var n = 0u; n < p.n; n++) {
    let base = (n * p.c + c) * p.hw;
    for (var j = s; j < p.hw; j += p.parts) {
      let gj = g[base + j];
      sg += gj;
      sgx += gj * (x[base + j] - mean);
    }
  }
  let o = (c * p.parts + s) * 2u;
  partial[o] = hsum(sg);
  partial[o + 1u] = hsum(sgx) * stats[p.c + c];
}`,
);

const GRAD_FINAL: Kernel = {
  name: "batch_norm.grad_final",
  code: /* wgsl */ `
struct P { c: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbeta: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.c) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var s = 0u; s < p.parts; s++) {
    let o = (c * p.parts + s) * 2u;
    sg += partial[o];
    sgx += partial[o + 1u];
  }
  dbeta[c] = sg;
  dgamma[c] = sgx;
}`,
};

// Training: dx = γ·σ⁻¹·(g − Σg/M − x̂·Σ(g·x̂)/M); inference (statistics are constants): dx = γ·σ⁻¹·g.
const GRAD_INPUT = variants(
  "batch_norm.grad_input",
  /* wgsl */ `
struct P { hw: u32, c: u32, step: u32, training: u32, count: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> g: array<T>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read> dbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<T>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.y;
  let mean = stats[c];
  let inv = stats[p.c + c];
  let k = gamma[c] * inv;
  var mb = 0.0;
  var mg = 0.0;
  if (p.training != 0u) {
    let m = bitcast<f32>(p.count);
    mb = dbeta[c] / m;
    mg = dgamma[c] / m;
  }
  let base = (gid.z * p.c + c) * p.hw;
  for (var j = gid.x; j < p.hw; j += p.step) {
    let xhat = (x[base + j] - mean) * inv;
    dx[base + j] = k * (g[base + j] - mb - xhat * mg);
  }
}`,
);

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
  /** Weight of the new batch in the running averages (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** Parts per channel of the strided reductions (a multiple of 64 so a workgroup has one channel). */
function partsFor(hw: number): number {
  return hw >= 16384 ? 256 : hw >= 1024 ? 128 : 64;
}

/** Grid over (plane chunk, channel, batch), each invocation handling up to 4 elements of a plane. */
function planeGrid(hw: number, c: number, n: number): { workgroups: number[]; step: number } {
  const x = Math.max(1, Math.min(65535, Math.ceil(hw / 256)));
  return { workgroups: [x, c, n], step: x * 64 };
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
 * import { batchNorm } from "./batch_norm.ts";
 * import { Tensor } from "../tensor.ts";
 * const bn = {
 *   gamma: Tensor.from([1, 1], [2]), beta: Tensor.zeros([2]),
 *   runningMean: Tensor.zeros([2]), runningVar: Tensor.from([1, 1], [2]),
 * };
 * const y = batchNorm(Tensor.zeros([4, 2, 8, 8]), bn, { training: true });
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
  if (options.training) {
    if (count < 2) {
      throw new RangeError(
        `batchNorm: training needs more than 1 value per channel, got [${x.shape}]`,
      );
    }
    const parts = partsFor(units);
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
  dispatch(pick(NORMALIZE), [x, stats, gamma, beta, y], { params: [units, c, step], workgroups });
  const saving = isRecording() && [x, gamma, beta].some((t) => t.requiresGrad);
  if (!saving) {
    stats.release();
    return y;
  }
  recordOp("batch_norm", [x, gamma, beta], y, ([g]) => {
    const parts = partsFor(units);
    const partial = Tensor.empty([c, parts, 2], { label: "batch_norm.grad_partial" });
    dispatch(pick(GRAD_PARTIAL), [x, g, stats, partial], {
      params: [units, c, n, parts],
      workgroups: [parts / 64, c],
    });
    const dgamma = Tensor.empty([c], { label: "batch_norm.grad_gamma" });
    const dbeta = Tensor.empty([c], { label: "batch_norm.grad_beta" });
    dispatch(GRAD_FINAL, [partial, dgamma, dbeta], { params: [c, parts], workgroups: channels });
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape, { label: "batch_norm.grad" });
      dispatch(pick(GRAD_INPUT), [x, g, stats, gamma, dgamma, dbeta, dx], {
        params: [units, c, step, options.training ? 1 : 0, f32Bits(count)],
        workgroups,
      });
    }
    partial.release();
    stats.release();
    return [dx, dgamma, dbeta];
  });
  return y;
}

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
 * const { y } = batchNormReference([1, 3], params, { shape: [2, 1, 1, 1], training: true });
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
  }
  return { y, runningMean, runningVar };
}

/** Options of {@linkcode batchNormBackwardReference}. */
export interface BatchNormBackwardReferenceOptions extends BatchNormReferenceOptions {
  /** The layer's parameters (γ, and the running statistics in inference mode). */
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
 *   shape: [2, 1, 1, 1], params, training: true,
 * });
 * ```
 */
export function batchNormBackwardReference(
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  options: BatchNormBackwardReferenceOptions,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [n, c, h, w] = options.shape;
  const hw = h * w;
  const m = n * hw;
  const eps = options.eps ?? 1e-5;
  const { gamma } = options.params;
  const [mean, variance] = options.training
    ? channelStats(x, options.shape)
    : [options.params.runningMean, options.params.runningVar];
  const inv = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const channel = (i: number) => Math.floor(i / hw) % c;
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
