// This module is browser compatible.
/**
 * Inference with fixed weights: a conv's weights (and bias) packed once for
 * `conv2d`'s forward kernel (conv2d.ts), so repeated calls skip the repack.
 *
 * @module
 */

import type { Tensor } from "../tensor.ts";
import { algorithmKey, packFor } from "./_conv_forward.ts";
import type { Conv2dOptions } from "./conv2d.ts";

/** Conv weights (and bias) packed for the forward kernel by {@linkcode prepackConv2d}. */
export interface PackedConv2d {
  /** The weight it was packed from. */
  readonly weight: Tensor;
  /** The bias it was packed with. */
  readonly bias: Tensor | null;
  /** Packed uniform slices. */
  readonly packed: Tensor;
  /** Algorithm and register tile the packing is laid out for. */
  readonly key: string;
  /** Returns the packed buffer to the pool. */
  release(): void;
}

/**
 * Packs `weight` (and `options.bias`) once for `conv2d`'s forward kernel, so repeated
 * inference calls with fixed weights skip the repack. Pass the result as `prepacked` together
 * with the same weight, bias, algorithm and tile; release it (and pack again) when the weights
 * change.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { conv2d } from "./conv2d.ts";
 * import { prepackConv2d } from "./conv2d_prepack.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const w = Tensor.from(new Float32Array(18).fill(0.5), [2, 1, 3, 3]);
 * const b = Tensor.from([1, 2], [2]);
 * const packed = prepackConv2d(w, { bias: b }); // once, then every call reuses it
 * const y = conv2d(x, w, { bias: b, prepacked: packed });
 * const plain = conv2d(x, w, { bias: b });
 * console.log((await y.read()).join() === (await plain.read()).join()); // true
 * packed.release();
 * scope.end();
 * ```
 */
export function prepackConv2d(weight: Tensor, options: Conv2dOptions = {}): PackedConv2d {
  const [cout, cin, k] = weight.shape;
  if (weight.shape.length !== 4 || (k !== 1 && k !== 3) || weight.shape[3] !== k) {
    throw new RangeError(
      `prepackConv2d: weight [${weight.shape}] is not [Cout, Cin, K, K], K 1 or 3`,
    );
  }
  const bias = options.bias ?? null;
  if (bias && bias.size !== cout) {
    throw new RangeError(`prepackConv2d: bias [${bias.shape}] does not match ${cout} channels`);
  }
  const { packed } = packFor(weight, { bias, cout, cin, k, transposed: false, options });
  packed.keep();
  return {
    weight,
    bias,
    packed,
    key: algorithmKey(k, options),
    release: () => packed.release(),
  };
}
