import assert from "node:assert/strict";
import { Tape } from "../gpu/autograd.ts";
import { encoder } from "../gpu/kernel.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { conv2d } from "../gpu/ops/conv2d.ts";
import { mul } from "../gpu/ops/mul.ts";
import { sum } from "../gpu/ops/reduce.ts";
import { relu } from "../gpu/ops/relu.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { ParameterStore } from "../gpu/parameters.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";
import { assertClose, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

const [N, CIN, H, W, HIDDEN, K] = [2, 2, 9, 11, 8, 2];

/**
 * A toy segmentation: class 1 where x₀ at a pixel plus x₁ at its left
 * neighbour is positive; pixels within a margin of the boundary are ignored,
 * so a 3×3 conv net can separate the rest confidently.
 */
function toyBatch(seed: number): { x: Float64Array; labels: Float64Array } {
  const x = randomArray(N * CIN * H * W, seed);
  const labels = new Float64Array(N * H * W);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const left = j > 0 ? x[((n * CIN + 1) * H + i) * W + j - 1] : 0;
        const s = x[(n * CIN * H + i) * W + j] + left;
        labels[(n * H + i) * W + j] = Math.abs(s) < 0.15 ? -1 : s > 0 ? 1 : 0;
      }
    }
  }
  return { x, labels };
}

/** conv3×3 → ReLU → conv1×1 parameters, He-style initial values. */
function makeNet(): ParameterStore {
  const store = new ParameterStore({ capacity: 1024 });
  store.add("w1", [HIDDEN, CIN, 3, 3], randomArray(HIDDEN * CIN * 9, 31, -0.5, 0.5));
  store.add("b1", [HIDDEN], new Float32Array(HIDDEN));
  store.add("w2", [K, HIDDEN, 1, 1], randomArray(K * HIDDEN, 32, -0.5, 0.5));
  store.add("b2", [K], new Float32Array(K));
  return store;
}

function loss(store: ParameterStore, x: Tensor, labels: Tensor): Tensor {
  const p = (name: string) => store.get(name);
  const hidden = relu(conv2d(x, p("w1"), { bias: p("b1") }));
  return softmaxCrossEntropy(conv2d(hidden, p("w2"), { bias: p("b2") }), labels);
}

/** One training step, encoded only: zero the gradients, forward, backward, Adam. */
function trainStep(store: ParameterStore, x: Tensor, labels: Tensor, lr: number): Tensor {
  store.zeroGrad();
  const tape = new Tape();
  const value = tape.run(() => loss(store, x, labels));
  tape.backward(value);
  adamStep(store, { lr });
  return value;
}

gpuTest("autograd: a tiny two-layer conv net learns a toy target (loss falls 10×)", async () => {
  const store = makeNet();
  try {
    const batch = toyBatch(5);
    const x = Tensor.from(batch.x, [N, CIN, H, W]);
    const labels = Tensor.from(batch.labels, [N, 1, H, W]);
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const scope = TensorScope.begin();
      const value = trainStep(store, x, labels, 0.03);
      if (step % 10 === 0 || step === 59) losses.push((await value.read())[0]);
      scope.end();
    }
    const [first, last] = [losses[0], losses.at(-1)!];
    assert.ok(
      last * 10 <= first,
      `loss went from ${first} to ${last}, less than 10× (${losses.map((l) => l.toFixed(4))})`,
    );
  } finally {
    store.destroy();
  }
});

gpuTest(
  "autograd: a training step encodes without submitting; reading the loss submits once",
  async () => {
    const store = makeNet();
    try {
      const batch = toyBatch(6);
      const x = Tensor.from(batch.x, [N, CIN, H, W]);
      const labels = Tensor.from(batch.labels, [N, 1, H, W]);
      await trainStep(store, x, labels, 0.01).read(); // compiles the pipelines
      const [dispatches, submits] = [encoder.dispatchCount, encoder.submitCount];
      const value = trainStep(store, x, labels, 0.01);
      // 2 convs (fwd+3 grads each), ReLU, CE (2 fwd + 1 bwd), Adam: far more than a handful.
      assert.ok(encoder.dispatchCount - dispatches >= 8, "the step encoded its kernels");
      assert.equal(encoder.submitCount, submits, "nothing was submitted inside the step");
      const [v] = await value.read();
      assert.ok(Number.isFinite(v));
      assert.equal(encoder.submitCount, submits + 1, "reading the loss submits one command buffer");
    } finally {
      store.destroy();
    }
  },
);

gpuTest(
  "autograd: releaseSaved frees each op output once its backward ran, same gradients",
  async () => {
    const scope = TensorScope.begin();
    try {
      const values = randomArray(40, 7, -1, 1);
      const w = Tensor.from(randomArray(54, 8, -1, 1), [3, 2, 3, 3]);
      const grads: Float32Array[] = [];
      for (const releaseSaved of [false, true]) {
        const x = Tensor.from(values, [1, 2, 4, 5], { requiresGrad: true });
        const tape = new Tape();
        let a!: Tensor, b!: Tensor;
        const out = tape.run(() => {
          a = conv2d(x, w, { relu: true }); // its backward reads its own output, a
          b = mul(a, a); // and this one reads a after b's consumer is done
          return sum(b);
        });
        tape.backward(out, undefined, { releaseSaved });
        grads.push(await x.grad!.read());
        assert.equal(a.released && b.released, releaseSaved, "intermediate outputs released");
        assert.ok(!out.released && !x.released, "the output and the leaf are kept");
        assert.ok(Number.isFinite((await out.read())[0]));
      }
      assert.deepEqual(grads[1], grads[0]);
      assert.ok(grads[0].some((g) => g !== 0));
    } finally {
      scope.end();
    }
  },
);

gpuTest("autograd: gradients accumulate over two backward passes", async () => {
  const store = makeNet();
  try {
    const one = toyBatch(7);
    const two = toyBatch(8);
    const xs = [one, two].map((b) => Tensor.from(b.x, [N, CIN, H, W]));
    const ys = [one, two].map((b) => Tensor.from(b.labels, [N, 1, H, W]));
    const backward = (k: number) => {
      const tape = new Tape();
      tape.backward(tape.run(() => loss(store, xs[k], ys[k])));
    };
    const grads = async () =>
      new Map(
        await Promise.all(
          [...store.entries()].map(async ([n, t]) => [n, await t.grad!.read()] as const),
        ),
      );
    store.zeroGrad();
    backward(0);
    const g0 = await grads();
    store.zeroGrad();
    backward(1);
    const g1 = await grads();
    store.zeroGrad();
    backward(0);
    backward(1);
    const both = await grads();
    for (const [name, g] of both) {
      const want = g0.get(name)!.map((v, i) => v + g1.get(name)![i]);
      assert.ok(g.some((v) => v !== 0), `${name} has a gradient`);
      assertClose(g, want, { atol: 1e-6, rtol: 1e-4, what: name });
    }
    // Into cleared gradients the first contributions are buffer copies: one add dispatch fewer each.
    const dispatches = () => {
      const before = encoder.dispatchCount;
      backward(0);
      return encoder.dispatchCount - before;
    };
    store.zeroGrad();
    const copied = dispatches();
    const added = dispatches();
    assert.equal(added - copied, [...store.entries()].length);

    // Tensors outside a store: the second pass adds into the existing .grad.
    const t = Tensor.from(randomArray(5, 2, -1, 2).map(Math.floor), [1, 1, 1, 5]);
    const z = Tensor.from(randomArray(10, 3), [1, 2, 1, 5], { requiresGrad: true });
    for (let pass = 0; pass < 2; pass++) {
      const tape = new Tape();
      tape.backward(tape.run(() => softmaxCrossEntropy(z, t)));
    }
    const twice = await z.grad!.read();
    z.grad!.release();
    z.grad = null;
    const tape = new Tape();
    tape.backward(tape.run(() => softmaxCrossEntropy(z, t)));
    assertClose(twice, (await z.grad!.read()).map((v) => 2 * v), { what: "accumulated dlogits" });
  } finally {
    store.destroy();
  }
});
