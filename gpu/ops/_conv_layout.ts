// This module is browser compatible.
// Operand layouts of the convolution kernels (private to gpu/ops): weights packed into uniform
// slices of whole register tiles, and zero-padded copies of the input for aligned vec4 loads.
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/** Floats in one uniform binding (64 KiB, WebGPU's default maxUniformBufferBindingSize). */
export const UNIFORM_FLOATS = 16384;
/** Uniform binding offsets must be multiples of 256 bytes (64 floats). */
const SLICE_ALIGN = 64;

// xp[n, c, r, col] = x[n, c, r − pad, col − pad], 0 outside; rows h + 2·pad, row stride wp.
const PAD: Kernel = {
  name: "conv.pad",
  code: /* wgsl */ `
struct P { total: u32, h: u32, w: u32, pad: u32, hp: u32, wp: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xp: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let col = i % p.wp;
  let r = (i / p.wp) % p.hp;
  let plane = i / (p.wp * p.hp);
  var v = 0.0;
  if (r >= p.pad && r < p.h + p.pad && col >= p.pad && col < p.w + p.pad) {
    v = x[(plane * p.h + r - p.pad) * p.w + col - p.pad];
  }
  xp[i] = v;
}`,
};

/**
 * Zero-padded copy of x [n, c, h, w] for the padded conv kernels: rows h + 2·pad, row stride wp.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { padInput } from "./_conv_layout.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
 * const xp = padInput(x, { pad: 1, wp: 4 });
 * console.log(xp.shape, (await xp.read()).slice(4, 12)); // [1, 1, 4, 4] [0, 1, 2, 0, 0, 3, 4, 0]
 * scope.end();
 * ```
 */
export function padInput(x: Tensor, layout: { pad: number; wp: number; hp?: number }): Tensor {
  const { pad, wp } = layout;
  const [n, c, h, w] = x.shape;
  const hp = layout.hp ?? h + 2 * pad;
  const xp = Tensor.empty([n, c, hp, wp], { label: "conv.padded" });
  dispatch(PAD, [x, xp], { params: [xp.size, h, w, pad, hp, wp], workgroups: gridFor(xp.size) });
  return xp;
}

/** How packed weights are split into uniform slices. */
export interface SliceLayout {
  /** Output channels per slice (multiple of the tile's co). */
  group: number;
  /** Input channels per slice. */
  ciChunk: number;
  /** Slices along output channels. */
  coSlices: number;
  /** Slices along input channels (>1 only for very wide inputs; later ones accumulate). */
  ciSlices: number;
  /** Floats from one slice to the next (multiple of 64). */
  stride: number;
  /** Float index of the bias inside a slice. */
  biasAt: number;
}

/**
 * Splits a [cout, cin, k, k] conv's weights into uniform slices of whole register tiles (only
 * the tile's output-channel width `co` matters).
 *
 * @example
 * ```ts
 * import { sliceLayout } from "./_conv_layout.ts";
 * const layout = sliceLayout({ cout: 64, cin: 64, k: 3 }, { co: 8 });
 * console.log(layout.group, layout.ciChunk, layout.coSlices, layout.ciSlices); // 24 64 3 1
 * ```
 */
export function sliceLayout(
  dims: { cout: number; cin: number; k: number; taps?: number },
  tile: { co: number },
): SliceLayout {
  const { cout, cin, k } = dims;
  const taps = dims.taps ?? k * k;
  const ciChunk = Math.max(
    1,
    Math.min(cin, Math.floor((UNIFORM_FLOATS - tile.co) / (taps * tile.co + 1))),
  );
  const coPadded = Math.ceil(cout / tile.co) * tile.co;
  let group = tile.co * Math.floor(UNIFORM_FLOATS / ((ciChunk * taps + 1) * tile.co));
  group = Math.max(tile.co, Math.min(group, coPadded));
  const floats = ciChunk * taps * group + group;
  return {
    group,
    ciChunk,
    coSlices: Math.ceil(cout / group),
    ciSlices: Math.ceil(cin / ciChunk),
    stride: Math.ceil(floats / SLICE_ALIGN) * SLICE_ALIGN,
    biasAt: ciChunk * taps * group,
  };
}

// Packs logical weights L[co][ci][ky][kx] (+ bias) into slices [ciL][tap][coL] then bias[coL].
// mode 0: L = W[co][ci] (conv weight); mode 1: L[a][b] = W[b][a] flipped (backward to the input);
// mode 2: L[(co,t)][ci] = W[ci][co][t] for a transposed conv (k = 1 here, t in 0..4).
// One invocation per (co, ci) of the padded layout writes all its taps, so a Winograd transform
// reads its 9 weights once; then one per bias entry of every slice. Padding is written as zeros.
const PACK: Kernel = {
  name: "conv.pack",
  code: /* wgsl */ `
struct P { pairs: u32, total: u32, cout: u32, cin: u32, taps: u32, group: u32, ciChunk: u32,
  coSlices: u32, stride: u32, biasAt: u32, mode: u32, hasBias: u32, srcTaps: u32, wino: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn src(co: u32, ci: u32, tap: u32, taps: u32) -> f32 {
  if (p.mode == 0u) { return w[(co * p.cin + ci) * taps + tap]; }
  if (p.mode == 1u) { return w[(ci * p.cout + co) * taps + (taps - 1u - tap)]; }
  return w[(ci * (p.cout / p.srcTaps) + co / p.srcTaps) * p.srcTaps + co % p.srcTaps];
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let coAll = p.coSlices * p.group;
  if (i >= p.pairs) {
    let j = i - p.pairs;
    let co = j % coAll;
    let slice = (j / coAll) * p.coSlices + co / p.group;
    var v = 0.0;
    if (p.hasBias == 1u && j < coAll && co < p.cout) { v = b[co / p.srcTaps]; }
    out[slice * p.stride + p.biasAt + co % p.group] = v;
    return;
  }
  let co = i % coAll;
  let ci = i / coAll;
  let slice = (ci / p.ciChunk) * p.coSlices + co / p.group;
  let base = slice * p.stride + (ci % p.ciChunk) * p.taps * p.group + co % p.group;
  let valid = co < p.cout && ci < p.cin;
  if (p.wino == 0u) {
    for (var t = 0u; t < p.taps; t++) {
      var v = 0.0;
      if (valid) { v = src(co, ci, t, p.taps); }
      out[base + t * p.group] = v;
    }
    return;
  }
  // Winograd F(2×2, 3×3) weight transform G·g·Gᵀ: row tap / 4, column tap % 4.
  var g: array<vec3f, 3>;
  for (var a = 0u; a < 3u; a++) {
    if (valid) {
      g[a] = vec3f(src(co, ci, a * 3u, 9u), src(co, ci, a * 3u + 1u, 9u), src(co, ci, a * 3u + 2u, 9u));
    } else {
      g[a] = vec3f(0.0);
    }
  }
  // Rows of G·g (4 × 3), then each times Gᵀ.
  let r = array<vec3f, 4>(g[0], 0.5 * (g[0] + g[1] + g[2]), 0.5 * (g[0] - g[1] + g[2]), g[2]);
  for (var u = 0u; u < 4u; u++) {
    let q = r[u];
    let row = vec4f(q.x, 0.5 * (q.x + q.y + q.z), 0.5 * (q.x - q.y + q.z), q.z);
    for (var c = 0u; c < 4u; c++) { out[base + (u * 4u + c) * p.group] = row[c]; }
  }
}`,
};

/** Options of {@linkcode packWeights}. */
export interface PackOptions {
  /** 0: conv weight; 1: transposed + flipped (conv backward to the input); 2: transposed conv weight as 1×1. */
  mode: 0 | 1 | 2;
  /** Bias per logical output channel (mode 2: per real output channel). */
  bias?: Tensor | null;
  /** Mode 2: taps of the transposed conv folded into the output channels (4 for 2×2). */
  srcTaps?: number;
  /** Store Winograd F(2×2, 3×3) transformed weights (16 taps from 3×3). */
  winograd?: boolean;
}

/**
 * Packs weights into a uniform-usable tensor laid out by `layout`, on the GPU.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { packWeights, sliceLayout } from "./_conv_layout.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const w = Tensor.from([1, 2], [2, 1, 1, 1]); // a 1×1 conv, 1 input channel to 2 outputs
 * const layout = sliceLayout({ cout: 2, cin: 1, k: 1 }, { co: 8 });
 * const packed = packWeights(w, { cout: 2, cin: 1, k: 1, layout, mode: 0, bias: null });
 * // Output channels are padded to the tile's 8 with zeros.
 * console.log((await packed.read()).slice(0, 3)); // Float32Array(3) [1, 2, 0]
 * scope.end();
 * ```
 */
export function packWeights(
  w: Tensor,
  options: PackOptions & { cout: number; cin: number; k: number; layout: SliceLayout },
): Tensor {
  const { cout, cin, k, layout } = options;
  const slices = layout.coSlices * layout.ciSlices;
  // The last slice is bound with a full 64 KiB window, so the buffer extends past it.
  const total = (slices - 1) * layout.stride + UNIFORM_FLOATS;
  const out = Tensor.empty([total], { label: "conv.packed" });
  const bias = options.bias ?? null;
  const taps = options.winograd ? 16 : k * k;
  // Pairs of the padded layout, then a bias row per slice; the rest is bound but never read.
  const pairs = layout.coSlices * layout.group * layout.ciSlices * layout.ciChunk;
  const threads = pairs + layout.coSlices * layout.group * layout.ciSlices;
  dispatch(PACK, [w, bias ?? w, out], {
    params: [
      pairs,
      threads,
      cout,
      cin,
      taps,
      layout.group,
      layout.ciChunk,
      layout.coSlices,
      layout.stride,
      layout.biasAt,
      options.mode,
      bias ? 1 : 0,
      options.srcTaps ?? 1,
      options.winograd ? 1 : 0,
    ],
    workgroups: gridFor(threads),
  });
  return out;
}
