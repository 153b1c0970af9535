import assert from "node:assert/strict";
import { Tape } from "../gpu/autograd.ts";
import { conv2d, type Conv2dOptions, conv2dReference } from "../gpu/ops/conv2d.ts";
import { prepackConv2d } from "../gpu/ops/conv2d_prepack.ts";
import { maxPool2x2Reference } from "../gpu/ops/max_pool.ts";
import { reluReference } from "../gpu/ops/relu.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { conv2dDims } from "./_op_checks.ts";

async function checkPooled(c: number[], options: Conv2dOptions, relu: boolean): Promise<void> {
  const d = conv2dDims(c);
  const xs = randomArray(d.n * d.cin * d.h * d.w, 11);
  const ws = randomArray(d.cout * d.cin * d.k * d.k, 12);
  const bs = randomArray(d.cout, 13);
  const y = conv2dReference(xs, ws, bs, d);
  const want = maxPool2x2Reference(relu ? reluReference(y) : y, { shape: [d.n, d.cout, d.h, d.w] });
  const x = Tensor.from(Float32Array.from(xs), [d.n, d.cin, d.h, d.w]);
  const w = Tensor.from(Float32Array.from(ws), [d.cout, d.cin, d.k, d.k]);
  const b = Tensor.from(Float32Array.from(bs), [d.cout]);
  const prepacked = options.prepacked === null ? null : prepackConv2d(w, { ...options, bias: b });
  const out = conv2d(x, w, { ...options, bias: b, relu, pool: true, prepacked });
  assert.deepEqual(out.shape, [d.n, d.cout, Math.floor(d.h / 2), Math.floor(d.w / 2)]);
  assertClose(await out.read(), want, { atol: 1e-4, rtol: 1e-4 });
  for (const t of [x, w, b, out]) t.release();
  prepacked?.release();
}

gpuTest("conv2d pool: the fused 2×2/2 max-pool equals conv, ReLU, then max-pool", async () => {
  // [n, cin, h, w, cout, k]: odd sizes (the last row and column are dropped), one or several
  // output-channel tiles (storage or texture input), 3×3 fused; 1×1 and direct pool afterwards.
  for (
    const c of [[2, 3, 7, 9, 5, 3], [1, 6, 8, 10, 20, 3], [3, 2, 5, 17, 13, 3], [1, 4, 6, 6, 9, 1]]
  ) {
    await checkPooled(c, {}, true);
    await checkPooled(c, { prepacked: null }, false);
  }
  await checkPooled([2, 3, 7, 9, 12, 3], { algorithm: "direct" }, true);
});

gpuTest("conv2d pool: refused on a tape and for images smaller than 2×2", () => {
  const x = Tensor.zeros([1, 2, 4, 4]);
  const w = Tensor.zeros([3, 2, 3, 3]);
  assert.throws(() => new Tape().run(() => conv2d(x, w, { pool: true })), /inference/);
  assert.throws(() => conv2d(Tensor.zeros([1, 2, 1, 4]), w, { pool: true }), /smaller than 2×2/);
  x.release();
  w.release();
});
