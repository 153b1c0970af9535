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
const TO_TEXTURE: Kernel = {
  name: "conv.texture",
  code: /* wgsl */ `
struct P { total: u32, h: u32, w: u32, pad: u32, hp: u32, w4: u32, fold: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var xt: texture_storage_3d<rgba32float, write>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.total) { return; }
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
  textureStore(xt, vec3u(tx, (l % p.fold) * p.hp + r, l / p.fold), v);
}`,
};

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
  const total = (wp / 4) * hp * n * c;
  dispatch(TO_TEXTURE, [x, view], {
    params: [total, h, w, pad, hp, wp / 4, size[1] / hp],
    workgroups: gridFor(total),
  });
  return {
    view,
    release: () => encoder.pool.releaseTexture(texture),
  };
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
