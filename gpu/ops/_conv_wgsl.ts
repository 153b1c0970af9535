// This module is browser compatible.
// The direct convolution kernel, stride 1, 1×1 or 3×3 (private to gpu/ops): generated per register
// tile, with weights from uniform slices laid out by _conv_layout.ts.
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
import type { ConvTile } from "./tiles.ts";

/** Tile measured fastest on llvmpipe for the network's shapes (see bench/README.md). */
export const DEFAULT_CONV_TILE: ConvTile = { px: 8, co: 8, texture: true };

const convCache = new Map<string, Kernel>();

/** What the code of one kernel row and its stores depend on. */
interface Geometry {
  /** Kernel size. */
  k: number;
  /** Output pixels per invocation. */
  px: number;
  /** Output-channel vec4s per invocation. */
  q: number;
  /** Input pixels a row of the tile reads: px + k − 1. */
  span: number;
  /** Zero padding on each side. */
  pad: number;
}

// The FMAs of kernel row ky: each tap × output vec4 × pixel, weights shared by the whole workgroup.
function rowFmas(ky: number, g: Geometry): string[] {
  const fmas: string[] = [];
  for (let kx = 0; kx < g.k; kx++) {
    for (let j = 0; j < g.q; j++) {
      fmas.push(`{ let wv = wt[wi + ${ky * g.k + kx}u * gq + ${j}u];`);
      for (let p = 0; p < g.px; p++) {
        fmas.push(`  a${p}_${j} = fma(vec4f(v${p + kx}), wv, a${p}_${j});`);
      }
      fmas.push(`}`);
    }
  }
  return fmas;
}

// Kernel row ky from the zero-padded input (a copy or a texture): aligned vec4 loads, no bounds checks.
function paddedRow(ky: number, g: Geometry, source: Source): string {
  const loads: string[] = [];
  for (let m = 0; m < Math.ceil(g.span / 4); m++) {
    loads.push(
      source === "texture"
        ? `let q${m} = textureLoad(xt, vec3u(u32(x0) / 4u + ${m}u, ty + yy + ${ky}u, tz), 0);`
        : `let q${m} = xv[(xb + (yy + ${ky}u) * p.wp + u32(x0)) / 4u + ${m}u];`,
    );
  }
  for (let s = 0; s < g.span; s++) loads.push(`let v${s} = q${s >> 2}[${s & 3}];`);
  return `{
      ${loads.join("\n      ")}
      ${rowFmas(ky, g).join("\n      ")}
    }`;
}

// Kernel row ky from the input as it is: per-lane loads, bounds checked against the image.
function boundedRow(ky: number, g: Geometry): string {
  const loads: string[] = [];
  for (let s = 0; s < g.span; s++) {
    loads.push(
      `let ix${s} = x0 + ${
        s - g.pad
      }; let v${s} = select(0.0, x[row + u32(clamp(ix${s}, 0, wmax))], ix${s} >= 0 && ix${s} <= wmax);`,
    );
  }
  return `{
      let iy = i32(yy) + ${ky - g.pad};
      if (iy >= 0 && iy < i32(p.h)) {
        let row = xb + u32(iy) * p.w;
        ${loads.join("\n        ")}
        ${rowFmas(ky, g).join("\n        ")}
      }
    }`;
}

// Bias (first input slice only) plus accumulators into y; `shuffle` scatters a transposed conv's 2×2.
function storeLines(g: Geometry, shuffle: boolean): string[] {
  const stores: string[] = [];
  for (let j = 0; j < g.q; j++) {
    for (let c = 0; c < 4; c++) {
      const cl = `${j * 4 + c}u`;
      stores.push(`{ let col = cb + ${cl}; let cg = p.coBase + col;
    if (cg < p.cout) { let bias = wt[(p.biasAt + col) / 4u][(p.biasAt + col) % 4u];`);
      for (let p = 0; p < g.px; p++) {
        const target = shuffle
          ? `((n * (p.cout / 4u) + cg / 4u) * 2u * p.h + 2u * yy + (cg / 2u) % 2u) * 2u * p.w + 2u * (u32(x0) + ${p}u) + cg % 2u`
          : `((n * p.cout + cg) * p.h + yy) * p.w + u32(x0) + ${p}u`;
        stores.push(`      if (u32(x0) + ${p}u < p.w) { let o = ${target};
        let v = select(y[o], bias, p.first == 1u) + a${p}_${j}[${c}];
        y[o] = select(v, max(v, 0.0), p.relu == 1u); }`);
      }
      stores.push(`  } }`);
    }
  }
  return stores;
}

/**
 * Direct convolution, stride 1, weights from a uniform slice. Each invocation computes `px`
 * consecutive output pixels of one row × `co` output channels; the channel tile is the same
 * for the whole workgroup, so every weight read is one scalar load shared by all lanes.
 * `shuffle` stores a transposed 2×2 stride-2 conv's output: logical channel c = co·4 + a·2 + b
 * lands at (co, 2y + a, 2x + b).
 *
 * @example
 * ```ts
 * import { convKernel } from "./_conv_wgsl.ts";
 * const kernel = convKernel({ px: 8, co: 8 }, { k: 3, shuffle: false });
 * console.log(kernel.name, kernel.code.includes("@compute")); // conv3x3.direct true
 * ```
 */
export function convKernel(
  tile: ConvTile,
  options: { k: number; shuffle: boolean; source?: Source },
): Kernel {
  const { k, shuffle, source = "bounded" } = options;
  const padded = source !== "bounded";
  const key = `${k}/${tile.px}/${tile.co}/${shuffle}/${source}`;
  const cached = convCache.get(key);
  if (cached) return cached;
  const { px, co } = tile;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const g: Geometry = { k, px, q, span: px + k - 1, pad };
  const decl: string[] = [];
  for (let p = 0; p < px; p++) {
    for (let j = 0; j < q; j++) decl.push(`var a${p}_${j} = vec4f(0.0);`);
  }
  const rows = Array.from(
    { length: k },
    (_, ky) => padded ? paddedRow(ky, g, source) : boundedRow(ky, g),
  );
  const stores = storeLines(g, shuffle);
  const plane = source === "texture"
    ? planeCoordinates("n * p.cinTotal + p.ciBase", `p.h + ${2 * pad}u`)
    : { start: "", next: "" };
  const kernel: Kernel = {
    name: `conv${k}x${k}.${shuffle ? "transposed" : "direct"}`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, coBase: u32, ciBase: u32, cinTotal: u32,
  tilesX: u32, gq: u32, first: u32, biasAt: u32, wp: u32, relu: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> wt: array<vec4f, ${UNIFORM_FLOATS / 4}>;
@group(0) @binding(2) ${INPUT_DECL[source]};
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
  ${plane.start}
  for (var ci = 0u; ci < p.cin; ci++) {
    let xb = (n * p.cinTotal + p.ciBase + ci) * ${
      padded ? `(p.h + ${2 * pad}u) * p.wp` : "p.h * p.w"
    };
    let wi = ci * ${k * k}u * gq + wid.y * ${q}u;
    ${rows.join("\n    ")}
    ${plane.next}
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
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { packWeights, sliceLayout } from "./_conv_layout.ts";
 * import { DEFAULT_CONV_TILE, runConv } from "./_conv_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const y = Tensor.empty([1, 1, 4, 4]);
 * const layout = sliceLayout({ cout: 1, cin: 1, k: 3 }, DEFAULT_CONV_TILE);
 * const dims = { cout: 1, cin: 1, k: 3, layout, mode: 0 as const };
 * const packed = packWeights(Tensor.from(new Float32Array(9).fill(1), [1, 1, 3, 3]), dims);
 * runConv(x, y, { cout: 1, k: 3, packed, layout, tile: DEFAULT_CONV_TILE });
 * const out = await y.read(); // 3×3 box sums, zero-padded
 * console.log(out[0], out[5]); // 4 9
 * scope.end();
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
    tile: ConvTile;
    shuffle?: boolean;
    relu?: boolean;
  },
): void {
  const [n, cin, h, w] = x.shape;
  const { cout, k, packed, layout, tile } = dims;
  const relu = dims.relu ?? false;
  const tilesX = Math.ceil(w / tile.px);
  // Row stride covers every run's aligned loads (x0 + px + 4) and is a multiple of 4.
  const wp = tilesX * tile.px + 4;
  const pad = (k - 1) / 2;
  const source = sourceFor(tile, { aligned: tile.px % 4 === 0, reused: cout > tile.co });
  const input = convInput(x, source, { pad, wp, hp: h + 2 * pad }, "bounded");
  const kernel = convKernel(tile, { k, shuffle: dims.shuffle ?? false, source: input.source });
  const pixelGroups = Math.ceil((h * tilesX) / 64);
  if (pixelGroups > 65535 || n > 65535) throw new RangeError(`conv: image [${x.shape}] too large`);
  for (let cs = 0; cs < layout.ciSlices; cs++) {
    const ciBase = cs * layout.ciChunk;
    const ciCount = Math.min(layout.ciChunk, cin - ciBase);
    for (let os = 0; os < layout.coSlices; os++) {
      const coBase = os * layout.group;
      const coTiles = Math.ceil(Math.min(layout.group, cout - coBase) / tile.co);
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
          relu && cs === layout.ciSlices - 1 ? 1 : 0,
        ],
        workgroups: [pixelGroups, coTiles, n],
      });
    }
  }
  input.release();
}
