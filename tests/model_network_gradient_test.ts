// Whole-network gradients on the GPU against finite differences of the float64 reference network.
import assert from "node:assert/strict";
import { Tape } from "../gpu/autograd.ts";
import {
  softmaxCrossEntropy,
  softmaxCrossEntropyReference,
} from "../gpu/ops/softmax_cross_entropy.ts";
import { Tensor } from "../gpu/tensor.ts";
import { modelConfig } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { referenceForward } from "../model/reference_network.ts";
import { gpuTest } from "./_gpu.ts";
import { readParams, syntheticInput, syntheticLabels } from "./_model.ts";

for (const preset of ["mme+cmc+mrf+convlstm", "unet"]) {
  gpuTest(`model: ${preset} whole-network gradients match finite differences`, async () => {
    const config = modelConfig(preset, { widths: [3, 4, 4, 5] });
    const net = SegmentationNetwork.create(config, { seed: 9 });
    try {
      // Two sequences of two 16×16 slices; the deepest maps are 1×1, so BN sees 4 values.
      const shape = [4, 4, 16, 16];
      const x = syntheticInput(shape, 4);
      const labels = syntheticLabels(shape);
      const params = await readParams(net);
      const tape = new Tape();
      const loss = tape.run(() =>
        softmaxCrossEntropy(
          net.forward(Tensor.from(x, shape), { steps: 2 }),
          Tensor.from(labels, [4, 1, 16, 16]),
        )
      );
      tape.backward(loss);

      const refLoss = (p: Map<string, Float32Array | Float64Array>) => {
        const { logits } = referenceForward(p, x, { config, shape, steps: 2 });
        return softmaxCrossEntropyReference(logits.data, labels, { dims: logits.shape })[0];
      };
      const base = new Map<string, Float32Array | Float64Array>(
        [...params].map(([k, v]) => [k, Float64Array.from(v)]),
      );
      assert.ok(
        Math.abs((await loss.read())[0] - refLoss(base)) < 1e-4,
        "loss differs from the reference",
      );

      const grads = new Map<string, Float32Array>();
      for (const [name, t] of net.params.entries()) grads.set(name, await t.grad!.read());
      const all = [...grads.values()].flatMap((g) => [...g]);
      const scale = Math.sqrt(all.reduce((s, v) => s + v * v, 0) / all.length);
      const eps = 1e-5;
      let checked = 0;
      // Two elements of every trainable tensor: its largest gradient and one in the middle.
      for (const [name, g] of grads) {
        let big = 0;
        g.forEach((v, i) => (Math.abs(v) > Math.abs(g[big]) ? (big = i) : 0));
        for (const i of new Set([big, Math.floor(g.length / 2)])) {
          const p = base.get(name)!;
          const keep = p[i];
          p[i] = keep + eps;
          const up = refLoss(base);
          p[i] = keep - eps;
          const down = refLoss(base);
          p[i] = keep;
          const numeric = (up - down) / (2 * eps);
          const err = Math.abs(numeric - g[i]);
          assert.ok(
            err <= 2e-3 * Math.abs(numeric) + 1e-3 * scale,
            `${name}[${i}]: GPU gradient ${g[i]}, finite differences ${numeric} (scale ${scale})`,
          );
          checked++;
        }
      }
      assert.ok(checked >= 2 * config.widths.length, `only ${checked} gradients checked`);
    } finally {
      net.release();
    }
  });
}
