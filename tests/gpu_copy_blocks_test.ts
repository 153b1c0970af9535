import assert from "node:assert/strict";
import { type BlockCopy, copyBlocks, copyBlocksReference } from "../gpu/ops/copy_blocks.ts";
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
