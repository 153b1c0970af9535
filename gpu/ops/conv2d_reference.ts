// This module is browser compatible.
/**
 * The plain-TypeScript float64 references of conv2d (forward, and backward to
 * the input, weights and bias) that every conv kernel is tested against.
 *
 * @module
 */

/** Shapes of a conv for the references: input [n, cin, h, w], weight [cout, cin, k, k]. */
export interface Conv2dDims {
  /** Batch size. */
  n: number;
  /** Input channels. */
  cin: number;
  /** Height. */
  h: number;
  /** Width. */
  w: number;
  /** Output channels. */
  cout: number;
  /** Kernel size, 1 or 3 (padding (k − 1) / 2). */
  k: number;
}

/**
 * Reference forward in float64: x [n, cin, h, w], w [cout, cin, k, k], b [cout] or null.
 *
 * @example
 * ```ts
 * import { conv2dReference } from "./conv2d_reference.ts";
 * const dims = { n: 1, cin: 1, h: 2, w: 2, cout: 1, k: 1 };
 * console.log(conv2dReference([1, 2, 3, 4], [2], [1], dims)); // Float64Array(4) [3, 5, 7, 9]
 * ```
 */
export function conv2dReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  dims: Conv2dDims,
): Float64Array {
  const { n, cin, h, w: wd, cout, k } = dims;
  const pad = (k - 1) / 2;
  const y = new Float64Array(n * cout * h * wd);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < cout; o++) {
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < wd; xx++) {
          let s = b ? b[o] : 0;
          for (let c = 0; c < cin; c++) {
            for (let ky = 0; ky < k; ky++) {
              const iy = yy + ky - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < k; kx++) {
                const ix = xx + kx - pad;
                if (ix < 0 || ix >= wd) continue;
                s += x[((i * cin + c) * h + iy) * wd + ix] * w[((o * cin + c) * k + ky) * k + kx];
              }
            }
          }
          y[((i * cout + o) * h + yy) * wd + xx] = s;
        }
      }
    }
  }
  return y;
}

/**
 * Reference backward in float64: gradients of the conv's input, weight and bias
 * given the output gradient `gy` [n, cout, h, w].
 *
 * @example
 * ```ts
 * import { conv2dBackwardReference } from "./conv2d_reference.ts";
 * const dims = { n: 1, cin: 1, h: 2, w: 2, cout: 1, k: 1 };
 * const { dx, dw, db } = conv2dBackwardReference([1, 2, 3, 4], [2], [1, 1, 1, 1], dims);
 * console.log(dx, dw, db); // Float64Array(4) [2, 2, 2, 2] Float64Array(1) [10] Float64Array(1) [4]
 * ```
 */
export function conv2dBackwardReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  gy: ArrayLike<number>,
  dims: Conv2dDims,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { n, cin, h, w: wd, cout, k } = dims;
  const pad = (k - 1) / 2;
  const dx = new Float64Array(n * cin * h * wd);
  const dw = new Float64Array(cout * cin * k * k);
  const db = new Float64Array(cout);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < cout; o++) {
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < wd; xx++) {
          const g = gy[((i * cout + o) * h + yy) * wd + xx];
          db[o] += g;
          for (let c = 0; c < cin; c++) {
            for (let ky = 0; ky < k; ky++) {
              const iy = yy + ky - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < k; kx++) {
                const ix = xx + kx - pad;
                if (ix < 0 || ix >= wd) continue;
                const xi = ((i * cin + c) * h + iy) * wd + ix;
                const wi = ((o * cin + c) * k + ky) * k + kx;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}
