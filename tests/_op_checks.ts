// The checks of the model's main kernels, shared by their tests and by the op checks run inside Chromium.
import {
  batchNorm,
  batchNormBackwardReference,
  batchNormReference,
} from "../gpu/ops/batch_norm.ts";
import {
  conv2d,
  conv2dBackwardReference,
  type Conv2dDims,
  type Conv2dOptions,
  conv2dReference,
} from "../gpu/ops/conv2d.ts";
import {
  convLstmCell,
  convLstmCellBackwardReference,
  convLstmCellReference,
} from "../gpu/ops/conv_lstm_cell.ts";
import {
  convTranspose2d,
  convTranspose2dBackwardReference,
  convTranspose2dReference,
} from "../gpu/ops/conv_transpose2d.ts";
import { maxPool2x2BackwardReference, maxPool2x2Reference } from "../gpu/ops/max_pool.ts";
import { reluBackwardReference, reluReference } from "../gpu/ops/relu.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, checkOp, randomArray } from "./_check_op.ts";

/** `[n, cin, h, w, cout, k]` as conv2d's dims. */
export function conv2dDims([n, cin, h, w, cout, k]: number[]): Conv2dDims {
  return { n, cin, h, w, cout, k };
}

/**
 * Conv2d forward and backward on the GPU against the reference; `c` is `[n, cin, h, w, cout, k]`.
 * `relu`: the fused ReLU against relu(reference), the gradient masked where the output is 0.
 */
export async function checkConv2d(
  c: number[],
  withBias: boolean,
  options: { tol?: number; relu?: boolean; conv?: Conv2dOptions } = {},
): Promise<void> {
  const { tol = 1e-4, relu = false } = options;
  const d = conv2dDims(c);
  const shapes = [[d.n, d.cin, d.h, d.w], [d.cout, d.cin, d.k, d.k]];
  if (withBias) shapes.push([d.cout]);
  const forward = (x: Float64Array, w: Float64Array, b?: Float64Array) => {
    const y = conv2dReference(x, w, b ?? null, d);
    return relu ? reluReference(y) : y;
  };
  await checkOp({
    shapes,
    reference: ([x, w, b]) => forward(x, w, b),
    gpu: ([x, w, b]) => conv2d(x, w, { ...options.conv, bias: b ?? null, relu }),
    referenceBackward: ([x, w, b], g) => {
      const gy = relu ? reluBackwardReference(forward(x, w, b), g) : g;
      const r = conv2dBackwardReference(x, w, gy, d);
      return b ? [r.dx, r.dw, r.db] : [r.dx, r.dw];
    },
    atol: tol,
    rtol: tol,
  });
}

/** The 2×2 stride-2 transposed conv on the GPU against the reference; `c` is `[n, cin, h, w, cout]`. */
export async function checkConvTranspose2d(
  [n, cin, h, w, cout]: number[],
  withBias = true,
  tol = 1e-4,
): Promise<void> {
  const d = { n, cin, h, w, cout };
  const shapes = [[n, cin, h, w], [cin, cout, 2, 2]];
  if (withBias) shapes.push([cout]);
  await checkOp({
    shapes,
    reference: ([x, wt, b]) => convTranspose2dReference(x, wt, b ?? null, d),
    gpu: ([x, wt, b]) => convTranspose2d(x, wt, { bias: b ?? null }),
    referenceBackward: ([x, wt, b], g) => {
      const r = convTranspose2dBackwardReference(x, wt, g, d);
      return b ? [r.dx, r.dw, r.db] : [r.dx, r.dw];
    },
    atol: tol,
    rtol: tol,
  });
}

/** Random running statistics for `c` channels (variances positive). */
export function runningStats(c: number): { runningMean: Float64Array; runningVar: Float64Array } {
  return { runningMean: randomArray(c, 31, -0.5, 0.5), runningVar: randomArray(c, 32, 0.5, 1.5) };
}

/**
 * Batch norm forward/backward against the reference, then its running-statistics update.
 * `pool`: the fused 2×2 max-pool against max-pool(reference).
 */
export async function checkBatchNorm(
  shape: number[],
  training: boolean,
  options: { offset?: number; tol?: number; relu?: boolean; pool?: boolean } = {},
): Promise<void> {
  const { offset = 0, tol = 1e-4, relu = false, pool = false } = options;
  const c = shape[1];
  const stats = runningStats(c);
  const gpuStats = {
    runningMean: Tensor.from(stats.runningMean, [c]),
    runningVar: Tensor.from(stats.runningVar, [c]),
  };
  const size = shape.reduce((a, b) => a * b, 1);
  const inputs = [
    randomArray(size, 5).map((v) => v * 3 + offset),
    randomArray(c, 6),
    randomArray(c, 7),
  ];
  const opts = { shape, training, momentum: 0.3, relu };
  const params = ([, gamma, beta]: Float64Array[]) => ({ gamma, beta, ...stats });
  const forward = (xs: Float64Array[]) => batchNormReference(xs[0], params(xs), opts).y;
  await checkOp({
    shapes: [shape, [c], [c]],
    inputs,
    reference: (xs) => pool ? maxPool2x2Reference(forward(xs), { shape }) : forward(xs),
    gpu: ([x, gamma, beta]) =>
      batchNorm(x, { gamma, beta, ...gpuStats }, { training, momentum: 0.3, relu, pool }),
    referenceBackward: (xs, g) => {
      const full = pool ? maxPool2x2BackwardReference(forward(xs), g, { shape }) : g;
      const r = batchNormBackwardReference(xs[0], full, { ...opts, params: params(xs) });
      return [r.dx, r.dgamma, r.dbeta];
    },
    atol: tol,
    rtol: tol,
  });
  const want = batchNormReference(inputs[0], params(inputs), opts);
  assertClose(await gpuStats.runningMean.read(), want.runningMean, {
    what: "running mean",
    atol: tol,
  });
  assertClose(await gpuStats.runningVar.read(), want.runningVar, {
    what: "running var",
    atol: tol,
    rtol: tol,
  });
}

/** `[n, c, h, w]` of a convLSTM cell's state. */
export type CellShape = [number, number, number, number];

/** The convLSTM cell's inputs: gate pre-activations in [-3, 3) (σ and tanh saturate there) and a cell state. */
export function cellInputs(s: CellShape, seed: number): Float64Array[] {
  const size = s[0] * s[1] * s[2] * s[3];
  return [randomArray(4 * size, seed, -3, 3), randomArray(size, seed + 1, -2, 2)];
}

/** One output of the convLSTM cell, forward and backward, against the reference. */
export async function checkConvLstmCell(s: CellShape, output: "h" | "c"): Promise<void> {
  const [n, c, h, w] = s;
  const dims = { n, c, h, w };
  await checkOp({
    shapes: [[n, 4 * c, h, w], s],
    inputs: cellInputs(s, 3),
    reference: ([g, cell]) => convLstmCellReference(g, cell, dims)[output],
    gpu: ([g, cell]) => convLstmCell(g, cell)[output],
    referenceBackward: ([g, cell], grad) => {
      const zero = new Float64Array(grad.length);
      const r = convLstmCellBackwardReference(
        { gates: g, c: cell },
        output === "h" ? { h: grad, c: zero } : { h: zero, c: grad },
        dims,
      );
      return [r.dgates, r.dc];
    },
  });
}

/** A sample of the checks above, small enough to run inside a browser's software WebGPU. */
export const OP_SAMPLES: readonly { name: string; run: () => Promise<void> }[] = [
  { name: "conv2d 3×3, odd shape, bias", run: () => checkConv2d([2, 3, 9, 11, 5, 3], true) },
  {
    name: "conv2d 3×3, 32→64 channels",
    run: () => checkConv2d([2, 32, 17, 13, 64, 3], true, { tol: 1e-3 }),
  },
  {
    name: "conv2d 3×3 + ReLU (fused), 32→16",
    run: () => checkConv2d([2, 32, 9, 7, 16, 3], true, { tol: 1e-3, relu: true }),
  },
  { name: "conv2d 1×1, no bias", run: () => checkConv2d([2, 7, 3, 9, 4, 1], false) },
  { name: "convTranspose2d, odd shape", run: () => checkConvTranspose2d([3, 2, 4, 11, 5]) },
  {
    name: "convTranspose2d, 64→32",
    run: () => checkConvTranspose2d([2, 64, 15, 13, 32], true, 1e-3),
  },
  { name: "batchNorm training", run: () => checkBatchNorm([3, 5, 13, 11], true) },
  {
    name: "batchNorm training, vec4, mean 100",
    run: () => checkBatchNorm([2, 2, 256, 258], true, { offset: 100, tol: 2e-4 }),
  },
  { name: "batchNorm inference", run: () => checkBatchNorm([2, 5, 17, 19], false) },
  {
    name: "batchNorm + ReLU training",
    run: () => checkBatchNorm([3, 5, 6, 10], true, { relu: true }),
  },
  { name: "convLstmCell h", run: () => checkConvLstmCell([2, 5, 9, 13], "h") },
  { name: "convLstmCell c", run: () => checkConvLstmCell([3, 64, 15, 15], "c") },
];
