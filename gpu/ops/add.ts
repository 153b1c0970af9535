// This module is browser compatible.
/**
 * Element-wise addition `y = a + b` (same shapes), forward and backward, with
 * its plain-TypeScript reference. Also used to accumulate gradients in place.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/**
 * Reference forward: `a + b`.
 *
 * @example
 * ```ts
 * import { addReference } from "./add.ts";
 * console.log(addReference([1, 2], [3, 4])); // Float64Array(2) [4, 6]
 * ```
 */
export function addReference(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

/**
 * Reference backward: both inputs receive the output gradient unchanged.
 *
 * @example
 * ```ts
 * import { addBackwardReference } from "./add.ts";
 * const [ga, gb] = addBackwardReference([1, 2]);
 * console.log(ga, gb); // Float64Array(2) [1, 2] Float64Array(2) [1, 2]
 * ```
 */
export function addBackwardReference(grad: ArrayLike<number>): [Float64Array, Float64Array] {
  return [Float64Array.from(grad), Float64Array.from(grad)];
}

const FORWARD: Kernel = {
  name: "add.forward",
  code: /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  y[i] = a[i] + b[i];
}`,
};

// In place (y += b): a separate kernel because a buffer cannot be bound read and read_write at once.
const ACCUMULATE: Kernel = {
  name: "add.accumulate",
  code: /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  y[i] = y[i] + b[i];
}`,
};

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.size !== b.size || a.shape.join() !== b.shape.join()) {
    throw new RangeError(`${op}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
}

/** Options of {@linkcode add}. */
export interface AddOptions {
  /** Write the sum into this tensor (which must be `a`): an in-place `a += b`, not recorded. */
  into?: Tensor;
}

/**
 * `a + b`, element-wise.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { add } from "./add.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const a = Tensor.from([1, 2], [2]);
 * const b = Tensor.from([3, 4], [2]);
 * const y = add(a, b);
 * console.log(await y.read()); // Float32Array(2) [4, 6]
 * add(y, b, { into: y }); // y += b
 * console.log(await y.read()); // Float32Array(2) [7, 10]
 * scope.end();
 * ```
 */
export function add(a: Tensor, b: Tensor, options: AddOptions = {}): Tensor {
  sameShape(a, b, "add");
  if (options.into) {
    if (options.into !== a) throw new RangeError("add: `into` must be the first operand");
    dispatch(ACCUMULATE, [a, b], { params: [a.size], workgroups: gridFor(a.size) });
    a.zeroed = false;
    return a;
  }
  const y = Tensor.empty(a.shape, { label: "add" });
  dispatch(FORWARD, [a, b, y], { params: [a.size], workgroups: gridFor(a.size) });
  recordOp("add", [a, b], y, ([g]) => [copyOf(g), copyOf(g)]);
  return y;
}

/** A fresh copy of `t` (gradients handed to the tape must not alias): a buffer copy, no kernel. */
function copyOf(t: Tensor): Tensor {
  const y = Tensor.empty(t.shape, { label: "add.grad" });
  y.copyFrom(t);
  return y;
}
