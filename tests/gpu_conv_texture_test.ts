import assert from "node:assert/strict";
import { currentDevice } from "../gpu/device.ts";
import { BufferPool } from "../gpu/buffer_pool.ts";
import {
  convInput,
  paddedTexelsReference,
  padTexture,
  sourceFor,
  textureSize,
} from "../gpu/ops/_conv_texture.ts";
import { dispatch, flush, gridFor, type Kernel, LINEAR_INDEX } from "../gpu/kernel.ts";
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

// Reads a padded texture back through textureLoad (its usage has no COPY_SRC).
const TEXTURE_TO_BUFFER: Kernel = {
  name: "test.texture_to_buffer",
  code: /* wgsl */ `
@group(0) @binding(0) var<uniform> p: vec4u;
@group(0) @binding(1) var xt: texture_3d<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.x * p.y * p.z) { return; }
  out[i] = textureLoad(xt, vec3u(i % p.x, (i / p.x) % p.y, i / (p.x * p.y)), 0);
}`,
};

async function readTexture(view: GPUTextureView, size: [number, number, number]) {
  const out = Tensor.empty([size[0] * size[1] * size[2] * 4]);
  dispatch(TEXTURE_TO_BUFFER, [view, out], {
    params: [...size, 0],
    workgroups: gridFor(size[0] * size[1] * size[2]),
  });
  const values = await out.read();
  out.release();
  return values;
}

gpuTest(
  "conv textures: the copy pads and places every plane (vec4 and per-column paths)",
  async () => {
    const max = currentDevice().limits.maxTextureDimension3D;
    const cases: { shape: number[]; pad: number; wp: number }[] = [
      { shape: [2, 3, 5, 8], pad: 1, wp: 12 }, // vec4 path, a run shorter than 8 texels
      { shape: [1, 2, 4, 72], pad: 1, wp: 76 }, // 19 texels: runs of 8, 8 and 3
      { shape: [1, 2, 3, 16], pad: 0, wp: 16 },
      { shape: [1, 2, 3, 16], pad: 2, wp: 20 },
      { shape: [1, 1, 3, 16], pad: 3, wp: 24 },
      { shape: [1, 1, 2, 8], pad: 4, wp: 16 }, // a whole vec4 of zeros before the image
      { shape: [1, 1, 2, 8], pad: 5, wp: 20 }, // and a shift after it
      { shape: [2, 2, 5, 7], pad: 1, wp: 12 }, // odd width: one texel a lane
      { shape: [1, max + 3, 2, 4], pad: 1, wp: 8 }, // planes folded into the height
    ];
    for (const { shape, pad, wp } of cases) {
      const hp = shape[2] + 2 * pad;
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: count }, (_, i) => 1 + ((i * 7919) % 1009));
      const x = Tensor.from(values, shape);
      const size = textureSize(shape, { wp, hp })!;
      // A first copy of other values leaves the pooled texture dirty for the second.
      const dirty = Tensor.from(new Float32Array(count).fill(-1), shape);
      padTexture(dirty, { pad, wp, hp }, size).release();
      dirty.release();
      flush();
      const t = padTexture(x, { pad, wp, hp }, size);
      const got = await readTexture(t.view, size);
      assert.deepEqual(
        got,
        paddedTexelsReference(values, shape, { pad, hp }, size),
        `${shape} pad ${pad}`,
      );
      t.release();
      x.release();
    }
  },
);
