// WGSL generators and weight packing shared by the convolution ops (private to gpu/ops).
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/** Floats in one uniform binding (64 KiB, WebGPU's default maxUniformBufferBindingSize). */
export const UNIFORM_FLOATS = 16384;
/** Uniform binding offsets must be multiples of 256 bytes (64 floats). */
const SLICE_ALIGN = 64;

/** Register block of the direct convolution: output pixels per invocation × output channels. */
export interface ConvBlock {
  /** Consecutive output pixels along x per invocation. */
  px: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /**
   * Read a zero-padded copy of the input with aligned vec4 loads and no bounds checks (needs
   * px a multiple of 4): per-lane loads are the costliest thing on llvmpipe.
   */
  padded?: boolean;
}

/** Block measured fastest on llvmpipe for the network's shapes (see bench/README.md). */
export const DEFAULT_BLOCK: ConvBlock = { px: 8, co: 8, padded: false };

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
 * const xp = padInput(x, { pad: 1, wp: 128 }); // [n, c, h + 2, 128]
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
  /** Output channels per slice (multiple of the block's co). */
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
 * Splits a [cout, cin, k, k] conv's weights into uniform slices of whole register blocks.
 *
 * @example
 * ```ts
 * const layout = sliceLayout({ cout: 64, cin: 64, k: 3 }, DEFAULT_BLOCK);
 * ```
 */
export function sliceLayout(
  dims: { cout: number; cin: number; k: number; taps?: number },
  block: ConvBlock,
): SliceLayout {
  const { cout, cin, k } = dims;
  const taps = dims.taps ?? k * k;
  const ciChunk = Math.max(
    1,
    Math.min(cin, Math.floor((UNIFORM_FLOATS - block.co) / (taps * block.co + 1))),
  );
  const coPadded = Math.ceil(cout / block.co) * block.co;
  let group = block.co * Math.floor(UNIFORM_FLOATS / ((ciChunk * taps + 1) * block.co));
  group = Math.max(block.co, Math.min(group, coPadded));
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
 * const packed = packWeights(w, { cout: 64, cin: 64, k: 3, layout, mode: 0, bias: null });
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

const convCache = new Map<string, Kernel>();

/**
 * Direct convolution, stride 1, weights from a uniform slice. Each invocation computes `px`
 * consecutive output pixels of one row × `co` output channels; the channel block is the same
 * for the whole workgroup, so every weight read is one scalar load shared by all lanes.
 * `shuffle` stores a transposed 2×2 stride-2 conv's output: logical channel c = co·4 + a·2 + b
 * lands at (co, 2y + a, 2x + b).
 *
 * @example
 * ```ts
 * const kernel = convKernel({ px: 8, co: 8 }, { k: 3, shuffle: false });
 * ```
 */
export function convKernel(block: ConvBlock, options: { k: number; shuffle: boolean }): Kernel {
  const { k, shuffle } = options;
  const padded = isPadded(block);
  const key = `${k}/${block.px}/${block.co}/${shuffle}/${padded}`;
  const cached = convCache.get(key);
  if (cached) return cached;
  const { px, co } = block;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const span = px + k - 1;
  const decl: string[] = [];
  for (let p = 0; p < px; p++) {
    for (let j = 0; j < q; j++) decl.push(`var a${p}_${j} = vec4f(0.0);`);
  }
  const rows: string[] = [];
  for (let ky = 0; ky < k; ky++) {
    const loads: string[] = [];
    if (padded) {
      for (let m = 0; m < Math.ceil(span / 4); m++) {
        loads.push(`let q${m} = xv[(xb + (yy + ${ky}u) * p.wp + u32(x0)) / 4u + ${m}u];`);
      }
      for (let s = 0; s < span; s++) loads.push(`let v${s} = q${s >> 2}[${s & 3}];`);
      const fmas: string[] = [];
      for (let kx = 0; kx < k; kx++) {
        for (let j = 0; j < q; j++) {
          fmas.push(`{ let wv = wt[wi + ${ky * k + kx}u * gq + ${j}u];`);
          for (let p = 0; p < px; p++) {
            fmas.push(`  a${p}_${j} = fma(vec4f(v${p + kx}), wv, a${p}_${j});`);
          }
          fmas.push(`}`);
        }
      }
      rows.push(`{
      ${loads.join("\n      ")}
      ${fmas.join("\n      ")}
    }`);
      continue;
    }
    for (let s = 0; s < span; s++) {
      loads.push(
        `let ix${s} = x0 + ${
          s - pad
        }; let v${s} = select(0.0, x[row + u32(clamp(ix${s}, 0, wmax))], ix${s} >= 0 && ix${s} <= wmax);`,
      );
    }
    const fmas: string[] = [];
    for (let kx = 0; kx < k; kx++) {
      for (let j = 0; j < q; j++) {
        fmas.push(`{ let wv = wt[wi + ${(ky * k + kx)}u * gq + ${j}u];`);
        for (let p = 0; p < px; p++) {
          fmas.push(`  a${p}_${j} = fma(vec4f(v${p + kx}), wv, a${p}_${j});`);
        }
        fmas.push(`}`);
      }
    }
    rows.push(`{
      let iy = i32(yy) + ${ky - pad};
      if (iy >= 0 && iy < i32(p.h)) {
        let row = xb + u32(iy) * p.w;
        ${loads.join("\n        ")}
        ${fmas.join("\n        ")}
      }
    }`);
  }
  const stores: string[] = [];
  for (let j = 0; j < q; j++) {
    for (let c = 0; c < 4; c++) {
      const cl = `${j * 4 + c}u`;
      stores.push(`{ let col = cb + ${cl}; let cg = p.coBase + col;
    if (cg < p.cout) { let bias = wt[(p.biasAt + col) / 4u][(p.biasAt + col) % 4u];`);
      for (let p = 0; p < px; p++) {
        const target = shuffle
          ? `((n * (p.cout / 4u) + cg / 4u) * 2u * p.h + 2u * yy + (cg / 2u) % 2u) * 2u * p.w + 2u * (u32(x0) + ${p}u) + cg % 2u`
          : `((n * p.cout + cg) * p.h + yy) * p.w + u32(x0) + ${p}u`;
        stores.push(`      if (u32(x0) + ${p}u < p.w) { let o = ${target};
        y[o] = select(y[o], bias, p.first == 1u) + a${p}_${j}[${c}]; }`);
      }
      stores.push(`  } }`);
    }
  }
  const kernel: Kernel = {
    name: `conv${k}x${k}.${shuffle ? "transposed" : "direct"}`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, coBase: u32, ciBase: u32, cinTotal: u32,
  tilesX: u32, gq: u32, first: u32, biasAt: u32, wp: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> wt: array<vec4f, ${UNIFORM_FLOATS / 4}>;
@group(0) @binding(2) var<storage, read> ${padded ? "xv: array<vec4f>" : "x: array<f32>"};
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let t = gid.x;
  if (t >= p.h * p.tilesX) { return; }
  let n = wid.z;
  let cb = wid.y * ${co}u;
  let gq = p.gq;
  let yy = t / p.tilesX;
  let x0 = i32((t % p.tilesX) * ${px}u);
  let wmax = i32(p.w) - 1;
  ${decl.join("\n  ")}
  for (var ci = 0u; ci < p.cin; ci++) {
    let xb = ((n * p.cinTotal + p.ciBase + ci) * ${
      padded ? `(p.h + ${2 * pad}u)) * p.wp` : "p.h) * p.w"
    };
    let wi = ci * ${k * k}u * gq + wid.y * ${q}u;
    ${rows.join("\n    ")}
  }
  ${stores.join("\n  ")}
}`,
  };
  convCache.set(key, kernel);
  return kernel;
}

/**
 * Runs a direct conv of x [n, cin, h, w] into y with weights packed by {@linkcode packWeights}.
 *
 * @example
 * ```ts
 * runConv(x, y, { cout: 64, k: 3, packed, layout, block: DEFAULT_BLOCK });
 * ```
 */
export function runConv(
  x: Tensor,
  y: Tensor,
  dims: {
    cout: number;
    k: number;
    packed: Tensor;
    layout: SliceLayout;
    block: ConvBlock;
    shuffle?: boolean;
  },
): void {
  const [n, cin, h, w] = x.shape;
  const { cout, k, packed, layout, block } = dims;
  const kernel = convKernel(block, { k, shuffle: dims.shuffle ?? false });
  const tilesX = Math.ceil(w / block.px);
  const padded = isPadded(block);
  // Row stride covers every run's aligned loads (x0 + px + 4) and is a multiple of 4.
  const wp = tilesX * block.px + 4;
  const input = padded ? padInput(x, { pad: (k - 1) / 2, wp }) : x;
  const pixelGroups = Math.ceil((h * tilesX) / 64);
  if (pixelGroups > 65535 || n > 65535) throw new RangeError(`conv: image [${x.shape}] too large`);
  for (let cs = 0; cs < layout.ciSlices; cs++) {
    const ciBase = cs * layout.ciChunk;
    const ciCount = Math.min(layout.ciChunk, cin - ciBase);
    for (let os = 0; os < layout.coSlices; os++) {
      const coBase = os * layout.group;
      const blocks = Math.ceil(Math.min(layout.group, cout - coBase) / block.co);
      const slice = cs * layout.coSlices + os;
      dispatch(kernel, [
        {
          buffer: packed.buffer,
          offset: packed.offset + slice * layout.stride * 4,
          size: UNIFORM_FLOATS * 4,
        },
        input,
        y,
      ], {
        params: [
          n,
          ciCount,
          h,
          w,
          cout,
          coBase,
          ciBase,
          cin,
          tilesX,
          layout.group / 4,
          cs === 0 ? 1 : 0,
          layout.biasAt,
          wp,
        ],
        workgroups: [pixelGroups, blocks, n],
      });
    }
  }
  if (padded) input.release();
}

function isPadded(block: ConvBlock): boolean {
  return (block.padded ?? false) && block.px % 4 === 0;
}
