// GPU network against the float64 reference network, for every ablation variant; streaming state.
import assert from "node:assert/strict";
import { Tensor } from "../gpu/tensor.ts";
import { releaseState, SegmentationNetwork } from "../model/network.ts";
import { referenceForward } from "../model/reference_network.ts";
import { assertClose } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { readParams, syntheticInput, TINY } from "./_model.ts";

for (const [name, config] of TINY) {
  gpuTest(
    `model: ${name} GPU forward matches the reference (train, then folded inference)`,
    async () => {
      const net = SegmentationNetwork.create(config, { seed: 3 });
      try {
        const params = await readParams(net);
        // Two sequences of two 32×32 slices.
        const shape = [4, 4, 32, 32];
        const x = syntheticInput(shape, 11);
        const logits = net.forward(Tensor.from(x, shape), { steps: 2, mode: "train" });
        const ref = referenceForward(params, x, { config, shape, steps: 2, mode: "train" });
        assert.deepEqual(logits.shape, [4, config.classes, 32, 32]);
        assertClose(await logits.read(), ref.logits.data, {
          atol: 2e-4,
          rtol: 2e-4,
          what: "train logits",
        });
        for (const [stat, want] of ref.stats) {
          assertClose(await net.tensor(stat).read(), want, { atol: 1e-4, rtol: 1e-4, what: stat });
        }

        // Inference on one window of 2 slices: BN folded, running statistics as just updated.
        const after = await readParams(net);
        const window = x.subarray(0, 2 * 4 * 32 * 32);
        const wshape = [2, 4, 32, 32];
        const out = net.step(Tensor.from(window, wshape), null, { output: "logits" });
        const refEval = referenceForward(after, window, {
          config,
          shape: wshape,
          steps: 2,
          mode: "eval",
        });
        assertClose(await out.logits!.read(), refEval.logits.data, {
          atol: 2e-4,
          rtol: 2e-4,
          what: "folded logits",
        });
        assert.equal(out.state === null, config.sequence === "none");
        releaseState(out.state);
      } finally {
        net.release();
      }
    },
  );
}

gpuTest("model: streaming two windows with carried state equals one long window", async () => {
  const [, config] = TINY.at(-1)!;
  assert.equal(config.sequence, "convlstm");
  const net = SegmentationNetwork.create(config, { seed: 5 });
  try {
    const shape = [4, 4, 32, 32];
    const x = syntheticInput(shape, 2);
    const half = 2 * 4 * 32 * 32;
    const whole = net.step(Tensor.from(x, shape), null, { output: "logits" });
    const first = net.step(Tensor.from(x.subarray(0, half), [2, 4, 32, 32]), null, {
      output: "logits",
    });
    const second = net.step(Tensor.from(x.subarray(half), [2, 4, 32, 32]), first.state, {
      output: "labels",
    });
    const all = await whole.logits!.read();
    assertClose(await first.logits!.read(), all.subarray(0, 2 * 4 * 1024), {
      atol: 1e-5,
      what: "window 1",
    });
    const labels = await second.labels!.read();
    assert.deepEqual(labels.length, 2 * 1024);
    // The second window's labels equal the argmax of the long window's last two slices.
    const tail = all.subarray(2 * 4 * 1024);
    let same = 0;
    for (let i = 0; i < 2; i++) {
      for (let p = 0; p < 1024; p++) {
        let best = 0;
        for (let k = 1; k < 4; k++) {
          if (tail[(i * 4 + k) * 1024 + p] > tail[(i * 4 + best) * 1024 + p]) best = k;
        }
        if (best === labels[i * 1024 + p]) same++;
      }
    }
    assert.ok(same >= 2 * 1024 - 2, `${same} of 2048 labels agree`);
    // Without the carried state the second window differs.
    const fresh = net.step(Tensor.from(x.subarray(half), [2, 4, 32, 32]), null, {
      output: "logits",
    });
    const a = await fresh.logits!.read();
    assert.ok(a.some((v, i) => Math.abs(v - tail[i]) > 1e-4), "state made no difference");
    for (const r of [whole, first, second, fresh]) releaseState(r.state);
  } finally {
    net.release();
  }
});

gpuTest("model: bad inputs give clear errors", () => {
  const [, config] = TINY[0];
  const net = SegmentationNetwork.create(config);
  try {
    assert.throws(() => net.forward(Tensor.zeros([2, 4, 30, 32])), /multiples of 16, got 30×32/);
    assert.throws(() => net.forward(Tensor.zeros([2, 3, 32, 32])), /must be \[N, 4, H, W\]/);
    assert.throws(() => net.forward(Tensor.zeros([3, 4, 32, 32]), { steps: 2 }), /sequences of 2/);
    assert.throws(() => net.tensor("enc.nope"), /No parameter named "enc.nope"/);
  } finally {
    net.release();
  }
});

gpuTest("model: folded inference follows parameter changes after invalidate()", async () => {
  const [, config] = TINY.find(([n]) => n === "mme+cmc+mrf+convlstm") ?? TINY[TINY.length - 1];
  const net = SegmentationNetwork.create(config, { seed: 5 });
  try {
    const shape = [2, 4, 32, 32];
    const x = syntheticInput(shape, 13);
    const run = async () => {
      const out = net.step(Tensor.from(x, shape), null, { output: "logits" });
      const values = await out.logits!.read();
      out.logits!.release();
      releaseState(out.state);
      return values;
    };
    const first = await run();
    assertClose(await run(), first, { atol: 0, rtol: 0, what: "repeat with cached packs" });
    // Scale every conv weight (folded and prepacked ones alike) and the head's bias.
    const before = await readParams(net);
    const changed = new Map<string, Float32Array>();
    for (const [name] of net.params.entries()) {
      const values = before.get(name)!;
      const scale = name.endsWith(".weight") || name === "head.bias";
      changed.set(name, scale ? values.map((v) => -1.5 * v + 0.01) : values);
    }
    net.params.load(changed);
    net.invalidate();
    const second = await run();
    const ref = referenceForward(await readParams(net), x, {
      config,
      shape,
      steps: 2,
      mode: "eval",
    });
    // Scaled weights grow the activations (and float32 rounding); stale packs would be off by far more.
    assertClose(second, ref.logits.data, { atol: 2e-3, rtol: 2e-3, what: "after the change" });
    assert.ok(second.some((v, i) => Math.abs(v - first[i]) > 1e-3), "the output changed");
  } finally {
    net.release();
  }
});
