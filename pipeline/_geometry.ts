// This module is browser compatible.
// In-plane mirroring of windows for test-time augmentation (padding and cropping: data/preprocess.ts).
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
