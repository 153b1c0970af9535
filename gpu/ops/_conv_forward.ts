// This module is browser compatible.
// How conv2d's forward kernel runs (private to gpu/ops): Winograd F(2×2, 3×3) for 3×3 unless told
// direct, the weights packed for that kernel (or prepacked), and the dispatch; also used for dx.
import type { Tensor } from "../tensor.ts";
import { packWeights, type SliceLayout, sliceLayout } from "./_conv_layout.ts";
import { DEFAULT_CONV_TILE, runConv } from "./_conv_wgsl.ts";
import { DEFAULT_WINOGRAD_TILE, runWinograd } from "./_winograd_wgsl.ts";
import type { Conv2dOptions } from "./conv2d.ts";

/** Whether a conv of kernel size `k` runs the Winograd kernel under `options`. */
function usesWinograd(k: number, options: Conv2dOptions): boolean {
  return k === 3 && (options.algorithm ?? "winograd") === "winograd";
}

/**
 * Whether a conv of kernel size `k` over `cin` channels can store its output 2×2/2 max-pooled:
 * the Winograd kernel (each 2×2 tile is one pooled pixel) with the weights in one input slice.
 *
 * @example
 * ```ts
 * import { fusesPool } from "./_conv_forward.ts";
 * console.log(fusesPool(3, 64, {}), fusesPool(1, 64, {}), fusesPool(3, 64, { algorithm: "direct" })); // true false false
 * ```
 */
export function fusesPool(k: number, cin: number, options: Conv2dOptions): boolean {
  if (!usesWinograd(k, options)) return false;
  const tile = options.winogradTile ?? DEFAULT_WINOGRAD_TILE;
  return sliceLayout({ cout: 1, cin, k, taps: 16 }, tile).ciSlices === 1;
}

/**
 * Names the forward kernel and tile a conv of kernel size `k` runs under `options` (a packing is
 * only valid for the same key).
 *
 * @example
 * ```ts
 * import { algorithmKey } from "./_conv_forward.ts";
 * console.log(algorithmKey(3, {}), algorithmKey(1, {})); // winograd/8 direct/8/8
 * ```
 */
export function algorithmKey(k: number, options: Conv2dOptions): string {
  if (usesWinograd(k, options)) {
    const b = options.winogradTile ?? DEFAULT_WINOGRAD_TILE;
    return `winograd/${b.co}`;
  }
  const b = options.tile ?? DEFAULT_CONV_TILE;
  return `direct/${b.px}/${b.co}`;
}

/** What the weights are packed for: bias, channels, kernel size, direction (dx) and options. */
export interface PackSpec {
  bias: Tensor | null;
  cout: number;
  cin: number;
  k: number;
  transposed: boolean;
  options: Conv2dOptions;
}

/**
 * Layout (and, unless `reuse` is given, freshly packed weights) for the chosen algorithm.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { packFor } from "./_conv_forward.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const weight = Tensor.zeros([8, 4, 3, 3]);
 * const spec = { bias: null, cout: 8, cin: 4, k: 3, transposed: false, options: {} };
 * const { packed, layout } = packFor(weight, spec);
 * console.log(layout.coSlices, layout.ciSlices, packed.size); // 1 1 16384
 * scope.end();
 * ```
 */
export function packFor(
  weight: Tensor,
  spec: PackSpec,
  reuse?: Tensor,
): { packed: Tensor; layout: SliceLayout } {
  const { bias, cout, cin, k, transposed, options } = spec;
  const mode = transposed ? 1 : 0;
  const winograd = usesWinograd(k, options);
  const layout = winograd
    ? sliceLayout({ cout, cin, k, taps: 16 }, options.winogradTile ?? DEFAULT_WINOGRAD_TILE)
    : sliceLayout({ cout, cin, k }, options.tile ?? DEFAULT_CONV_TILE);
  const packed = reuse ?? packWeights(weight, { cout, cin, k, layout, mode, bias, winograd });
  return { packed, layout };
}

/**
 * y = conv(x) with `weight` (transposed + flipped for dx), by the chosen algorithm; `relu` clamps
 * the output at 0 as it is stored.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { convInto } from "./_conv_forward.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const y = Tensor.empty([1, 1, 4, 4]);
 * const weight = Tensor.from(new Float32Array(9).fill(1), [1, 1, 3, 3]);
 * convInto(x, y, { weight, bias: null, cout: 1, k: 3, transposed: false, options: {} });
 * const out = await y.read();
 * console.log(out[0], out[5]); // 4 9
 * scope.end();
 * ```
 */
export function convInto(
  x: Tensor,
  y: Tensor,
  spec: Omit<PackSpec, "cin"> & { weight: Tensor; packed?: Tensor; relu?: boolean; pool?: boolean },
): void {
  const { weight, cout, k, options, relu, pool } = spec;
  const { packed, layout } = packFor(weight, { ...spec, cin: x.shape[1] }, spec.packed);
  if (usesWinograd(k, options)) {
    runWinograd(x, y, {
      cout,
      packed,
      layout,
      tile: options.winogradTile ?? DEFAULT_WINOGRAD_TILE,
      relu,
      pool,
    });
  } else {
    if (pool) throw new RangeError("conv: a pooled store needs the Winograd kernel");
    runConv(x, y, { cout, k, packed, layout, tile: options.tile ?? DEFAULT_CONV_TILE, relu });
  }
  if (packed !== spec.packed) packed.release();
}
