// This module is browser compatible.
// The WGSL of batch_norm.ts (private to gpu/ops). Per-channel reductions run in two passes without
// workgroup barriers (llvmpipe runs a barrier as a coroutine switch): one invocation per (channel,
// part) sums a strided share of the channel, then one per channel merges the parts. Variances
// merge with Chan's formula from shifted sums, so large means do not cancel the variance away.
import type { Kernel } from "../kernel.ts";

/** A kernel over planes in f32 or, when H·W is a multiple of 4, in vec4 (about 2× faster on llvmpipe). */
export interface Variants {
  vec4: Kernel;
  scalar: Kernel;
}

// The forward's output before the fused ReLU, and the gradient through that ReLU: the backward
// recomputes the output with the forward's own expression, so the masks agree (up to how a driver
// contracts the multiply-add, which can only matter where the output is within a rounding of 0).
const SHARED = /* wgsl */ `
fn normalized(x: T, mean: f32, scale: f32, shift: f32) -> T { return (x - mean) * scale + shift; }
fn masked(g: T, x: T, mean: f32, scale: f32, shift: f32, relu: u32) -> T {
  return select(g, select(T(0.0), g, normalized(x, mean, scale, shift) > T(0.0)), relu == 1u);
}
`;

/**
 * `normalized(x, mean, scale, shift)` over vec4: the one expression of batch norm's output before
 * the ReLU, for kernels outside this file that fuse it (the backward recomputes ReLU masks with it).
 */
export const NORMALIZED_VEC4: string = "alias T = vec4<f32>;\n" + SHARED;

// Prefixes the body with T, WIDTH, hsum(), first() and SHARED for the vec4 and the f32 variant.
function variants(name: string, body: string): Variants {
  const vec4 = "alias T = vec4<f32>;\nconst WIDTH = 4u;\n" +
    "fn hsum(v: T) -> f32 { return v.x + v.y + v.z + v.w; }\nfn first(v: T) -> f32 { return v.x; }\n";
  const scalar = "alias T = f32;\nconst WIDTH = 1u;\n" +
    "fn hsum(v: T) -> f32 { return v; }\nfn first(v: T) -> f32 { return v; }\n";
  return {
    vec4: { name: `${name}.vec4`, code: vec4 + SHARED + body },
    scalar: { name, code: scalar + SHARED + body },
  };
}

/**
 * Parts per channel of the strided reductions (a multiple of 64 so a workgroup has one channel).
 *
 * @example
 * ```ts
 * import { partsFor } from "./_batch_norm_wgsl.ts";
 * console.log(partsFor(100), partsFor(60 * 60), partsFor(240 * 240)); // 64 128 256
 * ```
 */
export function partsFor(hw: number): number {
  return hw >= 16384 ? 256 : hw >= 1024 ? 128 : 64;
}

/**
 * The plane kernels' grid over (plane chunk, channel, batch) and their loop step: each
 * invocation handles up to 4 elements of a plane.
 *
 * @example
 * ```ts
 * import { planeGrid } from "./_batch_norm_wgsl.ts";
 * console.log(planeGrid(3600, 16, 9)); // { workgroups: [ 15, 16, 9 ], step: 960 }
 * ```
 */
export function planeGrid(
  hw: number,
  c: number,
  n: number,
): { workgroups: number[]; step: number } {
  const x = Math.max(1, Math.min(65535, Math.ceil(hw / 256)));
  return { workgroups: [x, c, n], step: x * 64 };
}

/** Per (channel, part s): count, mean and M2 over j = s, s + parts, ... (lanes read neighbours). */
export const STATS_PARTIAL: Variants = variants(
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

/** Per channel: merges the parts (Chan), writes mean and 1/σ, updates the running statistics. */
export const STATS_FINAL: Kernel = {
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

/** Per channel, inference: mean and 1/σ from the running statistics. */
export const RUNNING_STATS: Kernel = {
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

/** y = (x − mean)·γ/σ + β; grid x: plane chunks, y: channel, z: batch (no division needed). */
export const NORMALIZE: Variants = variants(
  "batch_norm.normalize",
  /* wgsl */ `
struct P { hw: u32, c: u32, step: u32, relu: u32 }
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
    let v = normalized(x[base + j], mean, scale, shift);
    y[base + j] = select(v, max(v, T(0.0)), p.relu == 1u);
  }
}`,
);

/** Per (channel, part): Σg and Σg·x̂ of a strided share, as STATS_PARTIAL. */
export const GRAD_PARTIAL: Variants = variants(
  "batch_norm.grad_partial",
  /* wgsl */ `
struct P { hw: u32, c: u32, n: u32, parts: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> g: array<T>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = gid.x;
  let c = gid.y;
  let mean = stats[c];
  let scale = stats[p.c + c] * gamma[c];
  let shift = beta[c];
  var sg = T(0.0);
  var sgx = T(0.0);
  for (var n = 0u; n < p.n; n++) {
    let base = (n * p.c + c) * p.hw;
    for (var j = s; j < p.hw; j += p.parts) {
      let xj = x[base + j];
      let gj = masked(g[base + j], xj, mean, scale, shift, p.relu);
      sg += gj;
      sgx += gj * (xj - mean);
    }
  }
  let o = (c * p.parts + s) * 2u;
  partial[o] = hsum(sg);
  partial[o + 1u] = hsum(sgx) * stats[p.c + c];
}`,
);

/** Per channel: merges the parts into dβ = Σg and dγ = Σg·x̂. */
export const GRAD_FINAL: Kernel = {
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

/**
 * Training: dx = γ·σ⁻¹·(g − Σg/M − x̂·Σ(g·x̂)/M); inference (statistics are constants):
 * dx = γ·σ⁻¹·g. Binds 8 storage buffers, WebGPU's guaranteed minimum: one more needs packing.
 */
export const GRAD_INPUT: Variants = variants(
  "batch_norm.grad_input",
  /* wgsl */ `
struct P { hw: u32, c: u32, step: u32, training: u32, count: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> g: array<T>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read> dbeta: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<T>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.y;
  let mean = stats[c];
  let inv = stats[p.c + c];
  let k = gamma[c] * inv;
  let shift = beta[c];
  var mb = 0.0;
  var mg = 0.0;
  if (p.training != 0u) {
    let m = bitcast<f32>(p.count);
    mb = dbeta[c] / m;
    mg = dgamma[c] / m;
  }
  let base = (gid.z * p.c + c) * p.hw;
  for (var j = gid.x; j < p.hw; j += p.step) {
    let xj = x[base + j];
    let gj = masked(g[base + j], xj, mean, k, shift, p.relu);
    dx[base + j] = k * (gj - mb - (xj - mean) * inv * mg);
  }
}`,
);
