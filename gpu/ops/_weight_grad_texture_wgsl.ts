// This module is browser compatible.
// The chunked weight gradient with x and dy read from textures (private to gpu/ops): the default
// for convs of few input channels, where the windowed kernel's lanes (input channels) run idle.
// Same partial sums per row chunk as _weight_grad_chunked_wgsl.ts, then the same sum over chunks.
import { dispatch, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { convInput } from "./_conv_texture.ts";
import { chunking, sumChunks, weightGrad } from "./_weight_grad_chunked_wgsl.ts";
import type { ChunkedGradTile } from "./tiles.ts";

/** Tile measured fastest on llvmpipe (see bench/README.md). */
export const DEFAULT_TEXTURE_GRAD_TILE: ChunkedGradTile = { px: 4, co: 4, ci: 4, texture: true };

const cache = new Map<string, Kernel>();

/** What the code depends on: kernel size k, px pixels (a multiple of 4), co, cib, pad. */
interface Geometry {
  k: number;
  px: number;
  co: number;
  cib: number;
  pad: number;
}

// Per row: texture coordinates of each input channel's x plane and each output channel's dy plane
// (channels past the end read the last one; their sums are never stored).
function rowPlanes(g: Geometry): string[] {
  const lines: string[] = [];
  for (let c = 0; c < g.cib; c++) {
    lines.push(`let xl${c} = n * p.cin + min(ci0 + ${c}u, p.cin - 1u);
    let xz${c} = xl${c} / xfold; let xy${c} = (xl${c} % xfold) * xhp + yy;`);
  }
  for (let c = 0; c < g.co; c++) {
    lines.push(`let dl${c} = n * p.cout + min(cb + ${c}u, p.cout - 1u);
    let dz${c} = dl${c} / dfold; let dy${c} = (dl${c} % dfold) * p.h + yy;`);
  }
  return lines;
}

// Per step of px pixels: dy as vec4s over 4 output channels per pixel, then per kernel row the x
// texels of each input channel and the FMAs into a{ci}_{tap}_{vec4 of co}.
function stepBody(g: Geometry): string[] {
  const { k, px, co, cib } = g;
  const q = co / 4;
  const body: string[] = [];
  for (let c = 0; c < co; c++) {
    for (let m = 0; m < px / 4; m++) {
      body.push(`let t${c}_${m} = textureLoad(dt, vec3u(x0 / 4u + ${m}u, dy${c}, dz${c}), 0);`);
    }
  }
  for (let p = 0; p < px; p++) {
    for (let j = 0; j < q; j++) {
      const comps = [0, 1, 2, 3].map((e) => `t${j * 4 + e}_${p >> 2}[${p & 3}]`);
      body.push(`let d${p}_${j} = vec4f(${comps.join(", ")});`);
    }
  }
  const span = px + k - 1;
  for (let ky = 0; ky < k; ky++) {
    for (let c = 0; c < cib; c++) {
      const loads: string[] = [];
      for (let m = 0; m < Math.ceil(span / 4); m++) {
        loads.push(
          `let q${m} = textureLoad(xt, vec3u(x0 / 4u + ${m}u, xy${c} + ${ky}u, xz${c}), 0);`,
        );
      }
      const fmas: string[] = [];
      for (let kx = 0; kx < k; kx++) {
        for (let p = 0; p < px; p++) {
          const s = p + kx;
          for (let j = 0; j < q; j++) {
            const a = `a${c}_${ky * k + kx}_${j}`;
            fmas.push(`${a} = fma(vec4f(q${s >> 2}[${s & 3}]), d${p}_${j}, ${a});`);
          }
        }
      }
      body.push(`{ ${loads.join(" ")}\n        ${fmas.join("\n        ")} }`);
    }
  }
  return body;
}

function kernelFor(k: number, tile: ChunkedGradTile): Kernel {
  const cib = tile.ci ?? 1;
  const key = `${k}/${tile.px}/${tile.co}/${cib}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const g: Geometry = { k, px: tile.px, co: tile.co, cib, pad: (k - 1) / 2 };
  const taps = k * k;
  const q = tile.co / 4;
  const decl: string[] = [];
  const stores: string[] = [];
  for (let c = 0; c < cib; c++) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < q; j++) decl.push(`var a${c}_${t}_${j} = vec4f(0.0);`);
    }
    for (let cl = 0; cl < tile.co; cl++) {
      const writes = Array.from(
        { length: taps },
        (_, t) => `part[o + ${t}u] = a${c}_${t}_${cl >> 2}[${cl & 3}];`,
      ).join(" ");
      stores.push(`if (cb + ${cl}u < p.cout && ci0 + ${c}u < p.cin) {
    let o = ((chunk * p.cout + cb + ${cl}u) * p.cin + ci0 + ${c}u) * ${taps}u; ${writes} }`);
    }
  }
  const kernel: Kernel = {
    name: `conv${k}x${k}.weight_grad_texture`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, rowsPerChunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var xt: texture_3d<f32>;
@group(0) @binding(2) var dt: texture_3d<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let chunk = gid.x;
  if (chunk >= p.chunks) { return; }
  let ci0 = wid.y * ${cib}u;
  let cb = wid.z * ${tile.co}u;
  let xhp = p.h + ${2 * g.pad}u;
  let xfold = textureDimensions(xt).y / xhp;
  let dfold = textureDimensions(dt).y / p.h;
  ${decl.join("\n  ")}
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.n * p.h);
  for (var r = r0; r < r1; r++) {
    let n = r / p.h;
    let yy = r % p.h;
    ${rowPlanes(g).join("\n    ")}
    for (var x0 = 0u; x0 < p.w; x0 += ${tile.px}u) {
      ${stepBody(g).join("\n      ")}
    }
  }
  ${stores.join("\n  ")}
}`,
  };
  cache.set(key, kernel);
  return kernel;
}

/**
 * Weight gradient [cout, cin, k, k] of a stride-1 conv with x and dy read from textures, or null
 * when either does not fit one (the caller falls back to the storage-buffer kernel). `tile.px`
 * must be a multiple of 4.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { textureWeightGrad } from "./_weight_grad_texture_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const gy = Tensor.from(new Float32Array(32).fill(1), [1, 2, 4, 4]);
 * const dw = textureWeightGrad(x, gy, { k: 3, tile: { px: 4, co: 8, ci: 1 } })!;
 * const values = await dw.read(); // each tap: how many output pixels see an input pixel there
 * console.log(dw.shape, values[0], values[4]); // [2, 1, 3, 3] 9 16
 * scope.end();
 * ```
 */
export function textureWeightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; tile: ChunkedGradTile; shape?: readonly number[] },
): Tensor | null {
  const { k, tile } = options;
  if (tile.px % 4 !== 0) throw new RangeError(`conv: texture weight gradient needs px % 4 = 0`);
  const [n, cin, h, w] = x.shape;
  const cout = dy.shape[1];
  const pad = (k - 1) / 2;
  const wp = Math.ceil(w / tile.px) * tile.px + 4;
  const xs = convInput(x, "texture", { pad, wp, hp: h + 2 * pad }, "bounded");
  const ds = convInput(dy, "texture", { pad: 0, wp, hp: h }, "bounded");
  const coTiles = Math.ceil(cout / tile.co);
  const ciTiles = Math.ceil(cin / (tile.ci ?? 1));
  const { rowsPerChunk, chunks } = chunking({
    rows: n * h,
    lanesPerChunk: ciTiles * coTiles,
    floatsPerChunk: cout * cin * k * k,
  });
  if (
    xs.source !== "texture" || ds.source !== "texture" || Math.ceil(chunks / 64) > 65535 ||
    ciTiles > 65535 || coTiles > 65535
  ) {
    xs.release();
    ds.release();
    return null;
  }
  const part = Tensor.empty([chunks, cout, cin, k, k], { label: "conv.dw.part" });
  dispatch(kernelFor(k, tile), [xs.binding, ds.binding, part], {
    params: [n, cin, h, w, cout, rowsPerChunk, chunks],
    workgroups: [Math.ceil(chunks / 64), ciTiles, coTiles],
  });
  xs.release();
  ds.release();
  const dw = sumChunks(part, { chunks, shape: options.shape ?? [cout, cin, k, k] });
  part.release();
  return dw;
}

/**
 * The weight gradient for convs the windowed kernel does not take: from textures for 4+ input
 * channels unless `tile` says otherwise (or they do not fit), else the storage-buffer chunked kernel.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { chunkedWeightGrad } from "./_weight_grad_texture_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(64).fill(1), [1, 4, 4, 4]);
 * const gy = Tensor.from(new Float32Array(32).fill(1), [1, 2, 4, 4]);
 * const dw = chunkedWeightGrad(x, gy, { k: 3 }); // 4 input channels: from textures
 * console.log(dw.shape, (await dw.read())[4]); // [2, 4, 3, 3] 16
 * scope.end();
 * ```
 */
export function chunkedWeightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; tile?: ChunkedGradTile; shape?: readonly number[] },
): Tensor {
  const { k, shape } = options;
  // Below 4 input channels (a modality's first conv) dy's texture copy costs what it saves.
  const useTexture = options.tile ? options.tile.texture : x.shape[1] >= 4;
  if (!useTexture) return weightGrad(x, dy, options);
  const tile = options.tile ?? DEFAULT_TEXTURE_GRAD_TILE;
  return textureWeightGrad(x, dy, { k, tile, shape }) ?? weightGrad(x, dy, { k, shape });
}
