/**
 * Memory-bound training kernels at the default network's shapes: the fused
 * convLSTM cell (gates [N, 256, 15, 15], state [N, 64, 15, 15]), softmax
 * cross-entropy forward + backward on [9, 5, 240, 240] logits, and Adam over
 * ~1.5M parameters. Run: `deno bench -A bench/train_ops_bench.ts`; a GB/s
 * table (bytes each kernel must move ÷ time) is printed at the end.
 *
 * @module
 */

import { Tape } from "../gpu/autograd.ts";
import { currentDevice, getDevice } from "../gpu/device.ts";
import { flush } from "../gpu/kernel.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { convLstmCell } from "../gpu/ops/conv_lstm_cell.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { ParameterStore } from "../gpu/parameters.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";

await getDevice();
const device = currentDevice();
const F32 = 4;

/** Random-ish data without a CPU generator in the timed loop. */
function filled(shape: number[], scale = 1): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(
    Float32Array.from({ length: size }, (_, i) => scale * Math.sin(i * 0.7)),
    shape,
  )
    .keep();
}

const rates: { name: string; bytes: number; times: number[] }[] = [];

/**
 * Registers a bench that encodes `work` `repeat` times per iteration and waits
 * for the GPU, recording the time per repetition for the GB/s table.
 */
function bench(name: string, bytes: number, repeat: number, work: () => void): void {
  const entry = { name, bytes, times: [] as number[] };
  rates.push(entry);
  Deno.bench({ name, group: name.split(" ")[0] }, async (b) => {
    // Warm-up compiles the pipelines outside the timed region.
    work();
    flush();
    await device.queue.onSubmittedWorkDone();
    b.start();
    const t0 = performance.now();
    for (let r = 0; r < repeat; r++) {
      const scope = TensorScope.begin();
      work();
      scope.end();
    }
    flush();
    await device.queue.onSubmittedWorkDone();
    entry.times.push((performance.now() - t0) / repeat);
    b.end();
  });
}

// convLSTM cell: forward reads 4C gates + C state, writes h and c (7C per pixel);
// backward reads gates, c, dh, dc' and writes dgates and dc (12C per pixel).
for (const n of [1, 3]) {
  const [c, hw] = [64, 15 * 15];
  const gates = filled([n, 4 * c, 15, 15], 2);
  const cell = filled([n, c, 15, 15]);
  const gh = filled([n, c, 15, 15], 0.1);
  const gc = filled([n, c, 15, 15], 0.1);
  bench(`convLstmCell forward N=${n}`, 7 * n * c * hw * F32, 50, () => {
    convLstmCell(gates, cell);
  });
  bench(`convLstmCell forward+backward N=${n}`, 19 * n * c * hw * F32, 50, () => {
    gates.requiresGrad = true;
    cell.requiresGrad = true;
    const tape = new Tape();
    const out = tape.run(() => convLstmCell(gates, cell));
    out.c.grad = gc;
    tape.backward(out.h, gh);
    // The seeds belong to the bench: detach them before the scope releases h and c.
    out.c.grad = null;
    out.h.grad = null;
    gates.grad?.release();
    cell.grad?.release();
    gates.grad = cell.grad = null;
  });
}

// Cross-entropy: forward reads logits + labels; backward reads them again and writes dlogits.
{
  const [n, k, h, w] = [9, 5, 240, 240];
  const pixels = n * h * w;
  const logits = filled([n, k, h, w], 3);
  const labels = Tensor.from(
    Float32Array.from({ length: pixels }, (_, i) => (i * 7) % (k + 1) - 1),
    [n, 1, h, w],
  ).keep();
  const weights = Tensor.from([0.2, 1, 2, 1.5, 3], [k]).keep();
  const seed = Tensor.from([1], [1]).keep();
  bench(`softmaxCrossEntropy forward [${n},${k},${h},${w}]`, (k + 1) * pixels * F32, 5, () => {
    softmaxCrossEntropy(logits, labels, { weights });
  });
  bench(
    `softmaxCrossEntropy forward+backward [${n},${k},${h},${w}]`,
    (3 * k + 2) * pixels * F32,
    5,
    () => {
      logits.requiresGrad = true;
      const tape = new Tape();
      const loss = tape.run(() => softmaxCrossEntropy(logits, labels, { weights }));
      tape.backward(loss, seed);
      loss.grad = null;
      logits.grad?.release();
      logits.grad = null;
    },
  );
}

// Adam: reads param, grad, m, v and writes param, m, v (7 floats per parameter).
{
  // 1.5M parameters in tensors of the network's typical sizes (3×3 convs of 64-256 channels).
  const sizes = [64 * 64 * 9, 128 * 128 * 9, 256 * 256 * 9, 128 * 64 * 9, 64 * 4 * 9];
  const store = new ParameterStore({ capacity: 2 * 2 ** 20 });
  for (let i = 0; store.count < 1.5e6; i++) {
    const size = Math.min(sizes[i % sizes.length], 1.5e6 - store.count);
    store.add(`p${i}`, [size], new Float32Array(size).fill(0.01));
  }
  bench(
    `adamStep ${(store.count / 1e6).toFixed(2)}M parameters`,
    7 * store.length * F32,
    10,
    () => {
      adamStep(store, { lr: 1e-4 });
    },
  );
}

globalThis.addEventListener("unload", () => {
  console.log(`\n${"kernel".padEnd(52)}   ms/op    GB/s (best)`);
  for (const { name, bytes, times } of rates) {
    if (times.length === 0) continue;
    const best = Math.min(...times);
    console.log(
      `${name.padEnd(52)} ${best.toFixed(3).padStart(7)}  ${
        (bytes / best / 1e6).toFixed(2).padStart(6)
      }`,
    );
  }
});
