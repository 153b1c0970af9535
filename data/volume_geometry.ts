// This module is browser compatible.
/**
 * A volume's geometry (shape, voxel spacing, voxel-to-world affine) from a
 * NIfTI or MetaImage header, as case discovery compares it.
 *
 * @module
 */

import type { MhaHeader } from "./mha.ts";
import type { NiftiHeader } from "./nifti_header.ts";

/** Shape, voxel spacing and voxel->world affine of a volume file. */
export interface VolumeGeometry {
  /** Spatial dims (x, y, z). */
  shape: number[];
  /** Voxel size in mm per axis. */
  spacing: number[];
  /** 4×4 voxel->RAS affine. */
  affine: number[][];
}

/**
 * A NIfTI header's geometry.
 *
 * @example
 * ```ts
 * import { niftiGeometry } from "./volume_geometry.ts";
 * import { createNiftiHeader } from "./nifti_header_create.ts";
 * const affine = [[-2, 0, 0, 6], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]];
 * const g = niftiGeometry(createNiftiHeader({ shape: [4, 3, 2], datatype: "uint8", affine }));
 * console.log(g.shape, g.spacing); // [4, 3, 2] [2, 2, 3]
 * ```
 */
export function niftiGeometry(h: NiftiHeader): VolumeGeometry {
  const shape = h.dims.slice(1, 1 + Math.max(3, h.dims[0]));
  return { shape, spacing: h.pixdim.slice(1, 4).map(Math.abs), affine: h.affine };
}

/**
 * A MetaImage header's geometry (2-D images get a depth of 1).
 *
 * @example
 * ```ts
 * import { mhaGeometry } from "./volume_geometry.ts";
 * import { parseMhaHeader } from "./mha.ts";
 * const text = "NDims = 2\nDimSize = 4 3\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n";
 * const g = mhaGeometry(parseMhaHeader(new TextEncoder().encode(text), "x.mha"));
 * console.log(g.shape, g.spacing); // [4, 3, 1] [1, 1, 1]
 * ```
 */
export function mhaGeometry(h: MhaHeader): VolumeGeometry {
  const shape = [...h.dims, 1, 1].slice(0, Math.max(3, h.dims.length));
  return { shape, spacing: [...h.spacing, 1, 1].slice(0, 3), affine: h.affine };
}
