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
}

/** Block measured fastest on llvmpipe for the network's shapes (see bench/README.md). */
export const DEFAULT_BLOCK: ConvBlock = { px: 8, co: 8 };

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

/** Splits a [cout, cin, k, k] conv's weights into uniform slices of whole register blocks. */
export function sliceLayout(
  dims: { cout: number; cin: number; k: number; taps?: number },
  block: ConvBlock,
): SliceLayout {
  const { cout, cin, k } = dims;
  const taps = dims.taps ?? k * k;
  const ciChunk = Math.max(1, Math.min(cin, Math.floor((UNIFORM_FLOATS - block.co) / (taps * block.co + 1))));
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
const PACK: Kernel = {
  name: "conv.pack",
  code: /* wgsl */ `
struct P { total: u32, cout: u32, cin: u32, taps: u32, group: u32, ciChunk: u32, coSlices: u32,
  stride: u32, biasAt: u32, mode: u32, hasBias: u32, srcTaps: u32, wino: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn src(co: u32, ci: u32, tap: u32, taps: u32) -> f32 {
  if (p.mode == 0u) { return w[(co * p.cin + ci) * taps + tap]; }
  if (p.mode == 1u) { return w[(ci * p.cout + co) * taps + (taps - 1u - tap)]; }
  return w[(ci * (p.cout / p.srcTaps) + co / p.srcTaps) * p.srcTaps + co % p.srcTaps];
}
// Winograd F(2×2, 3×3) weight transform G·g·Gᵀ, element (e / 4, e % 4).
fn weight(co: u32, ci: u32, tap: u32) -> f32 {
  if (p.wino == 0u) { return src(co, ci, tap, p.taps); }
  var G = array<vec3f, 4>(vec3f(1.0, 0.0, 0.0), vec3f(0.5, 0.5, 0.5), vec3f(0.5, -0.5, 0.5), vec3f(0.0, 0.0, 1.0));
  let gi = G[tap / 4u];
  let gj = G[tap % 4u];
  var v = 0.0;
  for (var a = 0u; a < 3u; a++) {
    for (var b = 0u; b < 3u; b++) { v += gi[a] * gj[b] * src(co, ci, a * 3u + b, 9u); }
  }
  return v;
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
  let slice = i / p.stride;
  let r = i % p.stride;
  let coBase = (slice % p.coSlices) * p.group;
  let ciBase = (slice / p.coSlices) * p.ciChunk;
  var v = 0.0;
  if (r < p.biasAt) {
    let coL = r % p.group;
    let tap = (r / p.group) % p.taps;
    let ci = ciBase + r / (p.group * p.taps);
    let co = coBase + coL;
    if (co < p.cout && ci < p.cin) {
      v = weight(co, ci, tap);
    }
  } else if (r < p.biasAt + p.group) {
    let co = coBase + r - p.biasAt;
    if (p.hasBias == 1u && ciBase == 0u && co < p.cout) {
      v = b[co / p.srcTaps];
    }
  }
  out[i] = v;
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

/** Packs weights into a uniform-usable tensor laid out by `layout`, on the GPU. */
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
  dispatch(PACK, [w, bias ?? w, out], {
    params: [
      total,
      cout,
      cin,
      options.winograd ? 16 : k * k,
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
    workgroups: gridFor(total),
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
 */
export function convKernel(block: ConvBlock, options: { k: number; shuffle: boolean }): Kernel {
  const { k, shuffle } = options;
  const key = `${k}/${block.px}/${block.co}/${shuffle}`;
  const cached = convCache.get(key);
  if (cached) return cached;
  const { px, co } = block;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const span = px + k - 1;
  const decl: string[] = [];
  for (let p = 0; p < px; p++) for (let j = 0; j < q; j++) decl.push(`var a${p}_${j} = vec4f(0.0);`);
  const rows: string[] = [];
  for (let ky = 0; ky < k; ky++) {
    const loads: string[] = [];
    for (let s = 0; s < span; s++) {
      loads.push(
        `let ix${s} = x0 + ${s - pad}; let v${s} = select(0.0, x[row + u32(clamp(ix${s}, 0, wmax))], ix${s} >= 0 && ix${s} <= wmax);`,
      );
    }
    const fmas: string[] = [];
    for (let kx = 0; kx < k; kx++) {
      for (let j = 0; j < q; j++) {
        fmas.push(`{ let wv = wt[wi + ${(ky * k + kx)}u * gq + ${j}u];`);
        for (let p = 0; p < px; p++) fmas.push(`  a${p}_${j} = fma(vec4f(v${p + kx}), wv, a${p}_${j});`);
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
  tilesX: u32, gq: u32, first: u32, biasAt: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> wt: array<vec4f, ${UNIFORM_FLOATS / 4}>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
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
    let xb = ((n * p.cinTotal + p.ciBase + ci) * p.h) * p.w;
    let wi = ci * ${k * k}u * gq + wid.y * ${q}u;
    ${rows.join("\n    ")}
  }
  ${stores.join("\n  ")}
}`,
  };
  convCache.set(key, kernel);
  return kernel;
}

/** Runs a direct conv of x [n, cin, h, w] into y with weights packed by {@linkcode packWeights}. */
export function runConv(
  x: Tensor,
  y: Tensor,
  dims: { cout: number; k: number; packed: Tensor; layout: SliceLayout; block: ConvBlock; shuffle?: boolean },
): void {
  const [n, cin, h, w] = x.shape;
  const { cout, k, packed, layout, block } = dims;
  const kernel = convKernel(block, { k, shuffle: dims.shuffle ?? false });
  const tilesX = Math.ceil(w / block.px);
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
        { buffer: packed.buffer, offset: packed.offset + slice * layout.stride * 4, size: UNIFORM_FLOATS * 4 },
        x,
        y,
      ], {
        params: [
          n, ciCount, h, w, cout, coBase, ciBase, cin, tilesX, layout.group / 4, cs === 0 ? 1 : 0,
          layout.biasAt,
        ],
        workgroups: [pixelGroups, blocks, n],
      });
    }
  }
}

/** Register block of the weight-gradient kernel: pixels per step × output × input channels. */
export interface GradBlock {
  /** Consecutive pixels per step. */
  px: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /** Input channels per invocation (default 1). */
  ci?: number;
}

/** Weight-gradient block measured fastest on llvmpipe (see bench/README.md). */
export const DEFAULT_GRAD_BLOCK: GradBlock = { px: 4, co: 8, ci: 1 };

const gradCache = new Map<string, Kernel>();

/**
 * Partial weight gradients: invocation (chunk, ci block, co block) sums dy·x over the image rows
 * of its chunk for `co` output × `ci` input channels × k² taps, into part[chunk][co][ci][tap].
 * No barriers: a second pass ({@linkcode sumChunks}) adds the chunks.
 */
export function weightGradKernel(k: number, block: GradBlock): Kernel {
  const cib = block.ci ?? 1;
  const key = `${k}/${block.px}/${block.co}/${cib}`;
  const cached = gradCache.get(key);
  if (cached) return cached;
  const { px, co } = block;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const taps = k * k;
  const span = px + k - 1;
  const decl: string[] = [];
  for (let c = 0; c < cib; c++) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < q; j++) decl.push(`var a${c}_${t}_${j} = vec4f(0.0);`);
    }
  }
  const dyLoads: string[] = [];
  for (let p = 0; p < px; p++) {
    dyLoads.push(`let ok${p} = x0 + ${p}u < p.w; let xi${p} = min(x0 + ${p}u, p.w - 1u);`);
    for (let j = 0; j < q; j++) {
      const comps = [0, 1, 2, 3].map((c) =>
        `select(0.0, dy[dyb + ${j * 4 + c}u * plane + xi${p}], ok${p} && ok_c${j * 4 + c})`
      );
      dyLoads.push(`let d${p}_${j} = vec4f(${comps.join(", ")});`);
    }
  }
  const rows: string[] = [];
  for (let ky = 0; ky < k; ky++) {
    const body: string[] = [];
    for (let c = 0; c < cib; c++) {
      for (let s = 0; s < span; s++) {
        body.push(
          `let v${c}_${s} = select(0.0, x[row + ${c}u * plane + u32(clamp(ix${s}, 0, wmax))], ok_x${s} && ok_i${c});`,
        );
      }
      for (let kx = 0; kx < k; kx++) {
        for (let p = 0; p < px; p++) {
          for (let j = 0; j < q; j++) {
            const a = `a${c}_${ky * k + kx}_${j}`;
            body.push(`${a} = fma(vec4f(v${c}_${p + kx}), d${p}_${j}, ${a});`);
          }
        }
      }
    }
    rows.push(`{
        let iy = i32(yy) + ${ky - pad};
        if (iy >= 0 && iy < i32(p.h)) {
          let row = xb + u32(iy) * p.w;
          ${body.join("\n          ")}
        }
      }`);
  }
  const xcols: string[] = [];
  for (let s = 0; s < span; s++) {
    xcols.push(`let ix${s} = i32(x0) + ${s - pad}; let ok_x${s} = ix${s} >= 0 && ix${s} <= wmax;`);
  }
  const okc: string[] = [];
  for (let c = 0; c < co; c++) okc.push(`let ok_c${c} = cb + ${c}u < p.cout;`);
  for (let c = 0; c < cib; c++) okc.push(`let ok_i${c} = ci0 + ${c}u < p.cin;`);
  const stores: string[] = [];
  for (let c = 0; c < cib; c++) {
    for (let j = 0; j < q; j++) {
      for (let e = 0; e < 4; e++) {
        const cl = j * 4 + e;
        const writes = Array.from(
          { length: taps },
          (_, t) => `part[o + ${t}u] = a${c}_${t}_${j}[${e}];`,
        ).join(" ");
        stores.push(
          `if (ok_c${cl} && ok_i${c}) { let o = ((chunk * p.cout + cb + ${cl}u) * p.cin + ci0 + ${c}u) * ${taps}u; ${writes} }`,
        );
      }
    }
  }
  const kernel: Kernel = {
    name: `conv${k}x${k}.weight_grad`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, rowsPerChunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let chunk = gid.x;
  if (chunk >= p.chunks) { return; }
  let ci0 = wid.y * ${cib}u;
  let cb = wid.z * ${co}u;
  let plane = p.h * p.w;
  let wmax = i32(p.w) - 1;
  ${okc.join("\n  ")}
  ${decl.join("\n  ")}
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.n * p.h);
  for (var r = r0; r < r1; r++) {
    let n = r / p.h;
    let yy = r % p.h;
    let xb = (n * p.cin + min(ci0, p.cin - 1u)) * plane;
    let dyb = (n * p.cout + min(cb, p.cout - 1u)) * plane + yy * p.w;
    for (var x0 = 0u; x0 < p.w; x0 += ${px}u) {
      ${xcols.join("\n      ")}
      ${dyLoads.join("\n      ")}
      ${rows.join("\n      ")}
    }
  }
  ${stores.join("\n  ")}
}`,
  };
  gradCache.set(key, kernel);
  return kernel;
}

// Sums over the leading (chunk) dimension: out[i] = Σ_c part[c·m + i].
const SUM_CHUNKS: Kernel = {
  name: "conv.sum_chunks",
  code: /* wgsl */ `
struct P { m: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.m) { return; }
  var s = 0.0;
  for (var c = 0u; c < p.chunks; c++) { s += part[c * p.m + i]; }
  out[i] = s;
}`,
};

/** Adds `chunks` partial arrays of `m` floats into a fresh tensor of `shape`. */
export function sumChunks(
  part: Tensor,
  options: { chunks: number; shape: readonly number[] },
): Tensor {
  const { chunks, shape } = options;
  const m = shape.reduce((a, b) => a * b, 1);
  const out = Tensor.empty(shape, { label: "conv.grad" });
  dispatch(SUM_CHUNKS, [part, out], { params: [m, chunks], workgroups: gridFor(m) });
  return out;
}

/** Rows per chunk so that enough invocations run in parallel while partial sums stay small. */
export function chunking(
  options: { rows: number; lanesPerChunk: number; floatsPerChunk: number },
): { rowsPerChunk: number; chunks: number } {
  const { rows, lanesPerChunk, floatsPerChunk } = options;
  const byLanes = Math.ceil(32768 / lanesPerChunk);
  const byMemory = Math.max(1, Math.floor(2 ** 24 / floatsPerChunk));
  const target = Math.max(1, Math.min(rows, byLanes, byMemory, 1024));
  const rowsPerChunk = Math.ceil(rows / target);
  return { rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk) };
}

/** Weight gradient [cout, cin, k, k] of a stride-1 conv from its input x and output gradient dy. */
export function weightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; block?: GradBlock; shape?: readonly number[] },
): Tensor {
  const { k } = options;
  const block = options.block ?? DEFAULT_GRAD_BLOCK;
  const [n, cin, h, w] = x.shape;
  const cout = dy.shape[1];
  const coBlocks = Math.ceil(cout / block.co);
  const ciBlocks = Math.ceil(cin / (block.ci ?? 1));
  const { rowsPerChunk, chunks } = chunking({
    rows: n * h,
    lanesPerChunk: ciBlocks * coBlocks,
    floatsPerChunk: cout * cin * k * k,
  });
  if (Math.ceil(chunks / 64) > 65535 || ciBlocks > 65535 || coBlocks > 65535) {
    throw new RangeError(`conv: weight gradient of [${x.shape}] too large`);
  }
  const part = Tensor.empty([chunks, cout, cin, k, k], { label: "conv.dw.part" });
  dispatch(weightGradKernel(k, block), [x, dy, part], {
    params: [n, cin, h, w, cout, rowsPerChunk, chunks],
    workgroups: [Math.ceil(chunks / 64), ciBlocks, coBlocks],
  });
  const dw = sumChunks(part, { chunks, shape: options.shape ?? [cout, cin, k, k] });
  part.release();
  return dw;
}

// Partial bias gradients: invocation (chunk, co) sums dy over the rows of its chunk.
const BIAS_GRAD: Kernel = {
  name: "conv.bias_grad",
  code: /* wgsl */ `
struct P { n: u32, c: u32, h: u32, w: u32, rowsPerChunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chunk = gid.x;
  let c = gid.y;
  if (chunk >= p.chunks) { return; }
  var s = 0.0;
  let r1 = min((chunk + 1u) * p.rowsPerChunk, p.n * p.h);
  for (var r = chunk * p.rowsPerChunk; r < r1; r++) {
    let base = ((r / p.h * p.c + c) * p.h + r % p.h) * p.w;
    for (var i = 0u; i < p.w; i++) { s += dy[base + i]; }
  }
  part[chunk * p.c + c] = s;
}`,
};

/** Bias gradient [c]: dy [n, c, h, w] summed over n, h, w. */
export function biasGrad(dy: Tensor): Tensor {
  const [n, c, h, w] = dy.shape;
  const { rowsPerChunk, chunks } = chunking({ rows: n * h, lanesPerChunk: c, floatsPerChunk: c });
  const part = Tensor.empty([chunks, c], { label: "conv.db.part" });
  dispatch(BIAS_GRAD, [dy, part], {
    params: [n, c, h, w, rowsPerChunk, chunks],
    workgroups: [Math.ceil(chunks / 64), c],
  });
  const db = sumChunks(part, { chunks, shape: [c] });
  part.release();
  return db;
}
