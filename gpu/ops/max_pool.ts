// This module is browser compatible.
/**
 * 2×2 max-pooling with stride 2 over NCHW (odd sizes floored, like PyTorch),
 * forward and backward, with its plain-TypeScript reference. When recording,
 * the forward also stores which of the four inputs won (0..3), so backward
 * needs neither the input nor a search.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/** Options of the max-pool references. */
export interface MaxPoolReferenceOptions {
  /** Input shape [N, C, H, W]. */
  shape: readonly number[];
}

function dims(
  shape: readonly number[],
): { h: number; w: number; oh: number; ow: number; planes: number } {
  if (shape.length !== 4) throw new RangeError(`maxPool2x2: shape [${shape}] is not NCHW`);
  const [n, c, h, w] = shape;
  if (h < 2 || w < 2) throw new RangeError(`maxPool2x2: input [${shape}] is smaller than 2×2`);
  return { h, w, oh: Math.floor(h / 2), ow: Math.floor(w / 2), planes: n * c };
}

/**
 * Reference forward in float64 (same tie rule as the kernel).
 *
 * @example
 * ```ts
 * import { maxPool2x2Reference } from "./max_pool.ts";
 * console.log(maxPool2x2Reference([1, 4, 3, 2], { shape: [1, 1, 2, 2] })); // Float64Array(1) [4]
 * ```
 */
export function maxPool2x2Reference(
  x: ArrayLike<number>,
  options: MaxPoolReferenceOptions,
): Float64Array {
  const { h, w, oh, ow, planes } = dims(options.shape);
  const y = new Float64Array(planes * oh * ow);
  for (let pl = 0; pl < planes; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        y[(pl * oh + oy) * ow + ox] = x[winner(x, pl * h * w + 2 * oy * w + 2 * ox, w)];
      }
    }
  }
  return y;
}

/** Index of the first maximum of the 2×2 window whose top-left element is at `i`. */
function winner(x: ArrayLike<number>, i: number, w: number): number {
  let best = i;
  for (const j of [i + 1, i + w, i + w + 1]) if (x[j] > x[best]) best = j;
  return best;
}

/**
 * Reference backward: each output gradient goes to its window's maximum; the
 * rest (including a floored last row/column) get 0.
 *
 * @example
 * ```ts
 * import { maxPool2x2BackwardReference } from "./max_pool.ts";
 * const dx = maxPool2x2BackwardReference([1, 4, 3, 2], [5], { shape: [1, 1, 2, 2] });
 * console.log(dx); // Float64Array(4) [0, 5, 0, 0]
 * ```
 */
export function maxPool2x2BackwardReference(
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  options: MaxPoolReferenceOptions,
): Float64Array {
  const { h, w, oh, ow, planes } = dims(options.shape);
  const dx = new Float64Array(x.length);
  for (let pl = 0; pl < planes; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        dx[winner(x, pl * h * w + 2 * oy * w + 2 * ox, w)] += grad[(pl * oh + oy) * ow + ox];
      }
    }
  }
  return dx;
}

// 8×8 tiles of outputs; grid z walks the planes (N·C).
function forwardKernel(saveArgmax: boolean): Kernel {
  return {
    name: saveArgmax ? "max_pool.forward_argmax" : "max_pool.forward",
    code: /* wgsl */ `
struct P { h: u32, w: u32, oh: u32, ow: u32, planes: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${saveArgmax ? "@group(0) @binding(3) var<storage, read_write> arg: array<u32>;" : ""}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ox = gid.x;
  let oy = gid.y;
  if (ox >= p.ow || oy >= p.oh) { return; }
  for (var pl = gid.z; pl < p.planes; pl += nwg.z) {
    let i = pl * p.h * p.w + 2u * oy * p.w + 2u * ox;
    var best = x[i];
    var k = 0u;
    let v1 = x[i + 1u];
    if (v1 > best) { best = v1; k = 1u; }
    let v2 = x[i + p.w];
    if (v2 > best) { best = v2; k = 2u; }
    let v3 = x[i + p.w + 1u];
    if (v3 > best) { best = v3; k = 3u; }
    let o = (pl * p.oh + oy) * p.ow + ox;
    y[o] = best;
    ${saveArgmax ? "arg[o] = k;" : "_ = k;"}
  }
}`,
  };
}

const FORWARD = forwardKernel(false);
const FORWARD_ARGMAX = forwardKernel(true);

/** Output pairs per invocation of the vec4 kernels. */
const PAIRS = 2;

// Even H and W a multiple of 4 (no floored edge): each invocation reads aligned vec4s of two input
// rows and writes PAIRS pairs of outputs as vec2s (per-lane loads are the cost on CPU adapters).
function forwardVec4Kernel(saveArgmax: boolean): Kernel {
  const pairs: string[] = [];
  for (let q = 0; q < PAIRS; q++) {
    pairs.push(`if (c + ${q}u < p.cols) {
    let a = x[top + ${q}u];
    let b = x[top + qw + ${q}u];
    var best = vec2f(a.x, a.z);
    var k = vec2u(0u);
    let v1 = vec2f(a.y, a.w);
    let m1 = v1 > best; best = select(best, v1, m1); k = select(k, vec2u(1u), m1);
    let v2 = vec2f(b.x, b.z);
    let m2 = v2 > best; best = select(best, v2, m2); k = select(k, vec2u(2u), m2);
    let v3 = vec2f(b.y, b.w);
    let m3 = v3 > best; best = select(best, v3, m3); k = select(k, vec2u(3u), m3);
    y[out + ${q}u] = best;
    ${saveArgmax ? `arg[out + ${q}u] = k;` : "_ = k;"}
  }`);
  }
  return {
    name: saveArgmax ? "max_pool.forward_argmax_vec4" : "max_pool.forward_vec4",
    code: /* wgsl */ `
struct P { total: u32, cols: u32, oh: u32, qw: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<vec2f>;
${saveArgmax ? "@group(0) @binding(3) var<storage, read_write> arg: array<vec2u>;" : ""}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let groups = (p.cols + ${PAIRS - 1}u) / ${PAIRS}u;
  let c = (i % groups) * ${PAIRS}u;
  let row = i / groups;
  let qw = p.qw;
  // row = plane·oh + oy; input rows 2·oy, 2·oy + 1 of the plane start at 2·row·qw vec4s.
  let top = 2u * row * qw + c;
  let out = row * p.cols + c;
  ${pairs.join("\n  ")}
}`,
  };
}

const FORWARD_VEC4 = forwardVec4Kernel(false);
const FORWARD_ARGMAX_VEC4 = forwardVec4Kernel(true);

// Backward of the vec4 forward: each output pair scatters into two aligned vec4s of dx.
const BACKWARD_VEC4: Kernel = {
  name: "max_pool.backward_vec4",
  code: /* wgsl */ `
struct P { total: u32, cols: u32, oh: u32, qw: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<vec2f>;
@group(0) @binding(2) var<storage, read> arg: array<vec2u>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let groups = (p.cols + ${PAIRS - 1}u) / ${PAIRS}u;
  let c = (i % groups) * ${PAIRS}u;
  let row = i / groups;
  let top = 2u * row * p.qw + c;
  let out = row * p.cols + c;
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
      dx[top + p.qw + q] = vec4f(b0.x, b1.x, b0.y, b1.y);
    }
  }
}`,
};

// One invocation per input element: it takes the gradient if it was its window's winner.
const BACKWARD: Kernel = {
  name: "max_pool.backward",
  code: /* wgsl */ `
struct P { h: u32, w: u32, oh: u32, ow: u32, planes: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ix = gid.x;
  let iy = gid.y;
  if (ix >= p.w || iy >= p.h) { return; }
  let ox = ix >> 1u;
  let oy = iy >> 1u;
  let inside = ox < p.ow && oy < p.oh;
  let k = (iy & 1u) * 2u + (ix & 1u);
  for (var pl = gid.z; pl < p.planes; pl += nwg.z) {
    var v = 0.0;
    if (inside) {
      let o = (pl * p.oh + oy) * p.ow + ox;
      if (arg[o] == k) { v = g[o]; }
    }
    dx[(pl * p.h + iy) * p.w + ix] = v;
  }
}`,
};

/**
 * 2×2 max-pooling, stride 2: [N, C, H, W] -> [N, C, ⌊H/2⌋, ⌊W/2⌋]. Ties go to
 * the first of (top-left, top-right, bottom-left, bottom-right).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { maxPool2x2 } from "./max_pool.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const y = maxPool2x2(Tensor.from([1, 4, 5, 0, 3, 2, 6, 7], [1, 1, 2, 4]));
 * console.log(y.shape, await y.read()); // [1, 1, 1, 2] Float32Array(2) [4, 7]
 * scope.end();
 * ```
 */
export function maxPool2x2(x: Tensor): Tensor {
  const d = dims(x.shape);
  if (d.h % 2 === 0 && d.w % 4 === 0) return maxPoolVec4(x, d);
  const y = Tensor.empty([x.shape[0], x.shape[1], d.oh, d.ow], { label: "max_pool" });
  const params = [d.h, d.w, d.oh, d.ow, d.planes];
  const out = [Math.ceil(d.ow / 8), Math.ceil(d.oh / 8), Math.min(65535, d.planes)];
  const saving = isRecording() && x.requiresGrad;
  if (!saving) {
    dispatch(FORWARD, [x, y], { params, workgroups: out });
    return y;
  }
  const arg = Tensor.empty(y.shape, { label: "max_pool.argmax" });
  dispatch(FORWARD_ARGMAX, [x, y, arg], { params, workgroups: out });
  recordOp("max_pool", [x], y, ([g]) => {
    const dx = Tensor.empty(x.shape, { label: "max_pool.grad" });
    const input = [Math.ceil(d.w / 8), Math.ceil(d.h / 8), Math.min(65535, d.planes)];
    dispatch(BACKWARD, [g, arg, dx], { params, workgroups: input });
    arg.release();
    return [dx];
  });
  return y;
}

/** The vec4 kernels: even H, W a multiple of 4 (every input in exactly one window). */
function maxPoolVec4(x: Tensor, d: ReturnType<typeof dims>): Tensor {
  const y = Tensor.empty([x.shape[0], x.shape[1], d.oh, d.ow], { label: "max_pool" });
  const cols = d.ow / 2;
  const total = d.planes * d.oh * Math.ceil(cols / PAIRS);
  const params = [total, cols, d.oh, d.w / 4];
  const workgroups = gridFor(total);
  if (!(isRecording() && x.requiresGrad)) {
    dispatch(FORWARD_VEC4, [x, y], { params, workgroups });
    return y;
  }
  const arg = Tensor.empty(y.shape, { label: "max_pool.argmax" });
  dispatch(FORWARD_ARGMAX_VEC4, [x, y, arg], { params, workgroups });
  recordOp("max_pool", [x], y, ([g]) => {
    const dx = Tensor.empty(x.shape, { label: "max_pool.grad" });
    dispatch(BACKWARD_VEC4, [g, arg, dx], { params, workgroups });
    arg.release();
    return [dx];
  });
  return y;
}
