// This module is browser compatible.
/**
 * The voxel-to-world affine of a NIfTI header, computed the way nibabel's
 * `get_best_affine()` does (sform, else qform, else centred pixdim scaling).
 * Private to `data/`.
 *
 * @module
 */

import type { RawHeader } from "./_header_layout.ts";

/** The header fields the affine depends on. */
export type AffineFields = Pick<
  RawHeader,
  | "dims"
  | "pixdim"
  | "qformCode"
  | "sformCode"
  | "quaternB"
  | "quaternC"
  | "quaternD"
  | "qoffsetX"
  | "qoffsetY"
  | "qoffsetZ"
  | "srowX"
  | "srowY"
  | "srowZ"
>;

/** pixdim[1..3] as nibabel repairs them on load: 0 becomes 1, negatives their absolute value. */
function spatialZooms(pixdim: number[]): number[] {
  return [pixdim[1], pixdim[2], pixdim[3]].map((v) => (v === 0 ? 1 : Math.abs(v)));
}

/** The sform affine: srow_x, srow_y, srow_z and [0, 0, 0, 1]. */
export function sformAffine(f: AffineFields): number[][] {
  return [[...f.srowX], [...f.srowY], [...f.srowZ], [0, 0, 0, 1]];
}

/**
 * The qform affine from the quaternion, pixdim and qfac. Like nibabel, the
 * quaternion's a = sqrt(1 - (b²+c²+d²)) is computed in float64, and a
 * slightly negative 1 - (b²+c²+d²) (rounding) is taken as 0.
 */
export function qformAffine(f: AffineFields): number[][] {
  const [b, c, d] = [f.quaternB, f.quaternC, f.quaternD];
  const w2 = 1 - (b * b + c * c + d * d);
  const a = w2 < 0 ? 0 : Math.sqrt(w2);
  const rot = quaternionToMatrix(a, b, c, d);
  const qfac = f.pixdim[0] === -1 ? -1 : 1;
  const zooms = spatialZooms(f.pixdim);
  zooms[2] *= qfac;
  const out = [[0, 0, 0, f.qoffsetX], [0, 0, 0, f.qoffsetY], [0, 0, 0, f.qoffsetZ], [0, 0, 0, 1]];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i][j] = rot[i][j] * zooms[j];
  }
  return out;
}

/** Rotation matrix of a quaternion (w, x, y, z), normalising it as nibabel's quat2mat does. */
function quaternionToMatrix(w: number, x: number, y: number, z: number): number[][] {
  const nq = w * w + x * x + y * y + z * z;
  if (nq < 2.220446049250313e-16) return [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const s = 2 / nq;
  const [X, Y, Z] = [x * s, y * s, z * s];
  const [wX, wY, wZ] = [w * X, w * Y, w * Z];
  const [xX, xY, xZ] = [x * X, x * Y, x * Z];
  const [yY, yZ, zZ] = [y * Y, y * Z, z * Z];
  return [
    [1 - (yY + zZ), xY - wZ, xZ + wY],
    [xY + wZ, 1 - (xX + zZ), yZ - wX],
    [xZ - wY, yZ + wX, 1 - (xX + yY)],
  ];
}

/**
 * nibabel's fallback when neither form is set: diag(-px, py, pz) with the
 * array centre at the origin. Not from the NIfTI standard, but what users see.
 */
export function fallbackAffine(f: AffineFields): number[][] {
  const ndim = f.dims[0];
  const zooms = spatialZooms(f.pixdim);
  const shape = [1, 1, 1];
  for (let i = 0; i < 3; i++) {
    if (i < ndim) shape[i] = f.dims[i + 1];
    else zooms[i] = 1;
  }
  zooms[0] = -zooms[0];
  const out = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let i = 0; i < 3; i++) {
    out[i][i] = zooms[i];
    out[i][3] = -((shape[i] - 1) / 2) * zooms[i];
  }
  return out;
}

/** nibabel's `get_best_affine()`: any non-zero sform code wins, then any non-zero qform code. */
export function bestAffine(f: AffineFields): number[][] {
  if (f.sformCode !== 0) return sformAffine(f);
  if (f.qformCode !== 0) return qformAffine(f);
  return fallbackAffine(f);
}
