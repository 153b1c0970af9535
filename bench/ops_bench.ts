// Memory-bound ops at the default network's per-modality encoder stage outputs (240×240 input, N=9).
// Run: deno bench -A bench/ops_bench.ts   (GB/s = bytes moved / time; bytes per case in `moved`.)
import { Tape } from "../gpu/autograd.ts";
import { getDevice } from "../gpu/device.ts";
import { flush } from "../gpu/kernel.ts";
import { batchNorm } from "../gpu/ops/batch_norm.ts";
import { maxPool2x2 } from "../gpu/ops/max_pool.ts";
import { mul } from "../gpu/ops/mul.ts";
import { relu } from "../gpu/ops/relu.ts";
import { Tensor } from "../gpu/tensor.ts";
import { scoped } from "../gpu/tensor_scope.ts";

const device = await getDevice();
const SHAPES = [[9, 32, 240, 240], [9, 64, 120, 120], [9, 64, 60, 60], [9, 64, 30, 30]];

/** Deterministic values in [-1, 1) without a per-element RNG call (setup speed). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 2654435761 + seed * 40503) % 2001) / 1000 - 1;
  return out;
}

/** Runs `fn` (encoding GPU work), submits, and waits for the GPU to finish. */
async function run(fn: () => unknown): Promise<void> {
  scoped(() => void fn()); // returns nothing, so every tensor made is released

  flush();
  await device.queue.onSubmittedWorkDone();
}

/** Backward through the tape with a caller-owned seed, dropping the gradients afterwards. */
function backward(tape: Tape, y: Tensor, seed: Tensor, inputs: Tensor[]): void {
  tape.backward(y, seed);
  y.grad = null; // the seed is reused across iterations
  for (const t of inputs) {
    t.grad?.release();
    t.grad = null;
  }
}

for (const shape of SHAPES) {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[1];
  const tag = `[${shape}]`;
  const mb = (k: number) => `${((k * size * 4) / 1e6).toFixed(0)} MB`;
  const a = Tensor.from(values(size, 1), shape, { requiresGrad: true }).keep();
  const b = Tensor.from(values(size, 2), shape, { requiresGrad: true }).keep();
  const g = Tensor.from(values(size, 3), shape).keep();
  const pooled = [shape[0], c, shape[2] / 2, shape[3] / 2];
  const gPool = Tensor.from(values(size / 4, 4), pooled).keep();
  const bn = {
    gamma: Tensor.from(values(c, 5), [c], { requiresGrad: true }).keep(),
    beta: Tensor.from(values(c, 6), [c], { requiresGrad: true }).keep(),
    runningMean: Tensor.zeros([c]).keep(),
    runningVar: Tensor.from(new Float32Array(c).fill(1), [c]).keep(),
  };
  const opts = { n: 10, warmup: 2 };

  Deno.bench(
    `relu forward ${tag} (moved ${mb(2)})`,
    { group: "relu", ...opts },
    () => run(() => relu(a)),
  );
  Deno.bench(
    `relu forward+backward ${tag} (moved ${mb(5)})`,
    { group: "relu", ...opts },
    () =>
      run(() => {
        const tape = new Tape();
        backward(tape, tape.run(() => relu(a)), g, [a]);
      }),
  );
  Deno.bench(
    `mul forward ${tag} (moved ${mb(3)})`,
    { group: "mul", ...opts },
    () => run(() => mul(a, b)),
  );
  Deno.bench(
    `mul forward+backward ${tag} (moved ${mb(8)})`,
    { group: "mul", ...opts },
    () =>
      run(() => {
        const tape = new Tape();
        backward(tape, tape.run(() => mul(a, b)), g, [a, b]);
      }),
  );
  Deno.bench(
    `max_pool forward ${tag} (moved ${mb(1.25)})`,
    { group: "max_pool", ...opts },
    () => run(() => maxPool2x2(a)),
  );
  Deno.bench(
    `max_pool forward+backward ${tag} (moved ${mb(3)})`,
    { group: "max_pool", ...opts },
    () =>
      run(() => {
        const tape = new Tape();
        backward(tape, tape.run(() => maxPool2x2(a)), gPool, [a]);
      }),
  );
  Deno.bench(
    `batch_norm inference ${tag} (moved ${mb(2)})`,
    { group: "batch_norm", ...opts },
    () => run(() => batchNorm(a, bn, { training: false })),
  );
  Deno.bench(
    `batch_norm train forward ${tag} (moved ${mb(3)})`,
    { group: "batch_norm", ...opts },
    () => run(() => batchNorm(a, bn, { training: true })),
  );
  Deno.bench(
    `batch_norm train forward+backward ${tag} (moved ${mb(8)})`,
    { group: "batch_norm", ...opts },
    () =>
      run(() => {
        const tape = new Tape();
        backward(tape, tape.run(() => batchNorm(a, bn, { training: true })), g, [
          a,
          bn.gamma,
          bn.beta,
        ]);
      }),
  );
}
