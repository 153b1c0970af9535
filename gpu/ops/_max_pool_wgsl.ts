// This module is browser compatible.
// The vec4 kernels of 2×2 max-pooling (private to gpu/ops): even H and W a multiple of 4, so every
// input is in exactly one window. Each invocation reads aligned vec4s of two input rows and writes
// PAIRS pairs of outputs as vec2s (per-lane loads are the cost on CPU adapters). The forward can
// first apply a batch norm's per-channel affine and ReLU (batch_norm.ts's fused pool), so the
// full-size normalised map is never written.
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { NORMALIZED_VEC4 } from "./_batch_norm_wgsl.ts";

/** Output pairs per invocation. */
const PAIRS = 2;

// The entry point's start, shared by forward and backward: the output pair column c of output row
// `row` (= plane·oh + oy), whose input rows 2·oy and 2·oy + 1 start at 2·row·qw vec4s.
const MAIN = /* wgsl */ `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let groups = (p.cols + ${PAIRS - 1}u) / ${PAIRS}u;
  let c = (i % groups) * ${PAIRS}u;
  let row = i / groups;
  let qw = p.qw;
  let top = 2u * row * qw + c;
  let out = row * p.cols + c;`;

function forwardKernel(options: { argmax: boolean; normalize: boolean }): Kernel {
  const { argmax, normalize } = options;
  // With `normalize`: batch norm's own `normalized` (the backward's ReLU mask agrees), then ReLU.
  const load = (v: string) => normalize ? `affine(x[${v}], bn)` : `x[${v}]`;
  const pairs: string[] = [];
  for (let q = 0; q < PAIRS; q++) {
    pairs.push(`if (c + ${q}u < p.cols) {
    let a = ${load(`top + ${q}u`)};
    let b = ${load(`top + qw + ${q}u`)};
    var best = vec2f(a.x, a.z);
    var k = vec2u(0u);
    let v1 = vec2f(a.y, a.w);
    let m1 = v1 > best; best = select(best, v1, m1); k = select(k, vec2u(1u), m1);
    let v2 = vec2f(b.x, b.z);
    let m2 = v2 > best; best = select(best, v2, m2); k = select(k, vec2u(2u), m2);
    let v3 = vec2f(b.y, b.w);
    let m3 = v3 > best; best = select(best, v3, m3); k = select(k, vec2u(3u), m3);
    y[out + ${q}u] = best;
    ${argmax ? `arg[out + ${q}u] = k;` : "_ = k;"}
  }`);
  }
  const first = normalize ? 5 : 2;
  const prefix = normalize ? "batch_norm.normalize_pool" : "max_pool.forward";
  return {
    name: `${prefix}${argmax ? "_argmax" : ""}_vec4`,
    code: /* wgsl */ `
struct P { total: u32, cols: u32, oh: u32, qw: u32, c: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
${
      normalize
        ? `@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
${NORMALIZED_VEC4}
struct Affine { mean: f32, scale: f32, shift: f32 }
fn affine(v: vec4f, bn: Affine) -> vec4f {
  let n = normalized(v, bn.mean, bn.scale, bn.shift);
  return select(n, max(n, vec4f(0.0)), p.relu == 1u);
}`
        : ""
    }
@group(0) @binding(${first}) var<storage, read_write> y: array<vec2f>;
${argmax ? `@group(0) @binding(${first + 1}) var<storage, read_write> arg: array<vec2u>;` : ""}
${MAIN}
  ${
      normalize
        ? `let ch = (row / p.oh) % p.c;
  let bn = Affine(stats[ch], stats[p.c + ch] * gamma[ch], beta[ch]);`
        : ""
    }
  ${pairs.join("\n  ")}
}`,
  };
}

/** Max-pool forward. */
export const FORWARD_VEC4: Kernel = forwardKernel({ argmax: false, normalize: false });
/** Max-pool forward, storing each window's winner (0..3) for the backward. */
export const FORWARD_ARGMAX_VEC4: Kernel = forwardKernel({ argmax: true, normalize: false });
/** Batch norm's affine (and ReLU), then max-pool; binds x, stats, γ, β before y. */
export const NORMALIZE_POOL_VEC4: Kernel = forwardKernel({ argmax: false, normalize: true });
/** As {@linkcode NORMALIZE_POOL_VEC4}, storing the winners. */
export const NORMALIZE_POOL_ARGMAX_VEC4: Kernel = forwardKernel({ argmax: true, normalize: true });

// Backward: each output pair scatters into two aligned vec4s of dx.
const BACKWARD_VEC4: Kernel = {
  name: "max_pool.backward_vec4",
  code: /* wgsl */ `
struct P { total: u32, cols: u32, oh: u32, qw: u32, c: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<vec2f>;
@group(0) @binding(2) var<storage, read> arg: array<vec2u>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;
${MAIN}
  for (var q = 0u; q < ${PAIRS}u; q++) {
    if (c + q < p.cols) {
      let v = g[out + q];
      let k = arg[out + q];
      let z = vec2f(0.0);
      let t0 = select(z, v, k == vec2u(0u));
      let t1 = select(z, v, k == vec2u(1u));
      let b0 = select(z, v, k == vec2u(2u));
      let b1 = select(z, v, k == vec2u(3u));
      dx[top + q] = vec4f(t0.x, t1.x, t0.y, t1.y);
      dx[top + qw + q] = vec4f(b0.x, b1.x, b0.y, b1.y);
    }
  }
}`,
};

/**
 * Whether the vec4 kernels apply to an NCHW shape: even H, W a multiple of 4.
 *
 * @example
 * ```ts
 * import { fitsVec4 } from "./_max_pool_wgsl.ts";
 * console.log(fitsVec4([1, 8, 16, 16]), fitsVec4([1, 8, 16, 6])); // true false
 * ```
 */
export function fitsVec4(shape: readonly number[]): boolean {
  return shape.length === 4 && shape[2] >= 2 && shape[2] % 2 === 0 && shape[3] % 4 === 0;
}

/**
 * The uniform parameters and grid of the vec4 kernels for an input of `shape` [N, C, H, W]
 * (`relu` only read by the normalising forward).
 *
 * @example
 * ```ts
 * import { vec4Grid } from "./_max_pool_wgsl.ts";
 * console.log(vec4Grid([1, 2, 4, 8]).params); // [ 4, 2, 2, 2, 2, 0 ]
 * ```
 */
export function vec4Grid(
  shape: readonly number[],
  relu = false,
): { params: number[]; workgroups: number[] } {
  const [n, c, h, w] = shape;
  const cols = w / 4;
  const oh = h / 2;
  const total = n * c * oh * Math.ceil(cols / PAIRS);
  return { params: [total, cols, oh, cols, c, relu ? 1 : 0], workgroups: gridFor(total) };
}

/**
 * The input gradient [N, C, H, W] of a vec4 max-pool from the output gradient and the stored
 * winners.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { poolBackwardVec4 } from "./_max_pool_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const g = Tensor.from([5, 6], [1, 1, 1, 2]);
 * const arg = Tensor.from(new Float32Array(new Uint32Array([3, 0]).buffer), [1, 1, 1, 2]);
 * console.log(await poolBackwardVec4(g, arg, [1, 1, 2, 4]).read());
 * // Float32Array(8) [0, 0, 6, 0, 0, 5, 0, 0]
 * scope.end();
 * ```
 */
export function poolBackwardVec4(g: Tensor, arg: Tensor, shape: readonly number[]): Tensor {
  const dx = Tensor.empty(shape, { label: "max_pool.grad" });
  const { params, workgroups } = vec4Grid(shape);
  dispatch(BACKWARD_VEC4, [g, arg, dx], { params, workgroups });
  return dx;
}
