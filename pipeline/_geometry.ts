// In-plane padding, cropping and mirroring of slices and windows.
import type { Crop } from "./records.ts";

/** The centred padding of a width×height slice up to multiples of `multiple`. */
export function cropFor(width: number, height: number, multiple: number): Crop {
  const paddedWidth = Math.ceil(width / multiple) * multiple;
  const paddedHeight = Math.ceil(height / multiple) * multiple;
  return {
    width,
    height,
    paddedWidth,
    paddedHeight,
    left: (paddedWidth - width) >> 1,
    top: (paddedHeight - height) >> 1,
  };
}

/** Copies an unpadded slice into `out` at `offset`, zero padding around it (`out` starts zeroed). */
export function padInto(slice: Float32Array, crop: Crop, out: Float32Array, offset: number): void {
  if (crop.width === crop.paddedWidth && crop.height === crop.paddedHeight) {
    out.set(slice, offset);
    return;
  }
  for (let y = 0; y < crop.height; y++) {
    const row = slice.subarray(y * crop.width, (y + 1) * crop.width);
    out.set(row, offset + (y + crop.top) * crop.paddedWidth + crop.left);
  }
}

/** Crops a padded `[paddedHeight, paddedWidth]` plane back to `[height, width]`. */
export function cropPlane(plane: Uint8Array, crop: Crop): Uint8Array {
  if (crop.width === crop.paddedWidth && crop.height === crop.paddedHeight) return plane;
  const out = new Uint8Array(crop.width * crop.height);
  for (let y = 0; y < crop.height; y++) {
    const from = (y + crop.top) * crop.paddedWidth + crop.left;
    out.set(plane.subarray(from, from + crop.width), y * crop.width);
  }
  return out;
}

/** A mirroring of the slice plane: flip x, flip y, or both. */
export interface Mirror {
  /** Flip left-right. */
  x: boolean;
  /** Flip top-bottom. */
  y: boolean;
}

/** The identity and the three in-plane mirrorings used for test-time augmentation. */
export const MIRRORS: readonly Mirror[] = [
  { x: false, y: false },
  { x: true, y: false },
  { x: false, y: true },
  { x: true, y: true },
];

/**
 * Mirrors every `height×width` plane of `data` (any number of planes) into a
 * new array; a mirroring is its own inverse, so the same call undoes it.
 */
export function mirrorPlanes(
  data: Float32Array,
  height: number,
  width: number,
  mirror: Mirror,
): Float32Array {
  if (!mirror.x && !mirror.y) return data;
  const out = new Float32Array(data.length);
  const plane = height * width;
  for (let p = 0; p < data.length; p += plane) {
    for (let y = 0; y < height; y++) {
      const sy = mirror.y ? height - 1 - y : y;
      const src = p + sy * width;
      const dst = p + y * width;
      if (mirror.x) {
        for (let x = 0; x < width; x++) out[dst + x] = data[src + width - 1 - x];
      } else {
        out.set(data.subarray(src, src + width), dst);
      }
    }
  }
  return out;
}
