import assert from "node:assert/strict";
import { currentDevice } from "../gpu/device.ts";
import { encoder } from "../gpu/kernel.ts";
import { Tensor } from "../gpu/tensor.ts";
import { conv2dBackward, conv2dBackwardReference } from "../gpu/ops/conv2d.ts";
import { rowBands, rowsWeightGrad } from "../gpu/ops/_weight_grad_rows_wgsl.ts";
import {
  convTranspose2d,
  convTranspose2dBackwardReference,
  convTranspose2dReference,
} from "../gpu/ops/conv_transpose2d.ts";
import { assertClose, checkOp, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

// [n, cin, h, w, cout, k]: one band of two samples; two bands of 128 rows with a shorter last one (w 128); bands
// starting every 8 rows (w 120: 480-byte rows) where the last binding of dy ends where dy does;
// output channels not a multiple of the 8 bound per dispatch; 1×1 (input channels in blocks of 4
// per lane, the last block partial). Rows of 60 take 4-pixel steps.
const CASES: number[][] = [
  [2, 16, 64, 128, 12, 3],
  [1, 16, 160, 128, 8, 3],
  [1, 17, 200, 120, 9, 3],
  [2, 20, 40, 128, 5, 1],
  [1, 18, 64, 128, 12, 1],
  // Unaligned planes (3600 and 18,000 floats): bindings start below their bands; two bands.
  [16, 16, 60, 60, 4, 3],
  [1, 16, 300, 60, 16, 3],
];

async function checkRows(
  c: number[],
  tile?: { px: number; co: number; texture?: boolean; ci?: number },
) {
  const [n, cin, h, w, cout, k] = c;
  const xs = randomArray(n * cin * h * w, 1);
  const gs = randomArray(n * cout * h * w, 2);
  const dw = rowsWeightGrad(Tensor.from(xs, [n, cin, h, w]), Tensor.from(gs, [n, cout, h, w]), {
    k,
    tile,
  });
  assert.ok(dw, `rows kernel applies to [${c}]`);
  assert.deepEqual(dw.shape, [cout, cin, k, k]);
  const d = { n, cin, h, w, cout, k };
  const expected = conv2dBackwardReference(xs, new Float64Array(cout * cin * k * k), gs, d).dw;
  assertClose(await dw.read(), expected, { atol: 2e-3, rtol: 1e-4, what: `dw [${c}]` });
}

gpuTest("weight gradient from dy's rows matches the reference: bands, tails, tiles", async () => {
  for (const c of CASES) await checkRows(c);
  // The padded-copy source and a 4-channel tile (4 bindings of dy).
  await checkRows(CASES[2], { px: 8, co: 8 });
  await checkRows(CASES[1], { px: 4, co: 4, texture: true });
  // 1×1: 1, 2 and 8 input channels per lane besides the default 4 (18 channels: a partial block).
  for (const ci of [1, 2, 8]) await checkRows(CASES[4], { px: 8, co: 8, texture: true, ci });
});

gpuTest(
  "small planes, whose windows hold several channels, are left to the windowed kernel",
  () => {
    // 32×32 planes: a window holds 16 rows of all 32 channels, so 2 dispatches a sample, against 4
    // for dy's rows (one per 8 channels).
    const x = Tensor.zeros([9, 32, 32, 32]), gy = Tensor.zeros([9, 32, 32, 32]);
    assert.notEqual(rowBands(x.shape, 32, 0, 8), null);
    assert.equal(rowsWeightGrad(x, gy, { k: 3 }), null);
  },
);

gpuTest(
  "conv2d's backward takes dy's rows by default and agrees with the windowed kernel",
  async () => {
    const [n, cin, h, w, cout] = [1, 16, 128, 128, 16];
    const x = Tensor.from(randomArray(n * cin * h * w, 3), [n, cin, h, w]);
    const weight = Tensor.from(randomArray(cout * cin * 9, 4), [cout, cin, 3, 3]);
    const gy = Tensor.from(randomArray(n * cout * h * w, 5), [n, cout, h, w]);
    const grads: Float32Array[] = [];
    for (const gradAlgorithm of [undefined, "window"] as const) {
      const before = encoder.dispatchCount;
      const { dw } = conv2dBackward({ x, weight, gy }, {
        gradAlgorithm,
        wantInput: false,
        wantBias: false,
      });
      const dispatches = encoder.dispatchCount - before;
      grads.push(await dw!.read());
      // 128 rows of 128 floats fill one binding: a texture of x, 2 dispatches of 8 channels and the
      // sum of the splits; the windows take one dispatch per 8 rows (16 bands) and a copy of dy.
      if (gradAlgorithm) assert.ok(dispatches > 16, `windows: ${dispatches} dispatches`);
      else assert.equal(dispatches, 4, "rows: dispatches");
    }
    assertClose(grads[0], grads[1], { atol: 1e-3, rtol: 1e-4, what: "rows against windows" });
  },
);

gpuTest(
  "dy as a view at a 256-byte offset is bound from there; a buffer without uniform use is refused",
  async () => {
    const [n, cin, h, w, cout] = [1, 16, 64, 128, 12];
    const xs = randomArray(n * cin * h * w, 6);
    const gs = randomArray(n * cout * h * w, 7);
    const x = Tensor.from(xs, [n, cin, h, w]);
    // dy 64 floats into a larger buffer: every binding offset moves by 256 bytes.
    const padded = new Float64Array(64 + gs.length);
    padded.set(gs, 64);
    const whole = Tensor.from(padded, [padded.length]);
    const dy = new Tensor([n, cout, h, w], whole.buffer, { offset: whole.offset + 256 });
    const dw = rowsWeightGrad(x, dy, { k: 3 });
    assert.ok(dw);
    const d = { n, cin, h, w, cout, k: 3 };
    const expected = conv2dBackwardReference(xs, new Float64Array(cout * cin * 9), gs, d).dw;
    assertClose(await dw.read(), expected, { atol: 2e-3, rtol: 1e-4, what: "dw of a view" });
    const unaligned = new Tensor([n, cout, h, w], whole.buffer, { offset: whole.offset + 128 });
    assert.equal(rowsWeightGrad(x, unaligned, { k: 3 }), null);
    const storageOnly = currentDevice().createBuffer({
      size: gs.length * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    try {
      assert.equal(rowsWeightGrad(x, new Tensor([n, cout, h, w], storageOnly), { k: 3 }), null);
    } finally {
      storageOnly.destroy();
    }
  },
);

gpuTest(
  "the transposed conv's weight gradient takes dy's rows and matches the reference",
  async () => {
    // 2×2/2, 16 → 8 at 64² → 128²: dw is the 1×1 weight gradient of x against dy space-to-depth.
    const [n, cin, h, w, cout] = [1, 16, 64, 64, 8];
    const d = { n, cin, h, w, cout };
    const x = randomArray(n * cin * h * w, 8);
    const weight = randomArray(cin * cout * 4, 9);
    // The backward's dw call (x against dy space-to-depth, [n, 4·cout, h, w]) takes the rows path.
    const dys = Tensor.zeros([n, 4 * cout, h, w]), xs = Tensor.zeros([n, cin, h, w]);
    assert.ok(rowsWeightGrad(dys, xs, { k: 1, shape: [cin, cout, 2, 2] }));
    await checkOp({
      shapes: [[n, cin, h, w], [cin, cout, 2, 2], [cout]],
      inputs: [x, weight, randomArray(cout, 10)],
      reference: ([xs, ws, bs]) => convTranspose2dReference(xs, ws, bs, d),
      gpu: ([xt, wt, bt]) => convTranspose2d(xt, wt, { bias: bt }),
      referenceBackward: ([xs, ws], g) => {
        const r = convTranspose2dBackwardReference(xs, ws, g, d);
        return [r.dx, r.dw, r.db];
      },
      atol: 1e-3,
      rtol: 1e-3,
    });
  },
);

Deno.test("rowBands: aligned band starts, or null where dy cannot be bound in place", () => {
  assert.deepEqual(rowBands([9, 64, 240, 240], 64, 0, 8), { rows: 68, bands: 4 });
  assert.deepEqual(rowBands([1, 16, 200, 120], 9, 0, 8), { rows: 136, bands: 2 });
  assert.deepEqual(rowBands([2, 16, 64, 128], 12, 0, 8), { rows: 64, bands: 1 });
  // 3600-float planes: bindings start below their bands, so bands leave 60 floats free.
  assert.deepEqual(rowBands([9, 64, 60, 60], 64, 0, 4), { rows: 60, bands: 1 });
  assert.deepEqual(rowBands([1, 16, 300, 60], 64, 0, 4), { rows: 272, bands: 2 });
  assert.equal(rowBands([1, 16, 60, 60], 3, 0, 4), null, "dy not whole 256-byte blocks");
  assert.equal(rowBands([9, 8, 240, 240], 64, 0, 8), null, "few input channels");
  assert.equal(rowBands([9, 64, 240, 240], 64, 128, 8), null, "dy at an unaligned offset");
  assert.equal(rowBands([1, 16, 16, 16], 4, 0, 8), null, "dy shorter than one binding");
  assert.equal(rowBands([1, 16, 128, 100], 64, 0, 8), null, "rows not whole steps of 8");
});
