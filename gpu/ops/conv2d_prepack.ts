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
 * import { Tensor } from "../tensor.ts";
 * import { conv2d } from "./conv2d.ts";
 * import { prepackConv2d } from "./conv2d_prepack.ts";
 * const x = Tensor.zeros([1, 4, 16, 16]);
 * const w = Tensor.zeros([8, 4, 3, 3]);
 * const b = Tensor.zeros([8]);
 * const packed = prepackConv2d(w, { bias: b });
 * const y = conv2d(x, w, { bias: b, prepacked: packed });
 * packed.release();
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
