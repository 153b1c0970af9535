// This module is browser compatible.
/**
 * Concatenation along dimension 1 (channels of NCHW), forward and backward,
 * with its plain-TypeScript reference. Used for U-Net skips and for stacking
 * per-modality features.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { copyBlocks } from "./copy_blocks.ts";
import { Tensor } from "../tensor.ts";

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
  return [first[0], channels, ...first.slice(2)];
}

/**
 * Reference forward: the concatenation along dim 1 of row-major arrays of the given shapes.
 *
 * @example
 * ```ts
 * import { concatChannelsReference } from "./concat.ts";
 * const y = concatChannelsReference([[1, 2], [3]], [[1, 2], [1, 1]]);
 * console.log(y); // Float64Array(3) [1, 2, 3]
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
 * const [ga, gb] = concatChannelsBackwardReference([1, 2, 3], [[1, 2], [1, 1]]);
 * console.log(ga, gb); // Float64Array(2) [1, 2] Float64Array(1) [3]
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

/**
 * Concatenates tensors along dim 1; all other dims must match.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { concatChannels } from "./concat.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const a = Tensor.from([1, 2], [1, 2, 1, 1]);
 * const b = Tensor.from([3], [1, 1, 1, 1]);
 * const y = concatChannels([a, b]);
 * console.log(y.shape, await y.read()); // [1, 3, 1, 1] Float32Array(3) [1, 2, 3]
 * scope.end();
 * ```
 */
export function concatChannels(tensors: readonly Tensor[]): Tensor {
  const shape = concatShape(tensors.map((t) => t.shape));
  // Viewed as [N, channels, rest]: each input is a run of channels of the output.
  const [outer, channels] = shape;
  const inner = outer * channels === 0 ? 0 : shape.reduce((a, b) => a * b, 1) / (outer * channels);
  const y = Tensor.empty(shape, { label: "concat" });
  let start = 0;
  const spans = tensors.map((t) => {
    const span = { count: t.shape[1], start };
    start += t.shape[1];
    return span;
  });
  tensors.forEach((t, k) => {
    const { count, start } = spans[k];
    copyBlocks(t, y, {
      outer,
      inner,
      count,
      srcDim: count,
      dstDim: channels,
      srcStart: 0,
      dstStart: start,
    });
  });
  recordOp("concat", tensors, y, ([g]) =>
    tensors.map((t, k) => {
      const { count, start } = spans[k];
      const dx = Tensor.empty(t.shape, { label: "concat.grad" });
      copyBlocks(g, dx, {
        outer,
        inner,
        count,
        srcDim: channels,
        dstDim: count,
        srcStart: start,
        dstStart: 0,
      });
      return dx;
    }));
  return y;
}
