import assert from "node:assert/strict";
import { currentDevice } from "../gpu/device.ts";
import { BufferPool } from "../gpu/buffer_pool.ts";
import { convInput, sourceFor, textureSize } from "../gpu/ops/_conv_texture.ts";
import { Tensor } from "../gpu/tensor.ts";
import { gpuTest } from "./_gpu.ts";

gpuTest("conv textures: pooled by size, counted, destroyed by trim", () => {
  const pool = new BufferPool();
  const device = currentDevice();
  const a = pool.acquireTexture(device, [4, 6, 3], "t");
  assert.equal(pool.bytesLive, 4 * 6 * 3 * 16);
  pool.releaseTexture(a);
  assert.deepEqual([pool.bytesLive, pool.bytesPooled], [0, 4 * 6 * 3 * 16]);
  assert.equal(pool.acquireTexture(device, [4, 6, 3], "t"), a, "same size: reused");
  const b = pool.acquireTexture(device, [4, 6, 2], "t");
  assert.notEqual(b, a, "another size: a new texture");
  pool.releaseTexture(a);
  pool.releaseTexture(b);
  pool.trim();
  assert.deepEqual([pool.bytesLive, pool.bytesPooled], [0, 0]);
  assert.notEqual(pool.acquireTexture(device, [4, 6, 3], "t"), a, "trimmed: not handed out again");
});

gpuTest(
  "conv textures: planes fold into the height past the depth limit; too large is refused",
  () => {
    const max = currentDevice().limits.maxTextureDimension3D;
    assert.deepEqual(textureSize([2, 3, 5, 6], { wp: 12, hp: 7 }), [3, 7, 6]);
    assert.deepEqual(textureSize([1, max + 1, 5, 6], { wp: 12, hp: 7 }), [
      3,
      14,
      Math.ceil((max + 1) / 2),
    ]);
    assert.equal(textureSize([1, 1, max, 6], { wp: 12, hp: max + 2 }), null);
    // A texture that does not fit falls back to the given source.
    const x = Tensor.zeros([1, 1, 3, 3]);
    const tall = convInput(x, "texture", { pad: 1, wp: 4 * (max + 1), hp: 5 }, "padded");
    assert.equal(tall.source, "padded");
    tall.release();
    x.release();
  },
);

Deno.test("conv textures: the source needs aligned columns, and a copy only pays when reused", () => {
  assert.equal(sourceFor({ texture: true }, { aligned: true, reused: true }), "texture");
  assert.equal(sourceFor({ texture: true }, { aligned: true, reused: false }), "bounded");
  assert.equal(
    sourceFor({ texture: true, padded: true }, { aligned: true, reused: false }),
    "padded",
  );
  assert.equal(
    sourceFor({ texture: true, padded: true }, { aligned: false, reused: true }),
    "bounded",
  );
});
