import assert from "node:assert/strict";
import { type BlockCopy, copyBlocks, copyBlocksReference } from "../gpu/ops/copy_blocks.ts";
import { encoder } from "../gpu/kernel.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

async function check(blocks: BlockCopy): Promise<void> {
  const { outer, inner, srcDim, dstDim } = blocks;
  // Float32 inputs, so the copy must be exact.
  const src = Float32Array.from(randomArray(outer * srcDim * inner, 3));
  const before = Float32Array.from(randomArray(outer * dstDim * inner, 4));
  const dst = Tensor.from(before, [outer, dstDim, inner]);
  copyBlocks(Tensor.from(src, [outer, srcDim, inner]), dst, blocks);
  // Blocks outside the copied range keep their old values.
  assertClose(await dst.read(), copyBlocksReference(src, Float64Array.from(before), blocks), {
    atol: 0,
    rtol: 0,
  });
}

gpuTest(
  "copyBlocks: a channel range out of NCHW",
  () => check({ outer: 3, inner: 35, count: 2, srcDim: 5, dstDim: 2, srcStart: 2, dstStart: 0 }),
);
gpuTest(
  "copyBlocks: into the middle of a larger tensor",
  () => check({ outer: 2, inner: 7, count: 3, srcDim: 3, dstDim: 8, srcStart: 0, dstStart: 4 }),
);
gpuTest(
  "copyBlocks: single elements (inner 1), one outer",
  () =>
    check({ outer: 1, inner: 1, count: 130, srcDim: 200, dstDim: 131, srcStart: 70, dstStart: 1 }),
);
gpuTest("copyBlocks: spans that do not fit are refused", () => {
  const x = Tensor.zeros([2, 3, 4]);
  assert.throws(
    () =>
      copyBlocks(x, Tensor.zeros([2, 1, 4]), {
        outer: 2,
        inner: 4,
        count: 2,
        srcDim: 3,
        dstDim: 1,
        srcStart: 0,
        dstStart: 0,
      }),
    /destination/,
  );
});
gpuTest(
  "copyBlocks: long runs go as buffer copies, in order with the dispatches around them",
  async () => {
    // Runs of 3 × 100 floats: buffer copies, no dispatch.
    const blocks = {
      outer: 4,
      inner: 100,
      count: 3,
      srcDim: 5,
      dstDim: 4,
      srcStart: 1,
      dstStart: 1,
    };
    const before = encoder.dispatchCount;
    await check(blocks);
    assert.equal(encoder.dispatchCount, before, "no kernel dispatched");
    // A kernel-written source (short runs: a dispatch) read by the copies, then read by a dispatch.
    const src = Float32Array.from(randomArray(4 * 5 * 100, 5));
    const a = Tensor.from(src, [4, 5, 100]);
    const b = Tensor.zeros([4, 5, 100]);
    copyBlocks(a, b, {
      outer: 400,
      inner: 5,
      count: 1,
      srcDim: 1,
      dstDim: 1,
      srcStart: 0,
      dstStart: 0,
    });
    const c = Tensor.zeros([4, 4, 100]);
    copyBlocks(b, c, blocks);
    const d = Tensor.zeros([4, 4, 100]);
    copyBlocks(c, d, {
      outer: 1600,
      inner: 1,
      count: 1,
      srcDim: 1,
      dstDim: 1,
      srcStart: 0,
      dstStart: 0,
    });
    assertClose(await d.read(), copyBlocksReference(src, new Float64Array(1600), blocks), {
      atol: 0,
      rtol: 0,
    });
    for (const t of [a, b, c, d]) t.release();
  },
);
gpuTest(
  "copyBlocks: many long runs (outer > 64) stay one dispatch",
  () => check({ outer: 70, inner: 300, count: 1, srcDim: 2, dstDim: 1, srcStart: 1, dstStart: 0 }),
);
