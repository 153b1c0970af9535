// The default network overfits one small synthetic window (training path: tape, CE, Adam, BN stats).
import assert from "node:assert/strict";
import { Tape } from "../gpu/autograd.ts";
import { adamStep } from "../gpu/ops/adam.ts";
import { softmaxCrossEntropy } from "../gpu/ops/softmax_cross_entropy.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";
import { modelConfig } from "../model/config.ts";
import { releaseState, SegmentationNetwork } from "../model/network.ts";
import { gpuTest } from "./_gpu.ts";
import { syntheticInput, syntheticLabels } from "./_model.ts";

gpuTest("model: the default network overfits one small window to near-zero loss", async () => {
  const config = modelConfig("mme+cmc+mrf+convlstm", { widths: [8, 8, 8, 8] });
  const net = SegmentationNetwork.create(config, { seed: 1 });
  try {
    const shape = [3, 4, 32, 32];
    const x = Tensor.from(syntheticInput(shape, 21), shape);
    const y = Tensor.from(syntheticLabels(shape), [3, 1, 32, 32]);
    let first = 0;
    let last = 0;
    for (let step = 0; step < 70; step++) {
      const scope = TensorScope.begin();
      const tape = new Tape();
      net.params.zeroGrad();
      const loss = tape.run(() => softmaxCrossEntropy(net.forward(x, { steps: 3 }), y));
      tape.backward(loss);
      adamStep(net.params, { lr: 0.02 });
      if (step === 0 || step === 69) {
        const value = (await loss.read())[0];
        if (step === 0) first = value;
        else last = value;
      }
      scope.end();
    }
    console.log(`overfit: loss ${first.toFixed(3)} -> ${last.toFixed(4)} in 70 Adam steps`);
    assert.ok(last < 0.05 && last < first / 20, `loss ${first} -> ${last}`);
    // Inference (folded BN, running statistics) now labels the window almost perfectly too.
    const out = net.step(x, null, { output: "labels" });
    const got = await out.labels!.read();
    const want = syntheticLabels(shape);
    const correct = got.filter((v, i) => v === want[i]).length;
    assert.ok(correct / want.length > 0.97, `inference accuracy ${correct / want.length}`);
    releaseState(out.state);
  } finally {
    net.release();
  }
});
