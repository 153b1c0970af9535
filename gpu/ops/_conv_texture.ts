// This module is browser compatible.
// Zero-padded copies of a conv's input as rgba32float 3-D textures (private to gpu/ops): on
// llvmpipe a texel fetch costs ~8× less per float than a per-lane storage load (bench/README.md),
// and texture reads are what discrete GPUs cache best, so no adapter pays for it.
import { currentDevice } from "../device.ts";
import { dispatch, encoder, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";
import { padInput } from "./_conv_layout.ts";

// Plane l of the padded input is rows (l % fold)·hp .. + hp of depth l / fold: folding planes into
// the height keeps wide inputs (n·c up to fold × the depth limit) in one texture.
// xt[l / fold][(l % fold)·hp + r][tx] = (x[l][r − pad][4·tx + c − pad], c = 0..3), 0 outside.
/** A copy kernel into the texture: `input` is x's element type, `body` runs for lane i < p.lanes. */
function textureCopy(name: string, input: "f32" | "vec4f", body: string, helpers = ""): Kernel {
  return {
    name,
    code: /* wgsl */ `
struct P { lanes: u32, h: u32, w: u32, pad: u32, hp: u32, w4: u32, fold: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${input}>;
@group(0) @binding(2) var xt: texture_storage_3d<rgba32float, write>;
${helpers}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.lanes) { return; }
${body}
}`,
  };
}

// Any width: one texel a lane, its four columns loaded one by one.
const TO_TEXTURE = textureCopy(
  "conv.texture",
  "f32",
  /* wgsl */ `
  let tx = i % p.w4;
  let r = (i / p.w4) % p.hp;
  let l = i / (p.w4 * p.hp);
  var v = vec4f(0.0);
  let row = i32(r) - i32(p.pad);
  if (row >= 0 && row < i32(p.h)) {
    for (var c = 0u; c < 4u; c++) {
      let col = i32(tx * 4u + c) - i32(p.pad);
      if (col >= 0 && col < i32(p.w)) { v[c] = x[(l * p.h + u32(row)) * p.w + u32(col)]; }
    }
  }
  textureStore(xt, vec3u(tx, (l % p.fold) * p.hp + r, l / p.fold), v);`,
);

// Texels of one row a lane writes in the vec4 copy: 8 was the best single choice of 2-16 and a
// whole row over planes of 16² to 240² (bench/README.md).
const RUN = 8;

// Widths a multiple of 4: a lane writes RUN texels of one row from whole vec4 loads, each texel
// the previous vec4's last pad % 4 columns then the current one's first (no per-column checks).
const TO_TEXTURE_VEC4 = textureCopy(
  "conv.texture.vec4",
  "vec4f",
  /* wgsl */ `
  let runs = (p.w4 + ${RUN - 1}u) / ${RUN}u;
  let t0 = (i % runs) * ${RUN}u;
  let r = (i / runs) % p.hp;
  let l = i / (runs * p.hp);
  let row = i32(r) - i32(p.pad);
  let inside = row >= 0 && row < i32(p.h);
  let q = i32(p.w / 4u);
  let base = i32(l * p.h + u32(max(row, 0))) * q;
  let s = p.pad % 4u;
  let y = (l % p.fold) * p.hp + r;
  let z = l / p.fold;
  // Texel tx starts at column 4·(tx − pad / 4) − s: vec4 j = tx − pad / 4 and the one before.
  var j = i32(t0) - i32(p.pad / 4u);
  var prev = vec4f(0.0);
  if (inside && j >= 1 && j <= q) { prev = x[base + j - 1]; }
  for (var k = 0u; k < ${RUN}u; k++) {
    let tx = t0 + k;
    if (tx >= p.w4) { break; }
    var cur = vec4f(0.0);
    if (inside && j >= 0 && j < q) { cur = x[base + j]; }
    textureStore(xt, vec3u(tx, y, z), shifted(prev, cur, s));
    prev = cur;
    j++;
  }`,
  /* wgsl */ `
fn shifted(a: vec4f, b: vec4f, s: u32) -> vec4f {
  switch (s) {
    case 1u: { return vec4f(a.w, b.xyz); }
    case 2u: { return vec4f(a.zw, b.xy); }
    case 3u: { return vec4f(a.yzw, b.x); }
    default: { return b; }
  }
}`,
);

/** A padded input as a texture (see TO_TEXTURE for where plane l's texels are). */
export interface PaddedTexture {
  /** The view to bind as `texture_3d<f32>`. */
  readonly view: GPUTextureView;
  /** Returns the texture to the pool (later GPU commands may overwrite it). */
  release(): void;
}

/**
 * Texture size [wp / 4, hp · fold, ⌈n·c / fold⌉] for x [n, c, h, w] padded to rows hp and row
 * stride wp, or null when it exceeds the device's 3-D texture limit.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { textureSize } from "./_conv_texture.ts";
 * await getDevice();
 * console.log(textureSize([9, 64, 60, 60], { wp: 64, hp: 62 })); // [ 16, 62, 576 ]
 * console.log(textureSize([9, 256, 15, 15], { wp: 20, hp: 17 })); // [ 5, 34, 1152 ]
 * ```
 */
export function textureSize(
  shape: readonly number[],
  layout: { wp: number; hp: number },
): [number, number, number] | null {
  const max = currentDevice().limits.maxTextureDimension3D;
  const planes = shape[0] * shape[1];
  const fold = Math.ceil(planes / max);
  if (layout.hp * fold > max || layout.wp / 4 > max) return null;
  return [layout.wp / 4, layout.hp * fold, Math.ceil(planes / fold)];
}

/**
 * WGSL for the texture coordinates of plane `layer` (walking planes one by one when `walk`):
 * declares `tz` (depth) and `ty` (first row), and a statement advancing them to the next plane.
 *
 * @example
 * ```ts
 * import { planeCoordinates } from "./_conv_texture.ts";
 * const { start, next } = planeCoordinates("l0", "p.hp");
 * console.log(start.includes("var tz"), next.includes("ty")); // true true
 * ```
 */
export function planeCoordinates(layer: string, hp: string): { start: string; next: string } {
  return {
    start: `let fold = textureDimensions(xt).y / (${hp});
  var tz = (${layer}) / fold; var ty = ((${layer}) % fold) * (${hp});`,
    next: `ty += ${hp}; if (ty == fold * (${hp})) { ty = 0u; tz += 1u; }`,
  };
}

/**
 * Zero-padded copy of x [n, c, h, w] as a texture: `pad` rows and columns of zeros before the
 * image, rows up to hp and columns up to wp (a multiple of 4) after it.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { padTexture } from "./_conv_texture.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
 * const xt = padTexture(x, { pad: 1, wp: 4, hp: 4 }, [1, 4, 1]);
 * console.log(xt.view instanceof GPUTextureView); // true
 * xt.release();
 * scope.end();
 * ```
 */
export function padTexture(
  x: Tensor,
  layout: { pad: number; wp: number; hp: number },
  size: [number, number, number],
): PaddedTexture {
  const { pad, wp, hp } = layout;
  const [n, c, h, w] = x.shape;
  const texture = encoder.pool.acquireTexture(currentDevice(), size, "conv.texture");
  const view = texture.createView();
  const w4 = wp / 4;
  // Views start at multiples of 256 bytes, so a width of 4k is whole vec4s.
  const vec4 = w % 4 === 0;
  const lanes = (vec4 ? Math.ceil(w4 / RUN) : w4) * hp * n * c;
  dispatch(vec4 ? TO_TEXTURE_VEC4 : TO_TEXTURE, [x, view], {
    params: [lanes, h, w, pad, hp, w4, size[1] / hp],
    workgroups: gridFor(lanes),
  });
  return {
    view,
    release: () => encoder.pool.releaseTexture(texture),
  };
}

/**
 * The texels {@linkcode padTexture} writes, in plain TypeScript (rows of size[0] rgba texels,
 * size[1] rows a layer, size[2] layers): the reference its kernels are tested against.
 *
 * @example
 * ```ts
 * import { paddedTexelsReference } from "./_conv_texture.ts";
 * const texels = paddedTexelsReference(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2], {
 *   pad: 1, hp: 4,
 * }, [1, 4, 1]);
 * console.log(texels.slice(4, 12)); // Float32Array(8) [0, 1, 2, 0, 0, 3, 4, 0]
 * ```
 */
export function paddedTexelsReference(
  x: Float32Array,
  shape: number[],
  layout: { pad: number; hp: number },
  size: [number, number, number],
): Float32Array {
  const [n, c, h, w] = shape, { pad, hp } = layout, fold = size[1] / hp;
  const out = new Float32Array(size[0] * size[1] * size[2] * 4);
  for (let l = 0; l < n * c; l++) {
    for (let r = 0; r < hp; r++) {
      for (let col = 0; col < size[0] * 4; col++) {
        const row = r - pad, xc = col - pad;
        if (row < 0 || row >= h || xc < 0 || xc >= w) continue;
        const y = (l % fold) * hp + r, z = Math.floor(l / fold);
        out[((z * size[1] + y) * size[0]) * 4 + col] = x[(l * h + row) * w + xc];
      }
    }
  }
  return out;
}

/** Where a conv kernel reads its input: the tensor (bounds-checked), a padded copy, or a texture. */
export type Source = "bounded" | "padded" | "texture";

/**
 * The source a kernel of `tile` reads: a texture or padded copy needs aligned vec4 columns
 * (`aligned`), and a copy pays only when the kernel reads each input more than once (`reused`:
 * several output-channel tiles).
 *
 * @example
 * ```ts
 * import { sourceFor } from "./_conv_texture.ts";
 * console.log(sourceFor({ texture: true }, { aligned: true, reused: true })); // texture
 * console.log(sourceFor({ texture: true }, { aligned: false, reused: true })); // bounded
 * ```
 */
export function sourceFor(
  tile: { texture?: boolean; padded?: boolean },
  options: { aligned: boolean; reused: boolean },
): Source {
  if (!options.aligned) return "bounded";
  if (tile.texture && options.reused) return "texture";
  return tile.padded ? "padded" : "bounded";
}

/** The WGSL declaration of the input binding for each source. */
export const INPUT_DECL: Record<Source, string> = {
  bounded: "var<storage, read> x: array<f32>",
  padded: "var<storage, read> xv: array<vec4f>",
  texture: "var xt: texture_3d<f32>",
};

/** The input of one conv, as its kernel binds it. */
export interface ConvInput {
  /** The source actually used (a texture falls back to a padded copy when it does not fit). */
  readonly source: Source;
  /** What to bind. */
  readonly binding: Tensor | GPUTextureView;
  /** Frees the copy, if one was made. */
  release(): void;
}

/**
 * x prepared for a conv kernel reading from `source`, padded by `pad` to rows hp, row stride wp
 * (a multiple of 4). A texture that exceeds the device's limits falls back to `fallback`.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { convInput } from "./_conv_texture.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
 * const input = convInput(x, "texture", { pad: 1, wp: 4, hp: 4 }, "bounded");
 * console.log(input.source); // texture
 * input.release();
 * scope.end();
 * ```
 */
export function convInput(
  x: Tensor,
  source: Source,
  layout: { pad: number; wp: number; hp: number },
  fallback: "bounded" | "padded",
): ConvInput {
  if (source === "texture") {
    const size = textureSize(x.shape, layout);
    if (size) {
      const t = padTexture(x, layout, size);
      return { source, binding: t.view, release: () => t.release() };
    }
    source = fallback;
  }
  if (source === "bounded") return { source, binding: x, release() {} };
  const xp = padInput(x, layout);
  return { source: "padded", binding: xp, release: () => xp.release() };
}
