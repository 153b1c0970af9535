// This module is browser compatible.
// Winograd F(2×2, 3×3) convolution kernel (private to gpu/ops): 2.25× fewer multiplies than direct.
import { dispatch, type Kernel } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";
import { type SliceLayout, UNIFORM_FLOATS } from "./_conv_layout.ts";
import {
  convInput,
  INPUT_DECL,
  planeCoordinates,
  type Source,
  sourceFor,
} from "./_conv_texture.ts";
import type { WinogradTile } from "./tiles.ts";
import { tileStores } from "./_winograd_stores.ts";

/** Tile measured fastest on llvmpipe (see bench/README.md). */
export const DEFAULT_WINOGRAD_TILE: WinogradTile = { tiles: 4, co: 8, texture: true };

const cache = new Map<string, Kernel>();

// Bᵀ·d·B on 4 values: rows then columns use the same 1-D transform.
function bt(d: string[]): string[] {
  return [`${d[0]} - ${d[2]}`, `${d[1]} + ${d[2]}`, `${d[2]} - ${d[1]}`, `${d[1]} - ${d[3]}`];
}

// The 4×(2·tiles+2) input patch of one input channel as d{row}_{col}: aligned vec4 loads from the
// zero-padded copy, or bounds-checked per-lane loads.
function patchLoads(tiles: number, source: Source): string[] {
  const cols = 2 * tiles + 2;
  const padded = source !== "bounded";
  const body: string[] = [];
  for (let r = 0; r < 4 && padded; r++) {
    for (let m = 0; m < cols / 4; m++) {
      body.push(
        source === "texture"
          ? `let q${r}_${m} = textureLoad(xt, vec3u(ox0 / 4u + ${m}u, ty + oy0 + ${r}u, tz), 0);`
          : `let q${r}_${m} = xv[(xb + (oy0 + ${r}u) * p.wp + ox0) / 4u + ${m}u];`,
      );
    }
    for (let c = 0; c < cols; c++) body.push(`let d${r}_${c} = q${r}_${c >> 2}[${c & 3}];`);
  }
  for (let r = 0; r < 4 && !padded; r++) {
    body.push(
      `let iy${r} = iy0 + ${r}; let okr${r} = iy${r} >= 0 && iy${r} < i32(p.h); let row${r} = xb + u32(clamp(iy${r}, 0, hmax)) * p.w;`,
    );
    for (let c = 0; c < cols; c++) {
      body.push(`let d${r}_${c} = select(0.0, x[row${r} + cx${c}], okr${r} && okc${c});`);
    }
  }
  return body;
}

// Input transform V = Bᵀ·d·B of each tile (adds only), as v{tile}_{0..15}.
function inputTransforms(tiles: number): string[] {
  const body: string[] = [];
  for (let t = 0; t < tiles; t++) {
    // Rows first: r_i[c] = (Bᵀ d)[i][c], then columns: V[i][j] = (r_i Bᵀ-transformed)[j].
    const rowsT: string[][] = [];
    for (let c = 0; c < 4; c++) {
      const col = [0, 1, 2, 3].map((r) => `d${r}_${2 * t + c}`);
      rowsT.push(bt(col));
    }
    for (let i = 0; i < 4; i++) {
      body.push(`let r${t}_${i} = vec4f(${[0, 1, 2, 3].map((c) => rowsT[c][i]).join(", ")});`);
      const v = bt([0, 1, 2, 3].map((c) => `r${t}_${i}.${"xyzw"[c]}`));
      for (let j = 0; j < 4; j++) body.push(`let v${t}_${i * 4 + j} = ${v[j]};`);
    }
  }
  return body;
}

// The 16 element-wise products per tile and output vec4, with transformed weights from the uniform.
function products(tiles: number, q: number): string[] {
  const body: string[] = [];
  for (let e = 0; e < 16; e++) {
    for (let j = 0; j < q; j++) {
      body.push(`{ let wv = wt[wi + ${e}u * gq + ${j}u];`);
      for (let t = 0; t < tiles; t++) {
        body.push(`  m${t}_${e}_${j} = fma(vec4f(v${t}_${e}), wv, m${t}_${e}_${j});`);
      }
      body.push(`}`);
    }
  }
  return body;
}

/**
 * Each invocation computes `tiles` 2×2 output tiles along x × `co` output channels: per input
 * channel it loads the 4×(2·tiles+2) input patch, transforms each tile (adds only), and
 * accumulates 16 products per tile and channel with transformed weights from a uniform slice.
 *
 * @example
 * ```ts
 * import { winogradKernel } from "./_winograd_wgsl.ts";
 * const kernel = winogradKernel({ tiles: 2, co: 8 });
 * console.log(kernel.name, kernel.code.includes("@compute")); // conv3x3.winograd true
 * ```
 */
export function winogradKernel(
  tile: WinogradTile,
  options: { source?: Source; pool?: boolean } = {},
): Kernel {
  const { source = "bounded", pool = false } = options;
  const padded = source !== "bounded";
  const key = `${tile.tiles}/${tile.co}/${source}/${pool}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const { tiles, co } = tile;
  const q = co / 4;
  const cols = 2 * tiles + 2;
  const decl: string[] = [];
  for (let t = 0; t < tiles; t++) {
    for (let e = 0; e < 16; e++) {
      for (let j = 0; j < q; j++) decl.push(`var m${t}_${e}_${j} = vec4f(0.0);`);
    }
  }
  const body = [...patchLoads(tiles, source), ...inputTransforms(tiles), ...products(tiles, q)];
  const stores = tileStores(tiles, q, pool);
  const plane = source === "texture"
    ? planeCoordinates("n * p.cinTotal + p.ciBase", "p.hp")
    : { start: "", next: "" };
  const colDecl: string[] = [];
  for (let c = 0; c < cols; c++) {
    colDecl.push(
      `let ic${c} = ix0 + ${c}; let okc${c} = ic${c} >= 0 && ic${c} < i32(p.w); let cx${c} = u32(clamp(ic${c}, 0, wmax));`,
    );
  }
  const kernel: Kernel = {
    name: pool ? "conv3x3.winograd_pool" : "conv3x3.winograd",
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, coBase: u32, ciBase: u32, cinTotal: u32,
  groupsX: u32, gq: u32, first: u32, biasAt: u32, hp: u32, wp: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> wt: array<vec4f, ${UNIFORM_FLOATS / 4}>;
@group(0) @binding(2) ${INPUT_DECL[source]};
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let t = gid.x;
  let tilesY = (p.h + 1u) / 2u;
  if (t >= tilesY * p.groupsX) { return; }
  let n = wid.z;
  let cb = wid.y * ${co}u;
  let gq = p.gq;
  let oy0 = (t / p.groupsX) * 2u;
  let ox0 = (t % p.groupsX) * ${2 * tiles}u;
  let iy0 = i32(oy0) - 1;
  let ix0 = i32(ox0) - 1;
  let wmax = i32(p.w) - 1;
  let hmax = i32(p.h) - 1;
  ${padded ? "" : colDecl.join("\n  ")}
  ${decl.join("\n  ")}
  ${plane.start}
  for (var ci = 0u; ci < p.cin; ci++) {
    let xb = (n * p.cinTotal + p.ciBase + ci) * ${padded ? "p.hp * p.wp" : "p.h * p.w"};
    let wi = ci * 16u * gq + wid.y * ${q}u;
    ${body.join("\n    ")}
    ${plane.next}
  }
  ${stores.join("\n  ")}
}`,
  };
  cache.set(key, kernel);
  return kernel;
}

/**
 * Runs a Winograd 3×3 conv (padding 1) of x into y with weights packed with `winograd: true`.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { packWeights, sliceLayout } from "./_conv_layout.ts";
 * import { DEFAULT_WINOGRAD_TILE, runWinograd } from "./_winograd_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const y = Tensor.empty([1, 1, 4, 4]);
 * const layout = sliceLayout({ cout: 1, cin: 1, k: 3, taps: 16 }, DEFAULT_WINOGRAD_TILE);
 * const dims = { cout: 1, cin: 1, k: 3, layout, mode: 0 as const, winograd: true };
 * const packed = packWeights(Tensor.from(new Float32Array(9).fill(1), [1, 1, 3, 3]), dims);
 * runWinograd(x, y, { cout: 1, packed, layout, tile: DEFAULT_WINOGRAD_TILE });
 * const out = await y.read(); // 3×3 box sums, zero-padded
 * console.log(out[0], out[5]); // 4 9
 * scope.end();
 * ```
 */
export function runWinograd(
  x: Tensor,
  y: Tensor,
  dims: {
    cout: number;
    packed: Tensor;
    layout: SliceLayout;
    tile: WinogradTile;
    relu?: boolean;
    pool?: boolean;
  },
): void {
  const [n, cin, h, w] = x.shape;
  const { cout, packed, layout, tile } = dims;
  const relu = dims.relu ?? false;
  const pool = dims.pool ?? false;
  if (pool && layout.ciSlices !== 1) {
    throw new RangeError("conv: a pooled store needs one input slice");
  }
  const groupsX = Math.ceil(Math.ceil(w / 2) / tile.tiles);
  const pixelGroups = Math.ceil((Math.ceil(h / 2) * groupsX) / 64);
  // Padded rows cover every tile's 4 input rows, columns every group's aligned vec4 loads.
  const hp = 2 * Math.ceil(h / 2) + 2;
  const wp = groupsX * 2 * tile.tiles + 4;
  const source = sourceFor(tile, { aligned: tile.tiles % 2 === 0, reused: cout > tile.co });
  const input = convInput(x, source, { pad: 1, wp, hp }, "bounded");
  const kernel = winogradKernel(tile, { source: input.source, pool });
  if (pixelGroups > 65535 || n > 65535) throw new RangeError(`conv: image [${x.shape}] too large`);
  for (let cs = 0; cs < layout.ciSlices; cs++) {
    const ciBase = cs * layout.ciChunk;
    for (let os = 0; os < layout.coSlices; os++) {
      const coBase = os * layout.group;
      const slice = cs * layout.coSlices + os;
      dispatch(kernel, [
        {
          buffer: packed.buffer,
          offset: packed.offset + slice * layout.stride * 4,
          size: UNIFORM_FLOATS * 4,
        },
        input.binding,
        y,
      ], {
        params: [
          n,
          Math.min(layout.ciChunk, cin - ciBase),
          h,
          w,
          cout,
          coBase,
          ciBase,
          cin,
          groupsX,
          layout.group / 4,
          cs === 0 ? 1 : 0,
          layout.biasAt,
          hp,
          wp,
          relu && cs === layout.ciSlices - 1 ? 1 : 0,
        ],
        workgroups: [pixelGroups, Math.ceil(Math.min(layout.group, cout - coBase) / tile.co), n],
      });
    }
  }
  input.release();
}
