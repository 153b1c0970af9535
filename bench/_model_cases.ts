// Shared set-up of the model benchmarks: networks, inputs, one inference window, one training step.
import { Tape } from "../gpu/autograd.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";
import { modelConfig } from "../model/config.ts";
import { releaseState, SegmentationNetwork } from "../model/network.ts";

/** Widths and input sizes benchmarked (the grid). */
export const WIDTHS: [number, number, number, number][] = [[32, 64, 64, 64], [16, 32, 64, 64]];
/** Input sizes. */
export const SIZES = [240, 128];
/** Training batch: 3 sequences of 3 slices. */
export const BATCH = 3;
/** Slices per training sequence. */
export const SEQ = 3;

/** Deterministic values in [-1, 1) without a per-element RNG call (set-up speed). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 2654435761 + seed * 40503) % 2001) / 1000 - 1;
  return out;
}

/** One benchmark configuration with its network and inputs on the GPU. */
export interface ModelCase {
  label: string;
  net: SegmentationNetwork;
  window: Tensor;
  batch: Tensor;
  labels: Tensor;
  weights: Tensor;
  /** Slices per inference window. */
  windowSlices: number;
}

/** Builds the default network at `widths` and inputs of `size`² (window of `windowSlices`). */
export function makeCase(
  widths: [number, number, number, number],
  size: number,
  windowSlices: number,
): ModelCase {
  const net = SegmentationNetwork.create(modelConfig("mme+cmc+mrf+convlstm", { widths }), {
    seed: 1,
  });
  const n = BATCH * SEQ;
  const plane = size * size;
  const labelValues = new Float32Array(n * plane);
  for (let i = 0; i < labelValues.length; i++) labelValues[i] = (i * 7919 >>> 3) % 4;
  return {
    label: `${size}×${size} ${widths.join("-")}`,
    net,
    window: Tensor.from(values(windowSlices * 4 * plane, 1), [windowSlices, 4, size, size]).keep(),
    batch: Tensor.from(values(n * 4 * plane, 2), [n, 4, size, size]).keep(),
    labels: Tensor.from(labelValues, [n, 1, size, size]).keep(),
    weights: Tensor.from([0.2, 1, 1, 1], [4]).keep(),
    windowSlices,
  };
}

/** One inference window, labels read back (as the segment pipeline does). */
export async function inferWindow(c: ModelCase): Promise<void> {
  const out = c.net.step(c.window, null, { output: "labels" });
  await out.labels!.read();
  out.labels!.release();
  releaseState(out.state);
}

/**
 * One training step: forward, weighted cross-entropy, backward, Adam; the loss read back.
 * `releaseSaved` (default true, as the trainer) frees activations as the backward passes them.
 */
export async function trainStep(c: ModelCase, releaseSaved = true): Promise<number> {
  const scope = TensorScope.begin();
  try {
    c.net.params.zeroGrad();
    const tape = new Tape();
    const loss = tape.run(() =>
      softmaxCrossEntropy(c.net.forward(c.batch, { steps: SEQ }), c.labels, { weights: c.weights })
    );
    tape.backward(loss, undefined, { releaseSaved });
    adamStep(c.net.params, { lr: 1e-4 });
    return (await loss.read())[0];
  } finally {
    scope.end();
  }
}

/** Milliseconds of `reps` runs of `fn` after one warm-up run (pipelines compiled, pool filled), sorted. */
export async function timeIt(fn: () => Promise<unknown>, reps: number): Promise<number[]> {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b);
}

/** Releases a case's GPU memory. */
export function releaseCase(c: ModelCase): void {
  c.net.release();
  for (const t of [c.window, c.batch, c.labels, c.weights]) t.release();
}
