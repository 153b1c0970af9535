// Convolution kernels at the default network's shapes, plus the adapter's ceilings (FMA loop,
// tiled matmul). Run: deno bench -A bench/kernels_bench.ts. GFLOP/s: deno run -A bench/kernels_report.ts.
import { getDevice } from "../gpu/device.ts";
import { flush } from "../gpu/kernel.ts";
import { allCases } from "./_kernel_cases.ts";

const device = await getDevice();

for (const c of allCases()) {
  let state: ReturnType<typeof c.setup> | null = null;
  Deno.bench({
    name: `${c.name} (${(c.flops / 1e9).toFixed(2)} GFLOP)`,
    group: c.group,
    // Runs take 10 ms to 2 s on a software adapter: a few samples are enough.
    n: 5,
    warmup: 1,
    async fn(b) {
      state ??= c.setup();
      b.start();
      state.run();
      flush();
      await device.queue.onSubmittedWorkDone();
      b.end();
    },
  });
}
