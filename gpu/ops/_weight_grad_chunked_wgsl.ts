// This module is browser compatible.
// Chunked weight gradient of the convs (private): per-tap partial sums over row chunks, then a sum
// over chunks, no barriers. Any shape: used where the windowed one does not apply.
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import type { ChunkedGradTile } from "./tiles.ts";

/** Chunked weight-gradient tile measured fastest on llvmpipe (see bench/README.md). */
export const DEFAULT_CHUNKED_GRAD_TILE: ChunkedGradTile = { px: 2, co: 8, ci: 4 };

const gradCache = new Map<string, Kernel>();

/** What the code depends on: kernel size k, px pixels × q vec4s of co × cib inputs, span, pad. */
interface Geometry {
  k: number;
  px: number;
  q: number;
  cib: number;
  span: number;
  pad: number;
}

// dy of the step's px pixels × the tile's output channels, as vec4s d{pixel}_{vec4} (0 outside).
function dyLoads(g: Geometry): string[] {
  const loads: string[] = [];
  for (let p = 0; p < g.px; p++) {
    loads.push(`let ok${p} = x0 + ${p}u < p.w; let xi${p} = min(x0 + ${p}u, p.w - 1u);`);
    for (let j = 0; j < g.q; j++) {
      const comps = [0, 1, 2, 3].map((c) =>
        `select(0.0, dy[dyb + ${j * 4 + c}u * plane + xi${p}], ok${p} && ok_c${j * 4 + c})`
      );
      loads.push(`let d${p}_${j} = vec4f(${comps.join(", ")});`);
    }
  }
  return loads;
}

// Kernel row ky: x of each input channel along the step, times dy, into the accumulators per tap.
function tapRow(ky: number, g: Geometry): string {
  const { k, px, q, cib, span, pad } = g;
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
  return `{
        let iy = i32(yy) + ${ky - pad};
        if (iy >= 0 && iy < i32(p.h)) {
          let row = xb + u32(iy) * p.w;
          ${body.join("\n          ")}
        }
      }`;
}

// The chunk's partial sums: part[chunk][co][ci][tap] for every valid channel pair of the tile.
function partStores(g: Geometry): string[] {
  const taps = g.k * g.k;
  const stores: string[] = [];
  for (let c = 0; c < g.cib; c++) {
    for (let j = 0; j < g.q; j++) {
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
  return stores;
}

/**
 * Partial weight gradients: invocation (chunk, ci tile, co tile) sums dy·x over the image rows
 * of its chunk for `co` output × `ci` input channels × k² taps, into part[chunk][co][ci][tap].
 * No barriers: a second pass ({@linkcode sumChunks}) adds the chunks.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHUNKED_GRAD_TILE, weightGradKernel } from "./_weight_grad_chunked_wgsl.ts";
 * const kernel = weightGradKernel(3, DEFAULT_CHUNKED_GRAD_TILE);
 * console.log(kernel.name, kernel.code.includes("@compute")); // conv3x3.weight_grad true
 * ```
 */
export function weightGradKernel(k: number, tile: ChunkedGradTile): Kernel {
  const cib = tile.ci ?? 1;
  const key = `${k}/${tile.px}/${tile.co}/${cib}`;
  const cached = gradCache.get(key);
  if (cached) return cached;
  const { px, co } = tile;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const taps = k * k;
  const span = px + k - 1;
  const g: Geometry = { k, px, q, cib, span, pad };
  const decl: string[] = [];
  for (let c = 0; c < cib; c++) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < q; j++) decl.push(`var a${c}_${t}_${j} = vec4f(0.0);`);
    }
  }
  const rows = Array.from({ length: k }, (_, ky) => tapRow(ky, g));
  const xcols: string[] = [];
  for (let s = 0; s < span; s++) {
    xcols.push(`let ix${s} = i32(x0) + ${s - pad}; let ok_x${s} = ix${s} >= 0 && ix${s} <= wmax;`);
  }
  const okc: string[] = [];
  for (let c = 0; c < co; c++) okc.push(`let ok_c${c} = cb + ${c}u < p.cout;`);
  for (let c = 0; c < cib; c++) okc.push(`let ok_i${c} = ci0 + ${c}u < p.cin;`);
  const dyLoadLines = dyLoads(g);
  const stores = partStores(g);
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
      ${dyLoadLines.join("\n      ")}
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

/**
 * Adds `chunks` partial arrays of `m` floats into a fresh tensor of `shape`.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { sumChunks } from "./_weight_grad_chunked_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const part = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]); // 3 chunks of 2 partial sums
 * const total = sumChunks(part, { chunks: 3, shape: [2] });
 * console.log(await total.read()); // Float32Array(2) [9, 12]
 * scope.end();
 * ```
 */
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

/**
 * Rows per chunk so that enough invocations run in parallel while partial sums stay small.
 *
 * @example
 * ```ts
 * import { chunking } from "./_weight_grad_chunked_wgsl.ts";
 * const rows = { rows: 1080, lanesPerChunk: 512, floatsPerChunk: 36864 };
 * console.log(chunking(rows)); // { rowsPerChunk: 17, chunks: 64 }
 * ```
 */
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

/**
 * Weight gradient [cout, cin, k, k] of a stride-1 conv from its input x and output gradient dy.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { weightGrad } from "./_weight_grad_chunked_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const gy = Tensor.from(new Float32Array(32).fill(1), [1, 2, 4, 4]);
 * const dw = weightGrad(x, gy, { k: 3 });
 * const values = await dw.read(); // each tap: how many output pixels see an input pixel there
 * console.log(dw.shape, values[0], values[4]); // [2, 1, 3, 3] 9 16
 * scope.end();
 * ```
 */
export function weightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; tile?: ChunkedGradTile; shape?: readonly number[] },
): Tensor {
  const { k } = options;
  const [n, cin, h, w] = x.shape;
  // Fewer than 4 input channels (a modality's first conv): 4-channel tiles would compute for
  // channels that are not there; 1-channel tiles ran 1→8 at 128² 1.4× as fast on llvmpipe.
  const tile = options.tile ??
    (cin < 4 ? { ...DEFAULT_CHUNKED_GRAD_TILE, ci: 1 } : DEFAULT_CHUNKED_GRAD_TILE);
  const cout = dy.shape[1];
  const coTiles = Math.ceil(cout / tile.co);
  const ciTiles = Math.ceil(cin / (tile.ci ?? 1));
  const { rowsPerChunk, chunks } = chunking({
    rows: n * h,
    lanesPerChunk: ciTiles * coTiles,
    floatsPerChunk: cout * cin * k * k,
  });
  if (Math.ceil(chunks / 64) > 65535 || ciTiles > 65535 || coTiles > 65535) {
    throw new RangeError(`conv: weight gradient of [${x.shape}] too large`);
  }
  const part = Tensor.empty([chunks, cout, cin, k, k], { label: "conv.dw.part" });
  dispatch(weightGradKernel(k, tile), [x, dy, part], {
    params: [n, cin, h, w, cout, rowsPerChunk, chunks],
    workgroups: [Math.ceil(chunks / 64), ciTiles, coTiles],
  });
  const dw = sumChunks(part, { chunks, shape: options.shape ?? [cout, cin, k, k] });
  part.release();
  return dw;
}
