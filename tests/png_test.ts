import assert from "node:assert/strict";
import { unzlibSync } from "fflate";
import { encodePng } from "../data/png.ts";
import { greyImage, labelImage, overlayPng, sideBySide } from "../data/overlay.ts";

/** Minimal PNG decoder for filter-0 images: enough to check what we wrote. */
function decode(png: Uint8Array) {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  let at = 8, width = 0, height = 0, type = 0;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = view.getUint32(at);
    const name = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    if (name === "IHDR") {
      [width, height, type] = [view.getUint32(at + 8), view.getUint32(at + 12), data[9]];
    }
    if (name === "IDAT") idat.push(data);
    at += 12 + len;
  }
  const raw = unzlibSync(idat[0]);
  return { width, height, type, raw };
}

Deno.test("encodePng writes a decodable grey and RGBA image", () => {
  const png = encodePng(new Uint8Array([0, 255, 128, 7, 9, 10]), {
    width: 3,
    height: 2,
    channels: 1,
  });
  const d = decode(png);
  assert.deepEqual([d.width, d.height, d.type], [3, 2, 0]);
  assert.deepEqual([...d.raw], [0, 0, 255, 128, 0, 7, 9, 10]);
  assert.equal(decode(encodePng(new Uint8Array(16), { width: 2, height: 2 })).type, 6);
  assert.throws(
    () => encodePng(new Uint8Array(5), { width: 2, height: 2, channels: 1 }),
    /needs 4 bytes/,
  );
});

Deno.test("overlay panels: grey anatomy, labels in colour, three panels side by side", () => {
  const slice = [0, 10, 20, 30];
  const grey = greyImage(slice, { width: 2, height: 2 });
  // Row 0 of the picture is the largest y, so voxel (0,1)=20 is the top-left pixel.
  assert.ok(grey.pixels[0] > grey.pixels[8]);
  const lab = labelImage(grey, [0, 0, 0, 4], { convention: "brats2017", alpha: 1 });
  assert.deepEqual([...lab.pixels.subarray(4, 7)], [255, 220, 0]);
  assert.equal(sideBySide([grey, grey]).width, 6);
  const d = decode(
    overlayPng(slice, {
      width: 2,
      height: 2,
      truth: [0, 2, 0, 0],
      prediction: [0, 0, 0, 1],
      convention: "brats2017",
    }),
  );
  assert.deepEqual([d.width, d.height], [2 * 3 + 4, 2]);
});
