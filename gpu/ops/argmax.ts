// This module is browser compatible.
/**
 * Argmax over channels: [N, K, H, W] scores -> [N, 1, H, W] float class ids
 * (forward only; ties go to the lowest class index), with its reference.
 *
 * @module
 */

import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/**
 * Reference argmax over channels (ties to the lowest index), in float64.
 *
 * @example
 * ```ts
 * import { argmaxChannelsReference } from "./argmax.ts";
 * const labels = argmaxChannelsReference([0, 2, 1, 1], { dims: [1, 2, 1, 2] });
 * console.log(labels); // Float64Array(2) [1, 0]
 * ```
 */
export function argmaxChannelsReference(
  x: ArrayLike<number>,
  options: { dims: readonly number[] },
): Float64Array {
  const [n, k, h, w] = options.dims;
  const hw = h * w;
  const out = new Float64Array(n * hw);
  for (let px = 0; px < n * hw; px++) {
    const base = Math.floor(px / hw) * k * hw + (px % hw);
    let arg = 0;
    for (let c = 1; c < k; c++) if (x[base + c * hw] > x[base + arg * hw]) arg = c;
    out[px] = arg;
  }
  return out;
}

const FORWARD: Kernel = {
  name: "argmax.forward",
  code: /* wgsl */ `
struct P { pixels: u32, hw: u32, k: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let px = ${LINEAR_INDEX};
  if (px >= p.pixels) { return; }
  let base = (px / p.hw) * p.k * p.hw + px % p.hw;
  var best = x[base];
  var arg = 0u;
  for (var k = 1u; k < p.k; k++) {
    let v = x[base + k * p.hw];
    // Strictly greater: the first maximum wins.
    if (v > best) { best = v; arg = k; }
  }
  y[px] = f32(arg);
}`,
};

/**
 * The index of the largest channel at every pixel, as float class ids.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { argmaxChannels } from "./argmax.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const labels = argmaxChannels(Tensor.from([0, 2, 1, 1], [1, 2, 1, 2]));
 * console.log(labels.shape, await labels.read()); // [1, 1, 1, 2] Float32Array(2) [1, 0]
 * scope.end();
 * ```
 */
export function argmaxChannels(x: Tensor): Tensor {
  if (x.shape.length !== 4 || x.size === 0) {
    throw new RangeError(`argmaxChannels: input [${x.shape}] must be a non-empty [N, K, H, W]`);
  }
  const [n, k, h, w] = x.shape;
  const pixels = n * h * w;
  const y = Tensor.empty([n, 1, h, w], { label: "argmax" });
  dispatch(FORWARD, [x, y], { params: [pixels, h * w, k], workgroups: gridFor(pixels) });
  return y;
}
