import assert from "node:assert/strict";
import { augmentWindow, type WindowData } from "../train/augment.ts";

Deno.test("augmentation is deterministic per key, flips labels with images, keeps background 0", () => {
  const make = (): WindowData => ({
    seq: 2,
    channels: 2,
    height: 2,
    width: 3,
    image: Float32Array.from({ length: 24 }, (_, i) => (i % 6 === 0 ? 0 : i)),
    classes: Uint8Array.from({ length: 12 }, (_, i) => i),
  });
  const a = make(), b = make();
  const da = augmentWindow(a, [1, 2, 3, 4]);
  const db = augmentWindow(b, [1, 2, 3, 4]);
  assert.deepEqual(da, db);
  assert.deepEqual(a.image, b.image);
  assert.equal(a.image.filter((v) => v === 0).length, 4);
  // Find a key that flips x only, with no intensity change, and check the exact permutation.
  for (let k = 0; k < 50; k++) {
    const w = make();
    const d = augmentWindow(w, [k, 0, 0, 0], { flipY: false, scale: 0, shift: 0 });
    if (!d.flipX) continue;
    assert.deepEqual([...w.classes], [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
    assert.deepEqual([...w.image.slice(0, 6)], [2, 1, 0, 5, 4, 3]);
    return;
  }
  assert.fail("no x flip drawn in 50 keys");
});
