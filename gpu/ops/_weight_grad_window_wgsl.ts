// This module is browser compatible.
// Windowed weight gradient of the convolutions: dy cut into uniform windows that all lanes share,
// one lane per input channel. The default for 16+ input channels; else the chunked one (private).
import { dispatch, gridFor, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { UNIFORM_FLOATS } from "./_conv_layout.ts";
import {
  convInput,
  INPUT_DECL,
  planeCoordinates,
  type Source,
  sourceFor,
} from "./_conv_texture.ts";
import type { WindowGradTile } from "./tiles.ts";

/** Tile measured fastest on llvmpipe (see bench/README.md). */
export const DEFAULT_WINDOW_GRAD_TILE: WindowGradTile = { px: 8, co: 8, texture: true };

/** How dy is cut into uniform windows of `rows` image rows × `group` channels. */
export interface Windows {
  group: number;
  coGroups: number;
  rows: number;
  bands: number;
  stride: number;
}

/** The windows of dy [n, cout, h, w] for tiles of `co` output channels (null: a row is too wide). */
export function windows(cout: number, h: number, w: number, co: number): Windows | null {
  const group = Math.min(Math.ceil(cout / co) * co, Math.floor(UNIFORM_FLOATS / w / co) * co);
  if (group < co) return null;
  const rows = Math.min(h, Math.floor(UNIFORM_FLOATS / (w * group)));
  const floats = rows * w * group;
  return {
    group,
    coGroups: Math.ceil(cout / group),
    rows,
    bands: Math.ceil(h / rows),
    stride: Math.ceil(floats / 64) * 64,
  };
}

// win[(n, band, g)][r][x][coL] = dy[n, g·group + coL, band·rows + r, x] (0 outside).
const WINDOWS: Kernel = {
  name: "conv.dy_windows",
  code: /* wgsl */ `
struct P { total: u32, cout: u32, h: u32, w: u32, group: u32, coGroups: u32, rows: u32, bands: u32, stride: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.total) { return; }
  let win = i / p.stride;
  let e = i % p.stride;
  let coL = e % p.group;
  let x = (e / p.group) % p.w;
  let r = e / (p.group * p.w);
  let g = win % p.coGroups;
  let band = (win / p.coGroups) % p.bands;
  let n = win / (p.coGroups * p.bands);
  let co = g * p.group + coL;
  let y = band * p.rows + r;
  var v = 0.0;
  if (r < p.rows && co < p.cout && y < p.h) { v = dy[((n * p.cout + co) * p.h + y) * p.w + x]; }
  out[i] = v;
}`,
};

const cache = new Map<string, Kernel>();

/** What the code depends on: kernel size k, px pixels × q vec4s of co, span px + k − 1, pad. */
export interface Geometry {
  k: number;
  px: number;
  q: number;
  span: number;
  pad: number;
}

// Per step: the x columns it reads, and dy of its px pixels from the window (one load, all lanes).
function stepLoads(g: Geometry): string[] {
  const step: string[] = [];
  for (let s = 0; s < g.span; s++) {
    step.push(
      `let ix${s} = i32(x0) + ${
        s - g.pad
      }; let okx${s} = ix${s} >= 0 && ix${s} <= wmax; let cx${s} = u32(clamp(ix${s}, 0, wmax));`,
    );
  }
  for (let p = 0; p < g.px; p++) {
    for (let j = 0; j < g.q; j++) {
      step.push(
        `let d${p}_${j} = select(vec4f(0.0), wnd[((r * p.w + min(x0 + ${p}u, p.w - 1u)) * p.group) / 4u + cq + ${j}u], x0 + ${p}u < p.w);`,
      );
    }
  }
  return step;
}

/**
 * WGSL of kernel row ky: x along the step (aligned vec4s if padded, else bounds-checked) times
 * dy per tap, into `a{tap}_{j}` (dy as `d{pixel}_{j}`, vec4s of 4 output channels).
 */
export function tapRow(ky: number, g: Geometry, source: Source): string {
  const { k, px, q, span, pad } = g;
  const padded = source !== "bounded";
  const body: string[] = [];
  if (padded) {
    for (let m = 0; m < Math.ceil(span / 4); m++) {
      body.push(
        source === "texture"
          ? `let q${m} = textureLoad(xt, vec3u(x0 / 4u + ${m}u, ty + yy + ${ky}u, tz), 0);`
          : `let q${m} = xv[(xb + (yy + ${ky}u) * p.wp + x0) / 4u + ${m}u];`,
      );
    }
    for (let s = 0; s < span; s++) body.push(`let v${s} = q${s >> 2}[${s & 3}];`);
  } else {
    for (let s = 0; s < span; s++) {
      body.push(`let v${s} = select(0.0, x[row + cx${s}], okx${s});`);
    }
  }
  for (let kx = 0; kx < k; kx++) {
    for (let p = 0; p < px; p++) {
      for (let j = 0; j < q; j++) {
        const a = `a${ky * k + kx}_${j}`;
        body.push(`${a} = fma(vec4f(v${p + kx}), d${p}_${j}, ${a});`);
      }
    }
  }
  return padded ? `{ ${body.join("\n          ")} }` : `{ let iy = i32(yy) + ${ky - pad};
        if (iy >= 0 && iy < i32(p.h)) {
          let row = xb + u32(iy) * p.w;
          ${body.join("\n          ")}
        } }`;
}

/** WGSL that adds (or, for the first window, writes) the accumulators into dw[base + co][ci][tap]. */
export function dwStores(g: Geometry, base = ""): string[] {
  const taps = g.k * g.k;
  const stores: string[] = [];
  for (let j = 0; j < g.q; j++) {
    for (let c = 0; c < 4; c++) {
      const writes = Array.from(
        { length: taps },
        (_, t) => `dw[o + ${t}u] = select(dw[o + ${t}u], 0.0, p.first == 1u) + a${t}_${j}[${c}];`,
      ).join(" ");
      stores.push(
        `if (cb + ${j * 4 + c}u < p.cout) { let o = ${base}((cb + ${
          j * 4 + c
        }u) * p.cin + ci) * ${taps}u; ${writes} }`,
      );
    }
  }
  return stores;
}

/**
 * One window: invocation (ci, co tile) accumulates x·dy over the window's pixels for `co`
 * output channels × 9 taps; dy comes from the uniform window (one scalar load for all lanes,
 * which differ only in ci), x per lane (from a texture by default). Adds into dw unless `first`.
 */
function windowKernel(k: number, tile: WindowGradTile, source: Source): Kernel {
  const padded = source !== "bounded";
  const key = `${k}/${tile.px}/${tile.co}/${source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const { px, co } = tile;
  const pad = (k - 1) / 2;
  const q = co / 4;
  const taps = k * k;
  const g: Geometry = { k, px, q, span: px + k - 1, pad };
  const decl: string[] = [];
  for (let t = 0; t < taps; t++) {
    for (let j = 0; j < q; j++) decl.push(`var a${t}_${j} = vec4f(0.0);`);
  }
  const step = stepLoads(g);
  for (let ky = 0; ky < k; ky++) step.push(tapRow(ky, g, source));
  const stores = dwStores(g);
  const plane = source === "texture"
    ? planeCoordinates("p.n * p.cin + ci", `p.h + ${2 * pad}u`).start
    : "";
  const kernel: Kernel = {
    name: `conv${k}x${k}.weight_grad_window`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, y0: u32, rows: u32, coBase: u32, group: u32,
  first: u32, wp: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> wnd: array<vec4f, ${UNIFORM_FLOATS / 4}>;
@group(0) @binding(2) ${INPUT_DECL[source]};
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let ci = gid.x;
  if (ci >= p.cin) { return; }
  let cq = wid.y * ${q}u;
  let cb = p.coBase + wid.y * ${co}u;
  let wmax = i32(p.w) - 1;
  let xb = (p.n * p.cin + ci) * ${padded ? `(p.h + ${2 * pad}u) * p.wp` : "p.h * p.w"};
  ${plane}
  ${decl.join("\n  ")}
  for (var r = 0u; r < p.rows; r++) {
    let yy = p.y0 + r;
    for (var x0 = 0u; x0 < p.w; x0 += ${px}u) {
      ${step.join("\n      ")}
    }
  }
  ${stores.join("\n  ")}
}`,
  };
  cache.set(key, kernel);
  return kernel;
}

/**
 * dw [cout, cin, k, k] of a stride-1 conv, or null when the shape suits the chunked kernel
 * better (few input channels: lanes are input channels here; very wide rows).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { weightGrad } from "./_weight_grad_chunked_wgsl.ts";
 * import { windowWeightGrad } from "./_weight_grad_window_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16 * 16).fill(1), [1, 16, 4, 4]);
 * const gy = Tensor.from(new Float32Array(16).fill(1), [1, 1, 4, 4]);
 * const dw = windowWeightGrad(x, gy, { k: 3 }) ?? weightGrad(x, gy, { k: 3 });
 * const values = await dw.read();
 * console.log(dw.shape, values[0], values[4]); // [1, 16, 3, 3] 9 16
 * scope.end();
 * ```
 */
export function windowWeightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; tile?: WindowGradTile; shape?: readonly number[] },
): Tensor | null {
  const [n, cin, h, w] = x.shape;
  const cout = dy.shape[1];
  const { k } = options;
  const tile = options.tile ?? DEFAULT_WINDOW_GRAD_TILE;
  const win = windows(cout, h, w, tile.co);
  if (!win || cin < 16 || Math.ceil(cin / 64) > 65535) return null;
  const count = n * win.bands * win.coGroups;
  const total = (count - 1) * win.stride + UNIFORM_FLOATS;
  const wnd = Tensor.empty([total], { label: "conv.dw.windows" });
  dispatch(WINDOWS, [dy, wnd], {
    params: [total, cout, h, w, win.group, win.coGroups, win.rows, win.bands, win.stride],
    workgroups: gridFor(total),
  });
  const dw = Tensor.empty(options.shape ?? [cout, cin, k, k], { label: "conv.dw" });
  const wp = Math.ceil(w / tile.px) * tile.px + 4;
  const pad = (k - 1) / 2;
  const source = sourceFor(tile, { aligned: tile.px % 4 === 0, reused: cout > tile.co });
  const input = convInput(x, source, { pad, wp, hp: h + 2 * pad }, "padded");
  const kernel = windowKernel(k, tile, input.source);
  for (let i = 0; i < n; i++) {
    for (let band = 0; band < win.bands; band++) {
      const y0 = band * win.rows;
      for (let g = 0; g < win.coGroups; g++) {
        const index = (i * win.bands + band) * win.coGroups + g;
        const coBase = g * win.group;
        dispatch(kernel, [
          {
            buffer: wnd.buffer,
            offset: wnd.offset + index * win.stride * 4,
            size: UNIFORM_FLOATS * 4,
          },
          input.binding,
          dw,
        ], {
          params: [
            i,
            cin,
            h,
            w,
            cout,
            y0,
            Math.min(win.rows, h - y0),
            coBase,
            win.group,
            i === 0 && band === 0 ? 1 : 0,
            wp,
          ],
          workgroups: [
            Math.ceil(cin / 64),
            Math.ceil(Math.min(win.group, cout - coBase) / tile.co),
          ],
        });
      }
    }
  }
  wnd.release();
  input.release();
  return dw;
}
