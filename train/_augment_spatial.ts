// This module is browser compatible.
// One inverse-mapped resampling pass per window: crop, rotation, zoom, mirroring and elastic field combined.

import { Random } from "../data/random.ts";
import type { AugmentDraw } from "./_augment_draw.ts";

/** A window's planes: `seq × channels` image planes and `seq` label planes of one size. */
export interface Planes {
  /** Image planes, layout [seq][channels][height][width]. */
  image: Float32Array;
  /** Label planes, layout [seq][height][width]. */
  classes: Uint8Array | Float32Array;
  /** Plane width. */
  width: number;
  /** Plane height. */
  height: number;
}

/** Where the output sits in the source and how it is transformed. */
export interface SpatialPlan {
  /** Slices of the window. */
  seq: number;
  /** Image channels. */
  channels: number;
  /** Source column of the output's first column when untransformed (may be negative: padding). */
  left: number;
  /** Source row of the output's first row when untransformed. */
  top: number;
  /** The draw whose angle, scale, mirroring and elastic field apply. */
  draw: AugmentDraw;
}

/**
 * The 2×2 matrix taking output offsets from the output centre to source
 * offsets from the source centre: rotation · (1/zoom) · mirroring. Entries
 * within 1e-12 of an integer are snapped so right angles resample exactly.
 */
export function spatialMatrix(draw: AugmentDraw): [number, number, number, number] {
  const t = draw.angle * Math.PI / 180, k = 1 / draw.scale;
  const mx = draw.mirrorX ? -1 : 1, my = draw.mirrorY ? -1 : 1;
  const m: [number, number, number, number] = [
    Math.cos(t) * k * mx,
    -Math.sin(t) * k * my,
    Math.sin(t) * k * mx,
    Math.cos(t) * k * my,
  ];
  return m.map((v) => (Math.abs(v - Math.round(v)) < 1e-12 ? Math.round(v) : v)) as typeof m;
}

/**
 * Resamples `src` into `dst` (images bilinear, labels nearest-neighbour,
 * outside the source 0), the same mapping for every slice and channel.
 */
export function resampleWindow(src: Planes, dst: Planes, plan: SpatialPlan): void {
  const [a, b, c, d] = spatialMatrix(plan.draw);
  const W = src.width, H = src.height, w = dst.width, h = dst.height;
  const ox = (w - 1) / 2, oy = (h - 1) / 2;
  const cx = plan.left + ox, cy = plan.top + oy;
  if (a === 1 && b === 0 && c === 0 && d === 1 && !plan.draw.elastic) {
    copyShifted(src, dst, plan);
    return;
  }
  const field = plan.draw.elastic ? elasticField(w, h, plan.draw.elastic) : null;
  const n = w * h, P = W * H, planes = plan.seq * plan.channels;
  const img = src.image, out = dst.image, cls = src.classes, lab = dst.classes;
  for (let y = 0, k = 0; y < h; y++) {
    for (let x = 0; x < w; x++, k++) {
      const u = x - ox + (field ? field[2 * k] : 0), v = y - oy + (field ? field[2 * k + 1] : 0);
      const sx = a * u + b * v + cx, sy = c * u + d * v + cy;
      const nx = Math.round(sx), ny = Math.round(sy);
      const near = nx >= 0 && nx < W && ny >= 0 && ny < H ? ny * W + nx : -1;
      for (let z = 0; z < plan.seq; z++) lab[z * n + k] = near < 0 ? 0 : cls[z * P + near];
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      if (x0 < -1 || x0 >= W || y0 < -1 || y0 >= H) {
        for (let q = 0; q < planes; q++) out[q * n + k] = 0;
        continue;
      }
      // Corners outside the source weigh 0 (their index is clamped to stay readable).
      const inX0 = x0 >= 0, inX1 = x0 + 1 < W, inY0 = y0 >= 0, inY1 = y0 + 1 < H;
      const w00 = inX0 && inY0 ? (1 - fx) * (1 - fy) : 0, w10 = inX1 && inY0 ? fx * (1 - fy) : 0;
      const w01 = inX0 && inY1 ? (1 - fx) * fy : 0, w11 = inX1 && inY1 ? fx * fy : 0;
      const cx0 = inX0 ? x0 : 0, cx1 = inX1 ? x0 + 1 : 0;
      const r0 = (inY0 ? y0 : 0) * W, r1 = (inY1 ? y0 + 1 : 0) * W;
      const i00 = r0 + cx0, i10 = r0 + cx1, i01 = r1 + cx0, i11 = r1 + cx1;
      for (let q = 0, base = 0; q < planes; q++, base += P) {
        out[q * n + k] = w00 * img[base + i00] + w10 * img[base + i10] + w01 * img[base + i01] +
          w11 * img[base + i11];
      }
    }
  }
}

/** The untransformed case: rows copied at an integer offset, zeros outside the source. */
function copyShifted(src: Planes, dst: Planes, plan: SpatialPlan): void {
  const W = src.width, H = src.height, w = dst.width, h = dst.height;
  const x0 = Math.max(0, -plan.left), x1 = Math.min(w, W - plan.left);
  const copyRows = (s: Float32Array | Uint8Array, o: Float32Array | Uint8Array, planes: number) => {
    for (let p = 0; p < planes; p++) {
      for (let y = 0; y < h; y++) {
        const sy = y + plan.top, row = o.subarray((p * h + y) * w, (p * h + y + 1) * w);
        if (sy < 0 || sy >= H || x1 <= x0) {
          row.fill(0);
          continue;
        }
        row.fill(0, 0, x0);
        row.fill(0, x1);
        const at = (p * H + sy) * W + plan.left;
        row.set(s.subarray(at + x0, at + x1), x0);
      }
    }
  };
  copyRows(src.image, dst.image, plan.seq * plan.channels);
  copyRows(src.classes, dst.classes, plan.seq);
}

/**
 * A smooth displacement field (x, y interleaved) over a w×h grid: uniform
 * noise in [-1, 1] smoothed by a Gaussian of `sigma` pixels, times `alpha`.
 * The noise is drawn and smoothed on a grid `f` times coarser (f = sigma/4),
 * scaled by 1/f to keep the fine grid's amplitude, and interpolated: the
 * field is smooth at that scale anyway, and this is f² times cheaper.
 */
export function elasticField(
  w: number,
  h: number,
  e: { alpha: number; sigma: number; seed: number },
): Float32Array {
  const rng = new Random(e.seed);
  const f = Math.max(1, Math.floor(e.sigma / 4));
  const gw = Math.ceil(w / f) + 1, gh = Math.ceil(h / f) + 1;
  const kernel = gaussianKernel(e.sigma / f, 3);
  const field = new Float32Array(2 * w * h);
  for (let axis = 0; axis < 2; axis++) {
    const grid = new Float32Array(gw * gh);
    for (let i = 0; i < grid.length; i++) grid[i] = 2 * rng.next() - 1;
    blurPlane(grid, gw, gh, kernel);
    const k = e.alpha / f;
    for (let y = 0; y < h; y++) {
      const gy = y / f, y0 = Math.floor(gy), ty = gy - y0;
      for (let x = 0; x < w; x++) {
        const gx = x / f, x0 = Math.floor(gx), tx = gx - x0, i = y0 * gw + x0;
        const top = grid[i] * (1 - tx) + grid[i + 1] * tx;
        const bottom = grid[i + gw] * (1 - tx) + grid[i + gw + 1] * tx;
        field[2 * (y * w + x) + axis] = k * (top * (1 - ty) + bottom * ty);
      }
    }
  }
  return field;
}

/** A normalised Gaussian kernel of `sigma`, truncated at `truncate` sigmas. */
export function gaussianKernel(sigma: number, truncate = 4): Float32Array {
  const r = Math.max(1, Math.ceil(truncate * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable convolution of one plane in place with `kernel`, zeros beyond the border. */
export function blurPlane(plane: Float32Array, w: number, h: number, kernel: Float32Array): void {
  const r = kernel.length >> 1;
  const tmp = new Float32Array(plane.length);
  // Both passes add one shifted row per tap, so every read runs along memory.
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = -r; i <= r; i++) {
      const k = kernel[i + r], x0 = Math.max(0, -i), x1 = Math.min(w, w - i);
      for (let x = x0; x < x1; x++) tmp[row + x] += k * plane[row + x + i];
    }
  }
  plane.fill(0);
  for (let y = 0; y < h; y++) {
    const lo = Math.max(-r, -y), hi = Math.min(r, h - 1 - y), out = y * w;
    for (let i = lo; i <= hi; i++) {
      const k = kernel[i + r], at = (y + i) * w;
      for (let x = 0; x < w; x++) plane[out + x] += k * tmp[at + x];
    }
  }
}
