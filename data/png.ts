// This module is browser compatible.
/**
 * A small PNG encoder (8-bit grey, RGB or RGBA; zlib from fflate) for slice
 * previews and overlays. Web-standard APIs only, so it runs in a browser.
 *
 * @module
 */

import { zlibSync } from "fflate";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes 8-bit pixels (rows top to bottom, `channels` bytes per pixel:
 * 1 grey, 3 RGB, 4 RGBA) as a PNG file.
 *
 * @throws {RangeError} when `pixels` does not hold `width*height*channels` bytes.
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const png = encodePng(new Uint8Array([0, 255, 255, 0]), { width: 2, height: 2, channels: 1 });
 * console.log(png.subarray(0, 8)); // [137, 80, 78, 71, 13, 10, 26, 10]: the PNG signature
 * ```
 */
export function encodePng(
  pixels: Uint8Array,
  options: { width: number; height: number; channels?: 1 | 3 | 4 },
): Uint8Array {
  const { width, height } = options;
  const channels = options.channels ?? 4;
  if (!(width > 0 && height > 0) || pixels.length !== width * height * channels) {
    throw new RangeError(
      `PNG ${width}×${height}×${channels} needs ${
        width * height * channels
      } bytes, got ${pixels.length}`,
    );
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const stride = width * channels;
  // Each row gets filter byte 0 (none); zlib does the compressing.
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlibSync(raw, { level: 6 })),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
