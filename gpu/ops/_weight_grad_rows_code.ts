// This module is browser compatible.
// WGSL of the weight gradient that binds dy's rows in place (dispatched by
// _weight_grad_rows_wgsl.ts): binding c + 1 holds output channel coBase + c from its band's first
// row on, at vec4 offset p.o{c}; lanes are input channels, or blocks of them for 1×1 convs.
import type { Kernel } from "../kernel.ts";
import { UNIFORM_FLOATS } from "./_conv_layout.ts";
import { INPUT_DECL, planeCoordinates, type Source } from "./_conv_texture.ts";
import { dwStores, type Geometry, tapRow } from "./_weight_grad_window_wgsl.ts";
import type { WindowGradTile } from "./tiles.ts";

const cache = new Map<string, Kernel>();

// Per step of px pixels: each output channel's dy as px / 4 vec4s from its own binding, regrouped
// into vec4s of 4 output channels per pixel (d{pixel}_{j}, as tapRow reads them).
function stepLoads(g: Geometry): string[] {
  const co = g.q * 4;
  const lines: string[] = [];
  for (let c = 0; c < co; c++) {
    for (let m = 0; m < g.px / 4; m++) {
      lines.push(`let t${c}_${m} = dy${c}[p.o${c} + row4 + x0 / 4u + ${m}u];`);
    }
  }
  for (let px = 0; px < g.px; px++) {
    for (let j = 0; j < g.q; j++) {
      const comps = [0, 1, 2, 3].map((e) => `t${j * 4 + e}_${px >> 2}[${px & 3}]`);
      lines.push(`let d${px}_${j} = vec4f(${comps.join(", ")});`);
    }
  }
  return lines;
}

/** The parts of a kernel that differ with what a lane owns. */
interface LanePart {
  /** The lane's first input channel, its setup, accumulators, per-step work and stores. */
  ci: string;
  setup: string[];
  decl: string[];
  step: string[];
  stores: string[];
}

// One input channel per lane, any k: x rows through tapRow (texture or padded copy).
function oneChannel(g: Geometry, source: Source): LanePart {
  const taps = g.k * g.k;
  const decl: string[] = [];
  for (let t = 0; t < taps; t++) {
    for (let j = 0; j < g.q; j++) decl.push(`var a${t}_${j} = vec4f(0.0);`);
  }
  const step: string[] = [];
  for (let ky = 0; ky < g.k; ky++) step.push(tapRow(ky, g, source));
  const setup = [`let xb = (p.n * p.cin + ci) * (p.h + ${2 * g.pad}u) * p.wp;`];
  if (source === "texture") {
    setup.push(planeCoordinates("p.n * p.cin + ci", `p.h + ${2 * g.pad}u`).start);
  }
  return { ci: "gid.x", setup, decl, step, stores: dwStores(g, "split + ") };
}

// 1×1: `cib` input channels per lane (x from the texture), so each dy load feeds cib FMAs.
function channelBlock(g: Geometry, cib: number): LanePart {
  const setup = ["let fold = textureDimensions(xt).y / p.h;"];
  const decl: string[] = [];
  const step: string[] = [];
  const stores: string[] = [];
  for (let c = 0; c < cib; c++) {
    setup.push(`let l${c} = p.n * p.cin + min(ci + ${c}u, p.cin - 1u);
  let tz${c} = l${c} / fold; let ty${c} = (l${c} % fold) * p.h;`);
    for (let j = 0; j < g.q; j++) decl.push(`var a${c}_${j} = vec4f(0.0);`);
    for (let m = 0; m < g.px / 4; m++) {
      step.push(
        `let q${c}_${m} = textureLoad(xt, vec3u(x0 / 4u + ${m}u, ty${c} + yy, tz${c}), 0);`,
      );
    }
    for (let px = 0; px < g.px; px++) {
      for (let j = 0; j < g.q; j++) {
        step.push(`a${c}_${j} = fma(vec4f(q${c}_${px >> 2}[${px & 3}]), d${px}_${j}, a${c}_${j});`);
      }
    }
    for (let j = 0; j < g.q; j++) {
      for (let e = 0; e < 4; e++) {
        const o = `split + (cb + ${j * 4 + e}u) * p.cin + ci + ${c}u`;
        stores.push(`if (ci + ${c}u < p.cin && cb + ${j * 4 + e}u < p.cout) {
    dw[${o}] = select(dw[${o}], 0.0, p.first == 1u) + a${c}_${j}[${e}]; }`);
      }
    }
  }
  return { ci: `gid.x * ${cib}u`, setup, decl, step, stores };
}

/**
 * Invocation (ci block, split) accumulates x·dy over its share of the band's rows for the `co`
 * output channels bound (binding c: channel coBase + c from its band's first row, at vec4 offset
 * `o{c}`), and adds into its split's partial dw, or writes it where `first`. `cib` > 1 (1×1 convs,
 * x from a texture): that many input channels per lane.
 */
export function rowsKernel(k: number, tile: WindowGradTile, source: Source, cib = 1): Kernel {
  const key = `${k}/${tile.px}/${tile.co}/${source}/${cib}`;
  const cached = cache.get(key);
  if (cached) return cached;
  if (cib > 1 && (k !== 1 || source !== "texture")) {
    throw new RangeError("conv: channel blocks per lane need a 1×1 conv reading a texture");
  }
  const { px, co } = tile;
  const pad = (k - 1) / 2;
  const taps = k * k;
  const g: Geometry = { k, px, q: co / 4, span: px + k - 1, pad };
  const lane = cib > 1 ? channelBlock(g, cib) : oneChannel(g, source);
  const offsets = Array.from({ length: co }, (_, c) => `o${c}: u32`).join(", ");
  const bindings = Array.from(
    { length: co },
    (_, c) =>
      `@group(0) @binding(${c + 1}) var<uniform> dy${c}: array<vec4f, ${UNIFORM_FLOATS / 4}>;`,
  );
  const kernel: Kernel = {
    name: `conv${k}x${k}.weight_grad_rows`,
    code: /* wgsl */ `
struct P { n: u32, cin: u32, h: u32, w: u32, cout: u32, y0: u32, rows: u32, coBase: u32,
  first: u32, wp: u32, share: u32, ${offsets} }
@group(0) @binding(0) var<uniform> p: P;
${bindings.join("\n")}
@group(0) @binding(${co + 1}) ${INPUT_DECL[source]};
@group(0) @binding(${co + 2}) var<storage, read_write> dw: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let ci = ${lane.ci};
  if (ci >= p.cin) { return; }
  let cb = p.coBase;
  ${lane.setup.join("\n  ")}
  ${lane.decl.join("\n  ")}
  let r1 = min(p.rows, (wid.y + 1u) * p.share);
  for (var r = wid.y * p.share; r < r1; r++) {
    let yy = p.y0 + r;
    let row4 = r * p.w / 4u;
    for (var x0 = 0u; x0 < p.w; x0 += ${px}u) {
      ${[...stepLoads(g), ...lane.step].join("\n      ")}
    }
  }
  let split = wid.y * p.cout * p.cin * ${taps}u;
  ${lane.stores.join("\n  ")}
}`,
  };
  cache.set(key, kernel);
  return kernel;
}
