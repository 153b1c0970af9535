// This module is browser compatible.
/**
 * 2-D convolution, stride 1, kernel 3×3 (padding 1) or 1×1, NCHW, optional bias:
 * forward (float64 references in `conv2d_reference.ts`), backward to the input
 * (the same kernel with flipped, transposed weights) and to the weights and
 * bias (dy's rows or windows of it as uniform buffers, or chunked partial sums then a sum over
 * chunks).
 *
 * The kernels are written for speed on CPU adapters (llvmpipe) without
 * hurting GPUs: each invocation computes a run of output pixels × a tile of
 * output channels in registers, weights come from a uniform buffer at
 * addresses shared by the whole workgroup, inputs from zero-padded textures,
 * and nothing uses barriers. The WGSL lives in the private files beside this
 * one: `_conv_wgsl.ts` (direct), `_winograd_wgsl.ts`, `_weight_grad.ts` (which weight-gradient
 * kernel runs), `_weight_grad_rows_wgsl.ts`,
 * `_weight_grad_window_wgsl.ts`, `_weight_grad_texture_wgsl.ts` and
 * `_weight_grad_chunked_wgsl.ts`, with operand layouts in `_conv_layout.ts`
 * and `_conv_texture.ts`, and the forward algorithm choice in
 * `_conv_forward.ts`.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { Tensor } from "../tensor.ts";
import type { ChunkedGradTile, ConvTile, WindowGradTile, WinogradTile } from "./tiles.ts";
import { biasGrad } from "./_bias_grad_wgsl.ts";
import { weightGradient } from "./_weight_grad.ts";
import { algorithmKey, convInto, fusesPool } from "./_conv_forward.ts";
import { maxPool2x2 } from "./max_pool.ts";
import type { PackedConv2d } from "./conv2d_prepack.ts";
import { reluBackward } from "./relu.ts";

export { conv2dBackwardReference, type Conv2dDims, conv2dReference } from "./conv2d_reference.ts";
import type { Conv2dDims } from "./conv2d_reference.ts";

/** Options of {@linkcode conv2d}. */
export interface Conv2dOptions {
  /** Bias [Cout], added to every pixel of its channel. */
  bias?: Tensor | null;
  /** Zero padding on each side; only (K − 1) / 2 ("same" output size) is supported. */
  padding?: number;
  /** Register tile of the direct forward and input-gradient kernels (for benchmarks). */
  tile?: ConvTile;
  /** 3×3 kernels: Winograd F(2×2, 3×3) (default, fewer multiplies) or direct; also used for dx. */
  algorithm?: "winograd" | "direct";
  /** Register tile of the Winograd kernel (for benchmarks). */
  winogradTile?: WinogradTile;
  /**
   * Weight gradient: "rows" (dy's rows bound in place as uniform buffers, the default where it
   * applies: 16+ input channels, dy whole 256-byte blocks of at least 64 KiB at an aligned offset,
   * rows of whole 4- or 8-pixel steps, and fewer dispatches than the windows), else "window"
   * (dy copied into uniform windows; 16+ input channels), else "chunked" (per-chunk partial sums,
   * any shape). Asking for "window" skips "rows".
   */
  gradAlgorithm?: "rows" | "window" | "chunked";
  /** Register tile of the "window" weight-gradient kernel (for benchmarks). */
  windowGradTile?: WindowGradTile;
  /** Register tile of the "chunked" weight-gradient kernel (for benchmarks). */
  chunkedGradTile?: ChunkedGradTile;
  /**
   * Weights packed once by `prepackConv2d` (conv2d_prepack.ts) from this very `weight` and `bias`
   * (inference with fixed weights: skips the per-call repack). The caller re-packs after changing
   * them.
   */
  prepacked?: PackedConv2d | null;
  /**
   * `max(·, 0)` of the output, applied as the conv stores it (no separate pass over the
   * output); the backward masks the output gradient where the output is 0.
   */
  relu?: boolean;
  /**
   * Store the output 2×2/2 max-pooled (after the ReLU, if any): [n, cout, ⌊h/2⌋, ⌊w/2⌋]. For
   * inference only (refused while recording): the Winograd kernel takes each 2×2 output tile's
   * maximum as it stores it, so the full-size output is never written; elsewhere a max-pool
   * follows the conv.
   */
  pool?: boolean;
}

function checkShapes(x: Tensor, weight: Tensor, options: Conv2dOptions): Conv2dDims {
  if (x.shape.length !== 4) throw new RangeError(`conv2d: input must be NCHW, got [${x.shape}]`);
  const [n, cin, h, w] = x.shape;
  const [cout, wcin, k, k2] = weight.shape;
  if (weight.shape.length !== 4 || wcin !== cin || k !== k2 || (k !== 1 && k !== 3)) {
    throw new RangeError(
      `conv2d: weight [${weight.shape}] does not fit input [${x.shape}] (want [Cout, ${cin}, K, K], K 1 or 3)`,
    );
  }
  if ((options.padding ?? (k - 1) / 2) !== (k - 1) / 2) {
    throw new RangeError(
      `conv2d: padding ${options.padding} unsupported for K=${k} (only ${(k - 1) / 2})`,
    );
  }
  const bias = options.bias;
  if (bias && (bias.size !== cout)) {
    throw new RangeError(`conv2d: bias [${bias.shape}] does not match ${cout} output channels`);
  }
  return { n, cin, h, w, cout, k };
}

/**
 * Convolution `y = conv(x, weight) + bias`, stride 1, "same" padding. Records
 * on the tape: gradients flow to x, weight and bias.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { conv2d } from "./conv2d.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const w = Tensor.from(new Float32Array(9).fill(1), [1, 1, 3, 3]);
 * const y = conv2d(x, w, { bias: Tensor.from([0.5], [1]) }); // 3×3 box sum, zero-padded
 * const out = await y.read();
 * console.log(y.shape, out[0], out[5]); // [1, 1, 4, 4] 4.5 9.5
 * scope.end();
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  const { n, h, w, cout, k } = checkShapes(x, weight, options);
  const bias = options.bias ?? null;
  const pre = options.prepacked ?? null;
  if (
    pre && (pre.weight !== weight || pre.bias !== bias || pre.key !== algorithmKey(k, options) ||
      pre.packed.released)
  ) {
    throw new RangeError(
      "conv2d: prepacked weights were packed from another weight, bias or tile",
    );
  }
  const relu = options.relu ?? false;
  if (options.pool) {
    if (isRecording()) throw new RangeError("conv2d: pool is for inference, not on a tape");
    if (!fusesPool(k, x.shape[1], options)) {
      const full = conv2d(x, weight, { ...options, pool: false });
      const pooled = maxPool2x2(full);
      full.release();
      return pooled;
    }
    if (h < 2 || w < 2) throw new RangeError(`conv2d: pool of [${x.shape}], smaller than 2×2`);
  }
  const shape = options.pool ? [n, cout, h >> 1, w >> 1] : [n, cout, h, w];
  const y = Tensor.empty(shape, { label: "conv2d" });
  const pool = options.pool ?? false;
  convInto(x, y, {
    weight,
    bias,
    cout,
    k,
    transposed: false,
    options,
    packed: pre?.packed,
    relu,
    pool,
  });
  if (!isRecording()) return y;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  recordOp("conv2d", inputs, y, ([g]) => {
    const gy = relu ? reluBackward(y, g) : g;
    const grads = conv2dBackward({ x, weight, gy }, {
      ...options,
      wantInput: x.requiresGrad,
      wantWeight: weight.requiresGrad,
      wantBias: bias?.requiresGrad ?? false,
    });
    if (gy !== g) gy.release();
    return bias ? [grads.dx, grads.dw, grads.db] : [grads.dx, grads.dw];
  });
  return y;
}

/** Options of {@linkcode conv2dBackward} (tiles and algorithm as for {@linkcode conv2d}). */
export interface Conv2dBackwardOptions
  extends Omit<Conv2dOptions, "bias" | "padding" | "prepacked"> {
  /** Compute dx (default true). */
  wantInput?: boolean;
  /** Compute dw (default true). */
  wantWeight?: boolean;
  /** Compute db (default true). */
  wantBias?: boolean;
}

/**
 * Gradients of {@linkcode conv2d} given the output gradient `gy`: fresh tensors
 * dx [n, cin, h, w], dw [cout, cin, k, k], db [cout] (null where not wanted).
 * Used by the tape; exported for benchmarks.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { conv2dBackward } from "./conv2d.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const weight = Tensor.from(new Float32Array(9).fill(1), [1, 1, 3, 3]);
 * const gy = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const { dx, dw, db } = conv2dBackward({ x, weight, gy });
 * console.log(dx!.shape, (await dw!.read())[4]); // [1, 1, 4, 4] 16
 * console.log(await db!.read()); // Float32Array(1) [16]
 * scope.end();
 * ```
 */
export function conv2dBackward(
  saved: { x: Tensor; weight: Tensor; gy: Tensor },
  options: Conv2dBackwardOptions = {},
): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const { x, weight, gy } = saved;
  const [n, cin, h, w] = x.shape;
  const k = weight.shape[2];
  let dx: Tensor | null = null;
  if (options.wantInput ?? true) {
    // dx = conv(gy, W transposed and flipped): the forward kernel with Cin and Cout swapped.
    dx = Tensor.empty([n, cin, h, w], { label: "conv2d.dx" });
    convInto(gy, dx, { weight, bias: null, cout: cin, k, transposed: true, options });
  }
  const dw = (options.wantWeight ?? true)
    ? weightGradient(x, gy, {
      k,
      algorithm: options.gradAlgorithm,
      windowTile: options.windowGradTile,
      chunkedTile: options.chunkedGradTile,
    })
    : null;
  const db = (options.wantBias ?? true) ? biasGrad(gy) : null;
  return { dx, dw, db };
}
