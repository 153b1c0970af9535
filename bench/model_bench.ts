// The whole network: one inference window and one training step (batch 3 × sequence 3, forward,
// backward, Adam) at 240² and 128², widths 32-64-64-64 and 16-32-64-64.
// Run: deno bench -A bench/model_bench.ts   (slices/s = window slices / time; s/step = time).
// For slices/s, s/step and the per-kernel breakdown printed directly: deno run -A bench/model_report.ts
import { getDevice } from "../gpu/device.ts";
import { encoder } from "../gpu/kernel.ts";
import {
  inferWindow,
  makeCase,
  type ModelCase,
  releaseCase,
  SIZES,
  trainStep,
  WIDTHS,
} from "./_model_cases.ts";

await getDevice();
const WINDOW = 8;
let current: { key: string; c: ModelCase } | null = null;
// One case on the GPU at a time: a 240² training step alone holds a few GB of activations.
const caseFor = (widths: [number, number, number, number], size: number) => {
  const key = `${widths}-${size}`;
  if (current?.key !== key) {
    if (current) releaseCase(current.c);
    encoder.pool.trim();
    current = { key, c: makeCase(widths, size, WINDOW) };
  }
  return current.c;
};

for (const size of SIZES) {
  for (const widths of WIDTHS) {
    const tag = `${size}×${size} ${widths.join("-")}`;
    Deno.bench({
      name: `infer window of ${WINDOW} slices, ${tag}`,
      group: `infer ${size}`,
      n: 3,
      warmup: 1,
      async fn() {
        await inferWindow(caseFor(widths, size));
      },
    });
    Deno.bench({
      name: `train step 3×3, ${tag}`,
      group: `train ${size}`,
      n: 2,
      warmup: 1,
      async fn() {
        await trainStep(caseFor(widths, size));
      },
    });
  }
}
