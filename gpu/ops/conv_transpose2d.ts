// This module is browser compatible.
/**
 * Transposed convolution 2×2, stride 2, with bias (H, W → 2H, 2W), NCHW,
 * weight [Cin, Cout, 2, 2]: float64 references, then forward and backward.
 *
 * Each output pixel gets exactly one input pixel, so the op is a 1×1 conv to
 * 4·Cout channels followed by a pixel shuffle (fused into the conv's store);
 * backward rearranges dy space-to-depth and reuses the 1×1 conv kernels.
 *
 * @module
 */

import { isRecording, recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { packWeights, sliceLayout } from "./_conv_layout.ts";
import { DEFAULT_CONV_TILE, runConv } from "./_conv_wgsl.ts";
import type { ConvTile } from "./tiles.ts";
import { biasGrad } from "./_bias_grad_wgsl.ts";
import { weightGradient } from "./_weight_grad.ts";

/** Shapes for the references: input [n, cin, h, w], weight [cin, cout, 2, 2]. */
export interface ConvTranspose2dDims {
  /** Batch size. */
  n: number;
  /** Input channels. */
  cin: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Output channels. */
  cout: number;
}

/**
 * Reference forward in float64: x [n, cin, h, w], w [cin, cout, 2, 2], b [cout] or null.
 *
 * @example
 * ```ts
 * import { convTranspose2dReference } from "./conv_transpose2d.ts";
 * const dims = { n: 1, cin: 1, h: 1, w: 1, cout: 1 };
 * const y = convTranspose2dReference([1], [1, 2, 3, 4], [1], dims);
 * console.log(y); // Float64Array(4) [2, 3, 4, 5]
 * ```
 */
export function convTranspose2dReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  dims: ConvTranspose2dDims,
): Float64Array {
  const { n, cin, h, w: wd, cout } = dims;
  const y = new Float64Array(n * cout * 4 * h * wd);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < cout; o++) {
      for (let yy = 0; yy < 2 * h; yy++) {
        for (let xx = 0; xx < 2 * wd; xx++) {
          let s = b ? b[o] : 0;
          const t = (yy % 2) * 2 + (xx % 2);
          for (let c = 0; c < cin; c++) {
            s += x[((i * cin + c) * h + (yy >> 1)) * wd + (xx >> 1)] * w[(c * cout + o) * 4 + t];
          }
          y[((i * cout + o) * 2 * h + yy) * 2 * wd + xx] = s;
        }
      }
    }
  }
  return y;
}

/**
 * Reference backward in float64 given the output gradient `gy` [n, cout, 2h, 2w].
 *
 * @example
 * ```ts
 * import { convTranspose2dBackwardReference } from "./conv_transpose2d.ts";
 * const dims = { n: 1, cin: 1, h: 1, w: 1, cout: 1 };
 * const { dx, dw, db } = convTranspose2dBackwardReference([1], [1, 2, 3, 4], [1, 1, 1, 1], dims);
 * console.log(dx, dw, db); // Float64Array(1) [10] Float64Array(4) [1, 1, 1, 1] Float64Array(1) [4]
 * ```
 */
export function convTranspose2dBackwardReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  gy: ArrayLike<number>,
  dims: ConvTranspose2dDims,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { n, cin, h, w: wd, cout } = dims;
  const dx = new Float64Array(n * cin * h * wd);
  const dw = new Float64Array(cin * cout * 4);
  const db = new Float64Array(cout);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < cout; o++) {
      for (let yy = 0; yy < 2 * h; yy++) {
        for (let xx = 0; xx < 2 * wd; xx++) {
          const g = gy[((i * cout + o) * 2 * h + yy) * 2 * wd + xx];
          db[o] += g;
          const t = (yy % 2) * 2 + (xx % 2);
          for (let c = 0; c < cin; c++) {
            const xi = ((i * cin + c) * h + (yy >> 1)) * wd + (xx >> 1);
            const wi = (c * cout + o) * 4 + t;
            dx[xi] += g * w[wi];
            dw[wi] += g * x[xi];
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

// dys[n, c·4 + a·2 + b, i, j] = dy[n, c, 2i + a, 2j + b].
const SPACE_TO_DEPTH: Kernel = {
  name: "conv_transpose2d.space_to_depth",
  code: /* wgsl */ `
struct P { total: u32, c: u32, h: u32, w: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let j = i % p.w;
  let r = i / p.w;
  let y = r % p.h;
  let cc = (r / p.h) % (4u * p.c);
  let n = r / (p.h * 4u * p.c);
  let c = cc / 4u;
  let a = (cc / 2u) % 2u;
  let b = cc % 2u;
  out[i] = dy[((n * p.c + c) * 2u * p.h + 2u * y + a) * 2u * p.w + 2u * j + b];
}`,
};

/** Options of {@linkcode convTranspose2d}. */
export interface ConvTranspose2dOptions {
  /** Bias [Cout]. */
  bias?: Tensor | null;
  /** Register tile of the underlying 1×1 conv kernels (for benchmarks). */
  tile?: ConvTile;
}

function spaceToDepth(dy: Tensor): Tensor {
  const [n, c, h2, w2] = dy.shape;
  const h = h2 / 2;
  const w = w2 / 2;
  const out = Tensor.empty([n, 4 * c, h, w], { label: "conv_transpose2d.dys" });
  dispatch(SPACE_TO_DEPTH, [dy, out], {
    params: [out.size, c, h, w],
    workgroups: gridFor(out.size),
  });
  return out;
}

/**
 * Transposed conv `y[n, o, 2i + a, 2j + b] = bias[o] + Σ_c x[n, c, i, j]·weight[c, o, a, b]`.
 * Records on the tape: gradients flow to x, weight and bias.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { convTranspose2d } from "./conv_transpose2d.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2], [1, 1, 1, 2]);
 * const weight = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]); // [Cin, Cout, 2, 2]
 * const y = convTranspose2d(x, weight, { bias: Tensor.from([0], [1]) });
 * console.log(y.shape, await y.read()); // [1, 1, 2, 4] Float32Array(8) [1, 2, 2, 4, 3, 4, 6, 8]
 * scope.end();
 * ```
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  options: ConvTranspose2dOptions = {},
): Tensor {
  if (x.shape.length !== 4) {
    throw new RangeError(`convTranspose2d: input must be NCHW, got [${x.shape}]`);
  }
  const [n, cin, h, w] = x.shape;
  const [wcin, cout, k1, k2] = weight.shape;
  if (weight.shape.length !== 4 || wcin !== cin || k1 !== 2 || k2 !== 2) {
    throw new RangeError(
      `convTranspose2d: weight [${weight.shape}] does not fit input [${x.shape}] (want [${cin}, Cout, 2, 2])`,
    );
  }
  const bias = options.bias ?? null;
  if (bias && bias.size !== cout) {
    throw new RangeError(`convTranspose2d: bias [${bias.shape}] does not match ${cout} channels`);
  }
  const tile = options.tile ?? DEFAULT_CONV_TILE;
  const layout = sliceLayout({ cout: 4 * cout, cin, k: 1 }, tile);
  const packed = packWeights(weight, {
    cout: 4 * cout,
    cin,
    k: 1,
    layout,
    mode: 2,
    bias,
    srcTaps: 4,
  });
  const y = Tensor.empty([n, cout, 2 * h, 2 * w], { label: "conv_transpose2d" });
  runConv(x, y, { cout: 4 * cout, k: 1, packed, layout, tile, shuffle: true });
  packed.release();
  if (!isRecording()) return y;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  recordOp("conv_transpose2d", inputs, y, ([gy]) => {
    const g = convTranspose2dBackward({ x, weight, gy }, {
      tile,
      wantInput: x.requiresGrad,
      wantWeight: weight.requiresGrad,
      wantBias: bias?.requiresGrad ?? false,
    });
    return bias ? [g.dx, g.dw, g.db] : [g.dx, g.dw];
  });
  return y;
}

/** Options of {@linkcode convTranspose2dBackward}. */
export interface ConvTranspose2dBackwardOptions {
  /** Register tile of the 1×1 conv kernels. */
  tile?: ConvTile;
  /** Compute dx (default true). */
  wantInput?: boolean;
  /** Compute dw (default true). */
  wantWeight?: boolean;
  /** Compute db (default true). */
  wantBias?: boolean;
}

/**
 * Gradients of {@linkcode convTranspose2d} given the output gradient `gy`:
 * fresh dx [n, cin, h, w], dw [cin, cout, 2, 2], db [cout] (null where not wanted).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { convTranspose2dBackward } from "./conv_transpose2d.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2], [1, 1, 1, 2]);
 * const weight = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
 * const gy = Tensor.from(new Float32Array(8).fill(1), [1, 1, 2, 4]);
 * const { dx, dw, db } = convTranspose2dBackward({ x, weight, gy });
 * console.log(await dx!.read()); // Float32Array(2) [10, 10]
 * console.log(await dw!.read()); // Float32Array(4) [3, 3, 3, 3]
 * console.log(await db!.read()); // Float32Array(1) [8]
 * scope.end();
 * ```
 */
export function convTranspose2dBackward(
  saved: { x: Tensor; weight: Tensor; gy: Tensor },
  options: ConvTranspose2dBackwardOptions = {},
): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const { x, weight, gy } = saved;
  const [n, cin, h, w] = x.shape;
  const cout = weight.shape[1];
  const tile = options.tile ?? DEFAULT_CONV_TILE;
  const wantInput = options.wantInput ?? true;
  const wantWeight = options.wantWeight ?? true;
  const dys = wantInput || wantWeight ? spaceToDepth(gy) : null;
  let dx: Tensor | null = null;
  if (dys && wantInput) {
    // dx = 1×1 conv of dys with the weight read as [cin, 4·cout, 1, 1].
    const layout = sliceLayout({ cout: cin, cin: 4 * cout, k: 1 }, tile);
    const packed = packWeights(weight, { cout: cin, cin: 4 * cout, k: 1, layout, mode: 0 });
    dx = Tensor.empty([n, cin, h, w], { label: "conv_transpose2d.dx" });
    runConv(dys, dx, { cout: cin, k: 1, packed, layout, tile });
    packed.release();
  }
  // dw[c, (o, a, b)] = Σ x[c]·dys[(o, a, b)]: a 1×1 weight gradient with the roles swapped.
  const dw = dys && wantWeight ? weightGradient(dys, x, { k: 1, shape: [cin, cout, 2, 2] }) : null;
  dys?.release();
  const db = (options.wantBias ?? true) ? biasGrad(gy) : null;
  return { dx, dw, db };
}
