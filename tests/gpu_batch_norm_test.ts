import assert from "node:assert/strict";
import {
  batchNorm,
  batchNormBackwardReference,
  batchNormReference,
} from "../gpu/ops/batch_norm.ts";
import { foldBatchNorm, foldBatchNormReference } from "../gpu/ops/batch_norm_fold.ts";
import { maxPool2x2BackwardReference, maxPool2x2Reference } from "../gpu/ops/max_pool.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, checkGradient, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { checkBatchNorm, runningStats } from "./_op_checks.ts";

const RELU = { relu: true };

gpuTest("batch_norm train: N=1, C=1, 3×1", () => checkBatchNorm([1, 1, 3, 1], true));
gpuTest("batch_norm train: N=1, C=3, odd", () => checkBatchNorm([1, 3, 7, 9], true));
gpuTest("batch_norm train: N=3, C=5, 13×11", () => checkBatchNorm([3, 5, 13, 11], true));
gpuTest("batch_norm train: vec4 planes, 6×10", () => checkBatchNorm([3, 5, 6, 10], true));
gpuTest(
  "batch_norm train: vec4, 256 parts, mean 100",
  () => checkBatchNorm([2, 2, 256, 258], true, { offset: 100, tol: 2e-4 }),
);
gpuTest(
  "batch_norm train: 256 parts, mean 100 (shifted sums)",
  () => checkBatchNorm([2, 3, 131, 129], true, { offset: 100, tol: 2e-4 }),
);
gpuTest(
  "batch_norm train: C=70 (two workgroups of channels)",
  () => checkBatchNorm([2, 70, 5, 3], true),
);
gpuTest("batch_norm + ReLU train: vec4 planes", () => checkBatchNorm([3, 5, 6, 10], true, RELU));
gpuTest("batch_norm + ReLU train: odd planes", () => checkBatchNorm([2, 3, 7, 9], true, RELU));
gpuTest("batch_norm + ReLU inference", () => checkBatchNorm([2, 5, 17, 19], false, RELU));
gpuTest(
  "batch_norm + ReLU inference: vec4 planes",
  () => checkBatchNorm([2, 5, 4, 3], false, RELU),
);
gpuTest(
  "batch_norm + ReLU + max-pool train: fused (vec4 rows)",
  () => checkBatchNorm([3, 5, 6, 12], true, { relu: true, pool: true }),
);
gpuTest(
  "batch_norm + max-pool train: fused, no ReLU, C=70",
  () => checkBatchNorm([2, 70, 4, 8], true, { pool: true }),
);
gpuTest(
  "batch_norm + ReLU + max-pool: odd sizes fall back to normalise, then pool",
  () => checkBatchNorm([2, 3, 7, 6], true, { relu: true, pool: true }),
);
gpuTest(
  "batch_norm + ReLU + max-pool inference: fused",
  () => checkBatchNorm([2, 4, 8, 16], false, { relu: true, pool: true }),
);
gpuTest("batch_norm inference: N=1, C=1", () => checkBatchNorm([1, 1, 1, 1], false));
gpuTest("batch_norm inference: N=2, C=5, odd", () => checkBatchNorm([2, 5, 17, 19], false));
gpuTest("batch_norm inference: vec4 planes", () => checkBatchNorm([2, 5, 4, 3], false));

gpuTest("batch_norm: running stats move towards the batch over repeated steps", async () => {
  const x = Tensor.from(randomArray(2 * 2 * 4 * 4, 3).map((v) => 2 * v + 1), [2, 2, 4, 4]);
  const bn = {
    gamma: Tensor.from([1, 1], [2]),
    beta: Tensor.zeros([2]),
    runningMean: Tensor.zeros([2]),
    runningVar: Tensor.from([1, 1], [2]),
  };
  const ref = { gamma: [1, 1], beta: [0, 0], runningMean: [0, 0], runningVar: [1, 1] };
  const xs = await x.read();
  for (let step = 0; step < 5; step++) {
    batchNorm(x, bn, { training: true }).release();
    const r = batchNormReference(xs, ref, { shape: x.shape, training: true });
    ref.runningMean = [...r.runningMean];
    ref.runningVar = [...r.runningVar];
  }
  assertClose(await bn.runningMean.read(), ref.runningMean, { what: "running mean" });
  assertClose(await bn.runningVar.read(), ref.runningVar, { what: "running var" });
});

gpuTest("batch_norm: bad shapes and one value per channel are refused", () => {
  const bn = {
    gamma: Tensor.zeros([2]),
    beta: Tensor.zeros([2]),
    runningMean: Tensor.zeros([2]),
    runningVar: Tensor.zeros([3]),
  };
  assert.throws(
    () => batchNorm(Tensor.zeros([1, 2, 3, 3]), bn, { training: false }),
    /runningVar has 3 values/,
  );
  bn.runningVar = Tensor.zeros([2]);
  assert.throws(
    () => batchNorm(Tensor.zeros([1, 2, 1, 1]), bn, { training: true }),
    /more than 1 value/,
  );
});

/** Float64 convolution (stride 1, zero padding (k-1)/2) of x [N, Cin, H, W] by w [Cout, Cin, k, k]. */
function conv(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, dims: number[]) {
  const [n, cin, h, wd, cout, k] = dims;
  const pad = (k - 1) / 2;
  const y = new Float64Array(n * cout * h * wd);
  for (let i = 0; i < y.length; i++) {
    const ox = i % wd, oy = Math.floor(i / wd) % h, co = Math.floor(i / (h * wd)) % cout;
    const bn = Math.floor(i / (cout * h * wd));
    let s = b[co];
    for (let ci = 0; ci < cin; ci++) {
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const iy = oy + ky - pad, ix = ox + kx - pad;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
          s += x[((bn * cin + ci) * h + iy) * wd + ix] * w[((co * cin + ci) * k + ky) * k + kx];
        }
      }
    }
    y[i] = s;
  }
  return y;
}

for (const withBias of [true, false]) {
  gpuTest(
    `batch_norm fold: conv→BN equals folded conv (${withBias ? "bias" : "no bias"})`,
    async () => {
      const [n, cin, h, w, cout, k] = [2, 3, 5, 4, 5, 3];
      const weight = randomArray(cout * cin * k * k, 11);
      const bias = withBias ? randomArray(cout, 12) : null;
      const params = {
        gamma: randomArray(cout, 13),
        beta: randomArray(cout, 14),
        ...runningStats(cout),
      };
      const gpuParams = {
        gamma: Tensor.from(params.gamma, [cout]),
        beta: Tensor.from(params.beta, [cout]),
        runningMean: Tensor.from(params.runningMean, [cout]),
        runningVar: Tensor.from(params.runningVar, [cout]),
      };
      const gpuBias = bias ? Tensor.from(bias, [cout]) : null;
      const folded = foldBatchNorm(Tensor.from(weight, [cout, cin, k, k]), gpuBias, gpuParams, {
        eps: 1e-3,
      });
      const want = foldBatchNormReference(weight, bias, { params, eps: 1e-3 });
      const fw = await folded.weight.read();
      const fb = await folded.bias.read();
      assertClose(fw, want.weight, { what: "folded weight" });
      assertClose(fb, want.bias, { what: "folded bias" });
      const x = randomArray(n * cin * h * w, 15);
      const dims = [n, cin, h, w, cout, k];
      const viaBn =
        batchNormReference(conv(x, weight, bias ?? new Float64Array(cout), dims), params, {
          shape: [n, cout, h, w],
          training: false,
          eps: 1e-3,
        }).y;
      assertClose(conv(x, fw, fb, dims), viaBn, { what: "folded conv output", atol: 1e-4 });
    },
  );
}

for (const [training, relu] of [[true, false], [false, false], [true, true], [false, true]]) {
  const name = `${training ? "train" : "inference"}${relu ? " + ReLU" : ""}`;
  Deno.test(`batch_norm ${name}: reference backward matches finite differences`, () => {
    const shape = [2, 3, 3, 5];
    const stats = runningStats(3);
    const opts = { shape, training, relu };
    const params = ([, gamma, beta]: Float64Array[]) => ({ gamma, beta, ...stats });
    checkGradient({
      shapes: [shape, [3], [3]],
      forward: (xs) => batchNormReference(xs[0], params(xs), opts).y,
      backward: (xs, g) => {
        const r = batchNormBackwardReference(xs[0], g, { ...opts, params: params(xs) });
        return [r.dx, r.dgamma, r.dbeta];
      },
    });
  });
}

Deno.test("batch_norm + ReLU + max-pool: composed reference backward matches finite differences", () => {
  const shape = [2, 3, 4, 4];
  const stats = runningStats(3);
  const opts = { shape, training: true, relu: true };
  const params = ([, gamma, beta]: Float64Array[]) => ({ gamma, beta, ...stats });
  const normalised = (xs: Float64Array[]) => batchNormReference(xs[0], params(xs), opts).y;
  checkGradient({
    shapes: [shape, [3], [3]],
    forward: (xs) => maxPool2x2Reference(normalised(xs), { shape }),
    backward: (xs, g) => {
      const full = maxPool2x2BackwardReference(normalised(xs), g, { shape });
      const r = batchNormBackwardReference(xs[0], full, { ...opts, params: params(xs) });
      return [r.dx, r.dgamma, r.dbeta];
    },
  });
});
