/**
 * Concatenation along dimension 1 (channels of NCHW), forward and backward,
 * with its plain-TypeScript reference. Used for U-Net skips and for stacking
 * per-modality features.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { dispatch, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

// One dispatch per input: grid y = batch index, x walks that batch's block (no division per element).
const COPY: Kernel = {
  name: "concat.copy",
  code: /* wgsl */ `
struct P { block: u32, outerStride: u32, start: u32, step: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.y;
  for (var j = gid.x; j < p.block; j += p.step) {
    dst[n * p.outerStride + p.start + j] = src[n * p.block + j];
  }
}`,
};

const SLICE: Kernel = {
  name: "concat.slice",
  code: /* wgsl */ `
struct P { block: u32, outerStride: u32, start: u32, step: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.y;
  for (var j = gid.x; j < p.block; j += p.step) {
    dst[n * p.block + j] = src[n * p.outerStride + p.start + j];
  }
}`,
};

/** Dispatch size for a block of `block` elements per batch index: at most 65535 workgroups in x. */
function grid(block: number, outer: number): { workgroups: number[]; step: number } {
  const x = Math.max(1, Math.min(65535, Math.ceil(block / 64)));
  return { workgroups: [x, outer], step: x * 64 };
}

/** Checks shapes and returns the output shape. */
function concatShape(shapes: readonly (readonly number[])[]): number[] {
  if (shapes.length === 0) throw new RangeError("concatChannels: no tensors given");
  const first = shapes[0];
  if (first.length < 2) throw new RangeError(`concatChannels: shape [${first}] has no dim 1`);
  let channels = 0;
  for (const s of shapes) {
    const same = s.length === first.length && s.every((d, k) => k === 1 || d === first[k]);
    if (!same) throw new RangeError(`concatChannels: shapes [${first}] and [${s}] differ`);
    channels += s[1];
  }
  if (first[0] > 65535) throw new RangeError(`concatChannels: batch ${first[0]} exceeds 65535`);
  return [first[0], channels, ...first.slice(2)];
}

/**
 * Concatenates tensors along dim 1; all other dims must match.
 *
 * @example
 * ```ts
 * import { concatChannels } from "./concat.ts";
 * import { Tensor } from "../tensor.ts";
 * const a = Tensor.zeros([1, 2, 4, 4]);
 * const b = Tensor.zeros([1, 3, 4, 4]);
 * const y = concatChannels([a, b]); // [1, 5, 4, 4]
 * ```
 */
export function concatChannels(tensors: readonly Tensor[]): Tensor {
  const shape = concatShape(tensors.map((t) => t.shape));
  const outer = shape[0];
  const outerStride = outer === 0 ? 0 : shape.reduce((a, b) => a * b, 1) / outer;
  const y = Tensor.empty(shape, { label: "concat" });
  const blocks = tensors.map((t) => (outer === 0 ? 0 : t.size / outer));
  let start = 0;
  const starts = blocks.map((b) => (start += b) - b);
  tensors.forEach((t, k) => {
    const { workgroups, step } = grid(blocks[k], outer);
    dispatch(COPY, [t, y], { params: [blocks[k], outerStride, starts[k], step], workgroups });
  });
  recordOp("concat", tensors, y, ([g]) =>
    tensors.map((t, k) => {
      const dx = Tensor.empty(t.shape, { label: "concat.grad" });
      const { workgroups, step } = grid(blocks[k], outer);
      dispatch(SLICE, [g, dx], { params: [blocks[k], outerStride, starts[k], step], workgroups });
      return dx;
    }));
  return y;
}

/**
 * Reference forward: the concatenation along dim 1 of row-major arrays of the given shapes.
 *
 * @example
 * ```ts
 * import { concatChannelsReference } from "./concat.ts";
 * concatChannelsReference([[1, 2], [3]], [[1, 2], [1, 1]]); // Float64Array [1, 2, 3]
 * ```
 */
export function concatChannelsReference(
  inputs: readonly ArrayLike<number>[],
  shapes: readonly (readonly number[])[],
): Float64Array {
  const shape = concatShape(shapes);
  const outer = shape[0];
  const y = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let pos = 0;
  for (let n = 0; n < outer; n++) {
    for (const x of inputs) {
      const block = x.length / outer;
      for (let j = 0; j < block; j++) y[pos++] = x[n * block + j];
    }
  }
  return y;
}

/**
 * Reference backward: the output gradient cut back into one slice per input.
 *
 * @example
 * ```ts
 * import { concatChannelsBackwardReference } from "./concat.ts";
 * concatChannelsBackwardReference([1, 2, 3], [[1, 2], [1, 1]]); // [[1, 2], [3]]
 * ```
 */
export function concatChannelsBackwardReference(
  grad: ArrayLike<number>,
  shapes: readonly (readonly number[])[],
): Float64Array[] {
  const shape = concatShape(shapes);
  const outer = shape[0];
  const out = shapes.map((s) => new Float64Array(s.reduce((a, b) => a * b, 1)));
  let pos = 0;
  for (let n = 0; n < outer; n++) {
    for (const dx of out) {
      const block = dx.length / outer;
      for (let j = 0; j < block; j++) dx[n * block + j] = grad[pos++];
    }
  }
  return out;
}
