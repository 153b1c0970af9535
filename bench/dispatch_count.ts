// Dispatches per training step and per inference window, at the benchmark shapes of _model_cases.ts
// (the speed issue's count; no timing). `--help` for the flags.
import { describeAdapter, getDevice } from "../gpu/device.ts";
import { encoder } from "../gpu/kernel.ts";
import { inferWindow, makeCase, releaseCase, trainStep } from "./_model_cases.ts";
import { benchArgs, benchSizes, benchWidths } from "./_args.ts";

const args = benchArgs(
  `usage: deno run -A bench/dispatch_count.ts [--sizes 64,240] [--widths "8,16,32,32;32,64,64,64"]`,
  {
    sizes: { type: "string", default: "64,240" },
    widths: { type: "string", default: "8,16,32,32;32,64,64,64" },
  },
);
const sizes = benchSizes("sizes", args.sizes);
const widthSets = benchWidths("widths", args.widths);
await getDevice();
console.log(`Adapter: ${await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") })}`);

/** Dispatches `fn` encodes, after one warm-up call (the first one packs and folds weights). */
async function count(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const before = encoder.dispatchCount;
  await fn();
  return encoder.dispatchCount - before;
}

for (const size of sizes) {
  for (const widths of widthSets) {
    const c = makeCase(widths, size, 8);
    const train = await count(() => trainStep(c));
    const infer = await count(() => inferWindow(c));
    console.log(
      `${size}² ${widths.join("-")}: training step ${train} dispatches, inference window ${infer}`,
    );
    releaseCase(c);
    encoder.pool.trim();
  }
}
