// This module is browser compatible.
/**
 * Private: exact Euclidean distances (anisotropic spacing) from query voxels
 * to the nearest of a set of site voxels, by the separable squared distance
 * transform of Felzenszwalb & Huttenlocher over the sites' and queries'
 * bounding box (exact, since neither nearest sites nor queries lie outside it).
 *
 * @module
 */

/** Distances in mm from each query voxel (flat index) to the nearest site voxel. */
export function distancesToSites(
  sites: ArrayLike<number>,
  queries: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
): Float64Array {
  const [X, Y] = shape;
  const lo = [Infinity, Infinity, Infinity], hi = [-1, -1, -1];
  const grow = (list: ArrayLike<number>) => {
    for (let n = 0; n < list.length; n++) {
      const i = list[n], x = i % X, y = Math.floor(i / X) % Y, z = Math.floor(i / (X * Y));
      if (x < lo[0]) lo[0] = x;
      if (x > hi[0]) hi[0] = x;
      if (y < lo[1]) lo[1] = y;
      if (y > hi[1]) hi[1] = y;
      if (z < lo[2]) lo[2] = z;
      if (z > hi[2]) hi[2] = z;
    }
  };
  grow(sites);
  grow(queries);
  const bx = hi[0] - lo[0] + 1, by = hi[1] - lo[1] + 1, bz = hi[2] - lo[2] + 1;
  const local = (i: number) =>
    (i % X - lo[0]) +
    bx * ((Math.floor(i / X) % Y - lo[1]) + by * (Math.floor(i / (X * Y)) - lo[2]));
  const grid = new Float64Array(bx * by * bz).fill(Infinity);
  for (let n = 0; n < sites.length; n++) grid[local(sites[n])] = 0;
  const dims = [bx, by, bz];
  const strides = [1, bx, bx * by];
  const longest = Math.max(bx, by, bz);
  const f = new Float64Array(longest), d = new Float64Array(longest);
  const v = new Int32Array(longest), zb = new Float64Array(longest + 1);
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis], stride = strides[axis], s = spacing[axis];
    const lines = grid.length / n;
    for (let line = 0; line < lines; line++) {
      const base = axis === 0
        ? line * bx
        : axis === 1
        ? (line % bx) + Math.floor(line / bx) * bx * by
        : line;
      for (let q = 0; q < n; q++) f[q] = grid[base + q * stride];
      if (transform1d(f, d, n, s, v, zb)) {
        for (let q = 0; q < n; q++) grid[base + q * stride] = d[q];
      }
    }
  }
  const out = new Float64Array(queries.length);
  for (let n = 0; n < queries.length; n++) out[n] = Math.sqrt(grid[local(queries[n])]);
  return out;
}

/** 1-D squared distance transform of `f` (sample spacing `s`) into `d`; false if `f` has no finite value. */
function transform1d(
  f: Float64Array,
  d: Float64Array,
  n: number,
  s: number,
  v: Int32Array,
  z: Float64Array,
): boolean {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let cut: number;
    for (;;) {
      const p = v[k];
      cut = (f[q] + (q * s) ** 2 - f[p] - (p * s) ** 2) / (2 * s * (q - p));
      if (cut <= z[k]) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = cut;
    z[k + 1] = Infinity;
  }
  if (k < 0) return false;
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q * s) k++;
    const p = v[k];
    d[q] = (s * (q - p)) ** 2 + f[p];
  }
  return true;
}
