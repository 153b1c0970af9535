// This module is browser compatible.
/**
 * 2×2 max-pooling with stride 2 over NCHW (odd sizes floored, like PyTorch),
 * forward and backward, with its plain-TypeScript reference. When recording,
 * the forward also stores which of the four inputs won (0..3), so backward
 * needs neither the input nor a search. The vec4 kernels (even H, W a multiple
 * of 4) are in `_max_pool_wgsl.ts`, shared with batch norm's fused pool.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import {
  fitsVec4,
  FORWARD_ARGMAX_VEC4,
  FORWARD_VEC4,
  poolBackwardVec4,
  vec4Grid,
} from "./_max_pool_wgsl.ts";

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
  if (fitsVec4(x.shape)) return maxPoolVec4(x, d);
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
  const { params, workgroups } = vec4Grid(x.shape);
  if (!(isRecording() && x.requiresGrad)) {
    dispatch(FORWARD_VEC4, [x, y], { params, workgroups });
    return y;
  }
  const arg = Tensor.empty(y.shape, { label: "max_pool.argmax" });
  dispatch(FORWARD_ARGMAX_VEC4, [x, y, arg], { params, workgroups });
  recordOp("max_pool", [x], y, ([g]) => {
    const dx = poolBackwardVec4(g, arg, x.shape);
    arg.release();
    return [dx];
  });
  return y;
}
