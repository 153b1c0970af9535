// This module is browser compatible.
/**
 * Seeded, reproducible parameter initialisation: He-normal for convolutions,
 * orthogonal for the convLSTM's recurrent weights. Each parameter draws from
 * its own stream seeded by (seed, name), so adding a layer does not change
 * the initial values of the others (`Random.forName` of `data/random.ts`).
 *
 * @module
 */

import type { Random } from "../data/random.ts";

/**
 * He-normal values (`std = sqrt(2 / fanIn)`) for a weight of `size` elements.
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * import { heNormal } from "./init.ts";
 * const w = heNormal(new Random(1), { size: 8 * 4 * 9, fanIn: 4 * 9 });
 * const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
 * console.log(w.length, std.toFixed(2)); // 288 0.22 (sqrt(2 / 36) = 0.24 expected)
 * ```
 */
export function heNormal(random: Random, options: { size: number; fanIn: number }): Float32Array {
  const std = Math.sqrt(2 / options.fanIn);
  const out = new Float32Array(options.size);
  for (let i = 0; i < out.length; i++) out[i] = random.normal() * std;
  return out;
}

/**
 * A `rows × cols` matrix (row-major) with orthonormal rows when rows ≤ cols,
 * orthonormal columns otherwise: modified Gram-Schmidt, run twice for
 * float64 stability, on a seeded Gaussian matrix.
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * import { orthogonal } from "./init.ts";
 * const w = orthogonal(new Random(3), { rows: 2, cols: 3 });
 * const [a, b] = [w.slice(0, 3), w.slice(3, 6)]; // the two rows
 * const dot = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i], 0);
 * console.log(dot(a, a).toFixed(4), Math.abs(dot(a, b)) < 1e-6); // 1.0000 true (W·Wᵀ = I)
 * ```
 */
export function orthogonal(
  random: Random,
  options: { rows: number; cols: number; gain?: number },
): Float32Array {
  const { rows, cols } = options;
  const tall = rows > cols;
  // Orthonormalise the shorter dimension's vectors: n vectors of length len.
  const n = tall ? cols : rows;
  const len = tall ? rows : cols;
  const v = Array.from(
    { length: n },
    () => Float64Array.from({ length: len }, () => random.normal()),
  );
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < len; k++) dot += v[i][k] * v[j][k];
        for (let k = 0; k < len; k++) v[i][k] -= dot * v[j][k];
      }
      let norm = 0;
      for (let k = 0; k < len; k++) norm += v[i][k] * v[i][k];
      norm = Math.sqrt(norm);
      for (let k = 0; k < len; k++) v[i][k] /= norm;
    }
  }
  const gain = options.gain ?? 1;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < len; k++) {
      if (tall) out[k * cols + i] = gain * v[i][k];
      else out[i * cols + k] = gain * v[i][k];
    }
  }
  return out;
}
