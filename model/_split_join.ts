// This module is browser compatible.
/**
 * Splitting and joining the network's tensors, differentiably: one modality
 * out of the input channels, one time step out of a batch of sequences, and
 * the time steps joined back, all as block copies (gpu/ops/copy_blocks.ts).
 *
 * Layout view: a tensor is seen as [outer, dim, inner] and a range of `dim` is copied.
 *
 * @module
 */

import { recordOp } from "../gpu/autograd.ts";
import { copyBlocks } from "../gpu/ops/copy_blocks.ts";
import { Tensor } from "../gpu/tensor.ts";

/** Takes range [start, start+count) of the middle axis of x viewed as [outer, dim, inner]. */
function take(
  x: Tensor,
  view: { outer: number; dim: number; inner: number; start: number; count: number },
  shape: readonly number[],
  label: string,
): Tensor {
  const y = Tensor.empty(shape, { label });
  const { outer, dim, inner, start, count } = view;
  copyBlocks(x, y, {
    outer,
    inner,
    count,
    srcDim: dim,
    dstDim: count,
    srcStart: start,
    dstStart: 0,
  });
  recordOp(label, [x], y, ([g]) => {
    const dx = Tensor.zeros(x.shape, { label: `${label}.grad` });
    copyBlocks(g, dx, {
      outer,
      inner,
      count,
      srcDim: count,
      dstDim: dim,
      srcStart: 0,
      dstStart: start,
    });
    return [dx];
  });
  return y;
}

/**
 * Channels [start, start+count) of an NCHW tensor: `x[:, start:start+count]`.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { Tensor } from "../gpu/tensor.ts";
 * import { TensorScope } from "../gpu/tensor_scope.ts";
 * import { narrowChannels } from "./_split_join.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const window = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 1, 1]); // 2 slices of 4 modalities
 * const t1 = narrowChannels(window, { start: 1, count: 1 });
 * console.log(t1.shape, await t1.read()); // [2, 1, 1, 1] Float32Array(2) [2, 6]
 * scope.end();
 * ```
 */
export function narrowChannels(x: Tensor, options: { start: number; count: number }): Tensor {
  const [n, c, ...rest] = x.shape;
  const plane = rest.reduce((a, b) => a * b, 1);
  if (options.start < 0 || options.start + options.count > c) {
    throw new RangeError(`narrowChannels: channels ${options.start}+${options.count} of ${c}`);
  }
  return take(
    x,
    { outer: n, dim: c, inner: plane, ...options },
    [n, options.count, ...rest],
    "channels",
  );
}

/**
 * Time step `t` of a batch of sequences laid out sequence-major (`N = B·T`,
 * slice index `b·T + t`): returns [B, ...].
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { Tensor } from "../gpu/tensor.ts";
 * import { TensorScope } from "../gpu/tensor_scope.ts";
 * import { stepOf } from "./_split_join.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const features = Tensor.from([0, 1, 2, 10, 11, 12], [6, 1, 1, 1]); // B = 2 sequences of T = 3
 * const x1 = stepOf(features, { steps: 3, t: 1 });
 * console.log(x1.shape, await x1.read()); // [2, 1, 1, 1] Float32Array(2) [1, 11]
 * scope.end();
 * ```
 */
export function stepOf(x: Tensor, options: { steps: number; t: number }): Tensor {
  const [n, ...rest] = x.shape;
  const { steps, t } = options;
  if (n % steps !== 0 || t < 0 || t >= steps) {
    throw new RangeError(`stepOf: step ${t} of ${steps} in a batch of ${n}`);
  }
  const inner = rest.reduce((a, b) => a * b, 1);
  return take(
    x,
    { outer: n / steps, dim: steps, inner, start: t, count: 1 },
    [n / steps, ...rest],
    "step",
  );
}

/**
 * The inverse of {@linkcode stepOf}: T tensors [B, ...] joined into [B·T, ...]
 * with slice index `b·T + t`.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { Tensor } from "../gpu/tensor.ts";
 * import { TensorScope } from "../gpu/tensor_scope.ts";
 * import { joinSteps } from "./_split_join.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * // Steps t = 0, 1, 2 of B = 2 sequences.
 * const steps = [[0, 10], [1, 11], [2, 12]].map((v) => Tensor.from(v, [2, 1, 1, 1]));
 * const h = joinSteps(steps);
 * console.log(h.shape, await h.read()); // [6, 1, 1, 1] Float32Array(6) [0, 1, 2, 10, 11, 12]
 * scope.end();
 * ```
 */
export function joinSteps(steps: readonly Tensor[]): Tensor {
  const [b, ...rest] = steps[0].shape;
  const key = steps[0].shape.join();
  if (steps.some((s) => s.shape.join() !== key)) {
    throw new RangeError(
      `joinSteps: shapes differ (${steps.map((s) => `[${s.shape}]`).join(" ")})`,
    );
  }
  const inner = rest.reduce((a, c) => a * c, 1);
  const T = steps.length;
  const y = Tensor.empty([b * T, ...rest], { label: "join_steps" });
  steps.forEach((s, t) =>
    copyBlocks(s, y, { outer: b, inner, count: 1, srcDim: 1, dstDim: T, srcStart: 0, dstStart: t })
  );
  recordOp("join_steps", steps, y, ([g]) =>
    steps.map((s, t) => {
      const dx = Tensor.empty(s.shape, { label: "join_steps.grad" });
      copyBlocks(g, dx, {
        outer: b,
        inner,
        count: 1,
        srcDim: T,
        dstDim: 1,
        srcStart: t,
        dstStart: 0,
      });
      return dx;
    }));
  return y;
}

/**
 * Reference of {@linkcode narrowChannels} on a row-major [N, C, ...] array.
 *
 * @example
 * ```ts
 * import { narrowChannelsReference } from "./_split_join.ts";
 * const y = narrowChannelsReference([1, 2, 3, 4], { shape: [1, 2, 2], start: 1, count: 1 });
 * console.log(y); // Float64Array(2) [3, 4]
 * ```
 */
export function narrowChannelsReference(
  x: ArrayLike<number>,
  options: { shape: readonly number[]; start: number; count: number },
): Float64Array {
  const [n, c, ...rest] = options.shape;
  const plane = rest.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n * options.count * plane);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < options.count * plane; j++) {
      out[i * options.count * plane + j] = x[(i * c + options.start) * plane + j];
    }
  }
  return out;
}

/**
 * Reference of {@linkcode stepOf}: slice `t` of each sequence of a [B·T, ...] array.
 *
 * @example
 * ```ts
 * import { stepOfReference } from "./_split_join.ts";
 * const x1 = stepOfReference([1, 2, 3, 4], { shape: [4, 1], steps: 2, t: 1 });
 * console.log(x1); // Float64Array(2) [2, 4]
 * ```
 */
export function stepOfReference(
  x: ArrayLike<number>,
  options: { shape: readonly number[]; steps: number; t: number },
): Float64Array {
  const [n, ...rest] = options.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const b = n / options.steps;
  const out = new Float64Array(b * inner);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < inner; j++) {
      out[i * inner + j] = x[(i * options.steps + options.t) * inner + j];
    }
  }
  return out;
}

/**
 * Reference of {@linkcode joinSteps}: T arrays [B, ...] into [B·T, ...].
 *
 * @example
 * ```ts
 * import { joinStepsReference } from "./_split_join.ts";
 * console.log(joinStepsReference([[1, 3], [2, 4]], { inner: 1 })); // Float64Array(4) [1, 2, 3, 4]
 * ```
 */
export function joinStepsReference(
  steps: readonly ArrayLike<number>[],
  options: { inner: number },
): Float64Array {
  const T = steps.length;
  const b = steps[0].length / options.inner;
  const out = new Float64Array(b * T * options.inner);
  steps.forEach((s, t) => {
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < options.inner; j++) {
        out[(i * T + t) * options.inner + j] = s[i * options.inner + j];
      }
    }
  });
  return out;
}
