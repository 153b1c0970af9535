// This module is browser compatible.
/**
 * Private helpers for the phantoms: smooth 3-D value noise and a fast table
 * of normal deviates (the generator is `random.ts`'s).
 *
 * @module
 */

import type { Random } from "./random.ts";

function lattice(seed: number, x: number, y: number, z: number): number {
  let h = seed ^ Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ Math.imul(z, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1] with one lattice cell per unit of x, y, z. */
export function valueNoise(seed: number, x: number, y: number, z: number): number {
  const xi = Math.floor(x), yi = Math.floor(y), zi = Math.floor(z);
  let fx = x - xi, fy = y - yi, fz = z - zi;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  fz = fz * fz * (3 - 2 * fz);
  const c000 = lattice(seed, xi, yi, zi), c100 = lattice(seed, xi + 1, yi, zi);
  const c010 = lattice(seed, xi, yi + 1, zi), c110 = lattice(seed, xi + 1, yi + 1, zi);
  const c001 = lattice(seed, xi, yi, zi + 1), c101 = lattice(seed, xi + 1, yi, zi + 1);
  const c011 = lattice(seed, xi, yi + 1, zi + 1), c111 = lattice(seed, xi + 1, yi + 1, zi + 1);
  const x00 = c000 + (c100 - c000) * fx, x10 = c010 + (c110 - c010) * fx;
  const x01 = c001 + (c101 - c001) * fx, x11 = c011 + (c111 - c011) * fx;
  const y0 = x00 + (x10 - x00) * fy, y1 = x01 + (x11 - x01) * fy;
  return y0 + (y1 - y0) * fz;
}

/** Two octaves of value noise, in [0, 1]. */
export function fbm(seed: number, x: number, y: number, z: number): number {
  return (2 * valueNoise(seed, x, y, z) + valueNoise(seed + 1013, 2.03 * x, 2.03 * y, 2.03 * z)) /
    3;
}

/** 65536 standard normal deviates, indexed by 16 random bits, so noise costs a lookup. */
export function normalTable(rng: Random): Float32Array {
  const table = new Float32Array(65536);
  for (let i = 0; i < table.length; i += 2) {
    const u = Math.max(rng.next(), 1e-12), v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    table[i] = r * Math.cos(2 * Math.PI * v);
    table[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return table;
}
