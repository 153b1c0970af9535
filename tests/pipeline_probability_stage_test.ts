import assert from "node:assert/strict";
import { quantiseProbabilities } from "../pipeline/probability_stage.ts";

Deno.test("quantised probabilities sum to 255 exactly, each within one unit of p × 255", () => {
  const classes = 4, area = 5000;
  let s = 7;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const p = new Float32Array(classes * area);
  for (let i = 0; i < area; i++) {
    const e = [0, 1, 2, 3].map(() => Math.exp(6 * rand() - 3) * (rand() < 0.2 ? 1e-6 : 1));
    const sum = e.reduce((a, b) => a + b);
    e.forEach((v, c) => (p[c * area + i] = v / sum));
  }
  const q = quantiseProbabilities(p, classes, area);
  for (let i = 0; i < area; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      sum += q[c * area + i];
      assert.ok(Math.abs(q[c * area + i] - p[c * area + i] * 255) < 1, `voxel ${i} class ${c}`);
    }
    assert.equal(sum, 255);
  }
  assert.deepEqual(
    quantiseProbabilities(Float32Array.from([1, 0]), 2, 1),
    Uint8Array.from([255, 0]),
  );
});
