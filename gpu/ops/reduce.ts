// This module is browser compatible.
/**
 * Sum of all elements, `[1]`-shaped, in two passes without workgroup
 * barriers (llvmpipe runs a barrier as a coroutine switch): strided partial
 * sums, then one invocation adds the partials.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/**
 * Reference forward: the float64 sum, as a one-element array.
 *
 * @example
 * ```ts
 * import { sumReference } from "./reduce.ts";
 * console.log(sumReference([1, 2, 3])); // Float64Array(1) [6]
 * ```
 */
export function sumReference(x: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return Float64Array.of(s);
}

/**
 * Reference backward: every element of `x` gets the output gradient `grad[0]`.
 *
 * @example
 * ```ts
 * import { sumBackwardReference } from "./reduce.ts";
 * console.log(sumBackwardReference([1, 2, 3], [2])); // Float64Array(3) [2, 2, 2]
 * ```
 */
export function sumBackwardReference(
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
): Float64Array {
  return new Float64Array(x.length).fill(grad[0]);
}

// Invocation t adds x[t], x[t + P], ...: neighbouring invocations read neighbouring words.
const PARTIAL: Kernel = {
  name: "sum.partial",
  code: /* wgsl */ `
struct P { n: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  var s = 0.0;
  for (var i = t; i < p.n; i += p.parts) { s += x[i]; }
  partial[t] = s;
}`,
};

const TOTAL: Kernel = {
  name: "sum.total",
  code: /* wgsl */ `
struct P { parts: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1)
fn main() {
  var s = 0.0;
  for (var i = 0u; i < p.parts; i++) { s += partial[i]; }
  y[0] = s;
}`,
};

const BROADCAST: Kernel = {
  name: "sum.backward",
  code: /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  dx[i] = g[0];
}`,
};

/** Number of partial sums: a multiple of 64, at most 4096, about 64k elements each at most. */
function partsFor(n: number): number {
  return 64 * Math.min(64, Math.max(1, Math.ceil(n / 65536)));
}

/**
 * The sum of every element of `x`, as a `[1]` tensor (stays on the GPU).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { sum } from "./reduce.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const s = sum(Tensor.from([1, 2, 3], [3]));
 * console.log(await s.read()); // Float32Array(1) [6]
 * scope.end();
 * ```
 */
export function sum(x: Tensor): Tensor {
  const parts = partsFor(x.size);
  const partial = Tensor.empty([parts], { label: "sum.partial" });
  dispatch(PARTIAL, [x, partial], { params: [x.size, parts], workgroups: parts / 64 });
  const y = Tensor.empty([1], { label: "sum" });
  dispatch(TOTAL, [partial, y], { params: [parts], workgroups: 1 });
  partial.release();
  recordOp("sum", [x], y, ([g]) => {
    const dx = Tensor.empty(x.shape, { label: "sum.grad" });
    dispatch(BROADCAST, [g, dx], { params: [x.size], workgroups: gridFor(x.size) });
    return [dx];
  });
  return y;
}
