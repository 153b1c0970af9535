// Prints slices/s (inference window) and s/step (training step) for the model grid, and where the
// time goes: every dispatch of one window / one step is recorded, then replayed alone on the GPU
// and timed, and the times are summed per kernel. `--help` for the flags.
import { describeAdapter, getDevice } from "../gpu/device.ts";
import { encoder, flush } from "../gpu/kernel.ts";
import {
  inferWindow,
  makeCase,
  type ModelCase,
  releaseCase,
  timeIt,
  trainStep,
} from "./_model_cases.ts";
import { benchArgs, benchInt, benchSizes, benchWidths } from "./_args.ts";

const args = benchArgs(
  `usage: deno run -A bench/model_report.ts [--sizes 240,128] [--widths "32,64,64,64;16,32,64,64"]
         [--window 8] [--reps 3] [--profile [--top 14] [--list]]`,
  {
    sizes: { type: "string", default: "240,128" },
    widths: { type: "string", default: "32,64,64,64;16,32,64,64" },
    window: { type: "string", default: "8" },
    reps: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    top: { type: "string", default: "14" },
    list: { type: "boolean", default: false },
  },
);
const reps = benchInt("reps", args.reps, 1);
const top = benchInt("top", args.top, 1);
const window = benchInt("window", args.window, 1);
const sizes = benchSizes("sizes", args.sizes);
const widthSets = benchWidths("widths", args.widths);
const device = await getDevice();
console.log(`Adapter: ${await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") })}`);

interface Recorded {
  name: string;
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  wg: [number, number, number];
}

/** Runs `fn` while recording every dispatch it encodes. */
async function record(fn: () => Promise<unknown>): Promise<Recorded[]> {
  const out: Recorded[] = [];
  const original = encoder.pass.bind(encoder);
  encoder.pass = (d: GPUDevice) => {
    const pass = original(d);
    let pipeline: GPUComputePipeline;
    let group: GPUBindGroup;
    return {
      setPipeline(p: GPUComputePipeline) {
        pipeline = p;
        pass.setPipeline(p);
      },
      setBindGroup(i: number, g: GPUBindGroup) {
        group = g;
        pass.setBindGroup(i, g);
      },
      dispatchWorkgroups(x: number, y = 1, z = 1) {
        out.push({ name: pipeline.label, pipeline, group, wg: [x, y, z] });
        pass.dispatchWorkgroups(x, y, z);
      },
    } as unknown as GPUComputePassEncoder;
  };
  try {
    await fn();
  } finally {
    encoder.pass = original;
  }
  return out;
}

/** GPU time of each recorded dispatch run alone (median of 3 submits, minus an empty submit's time). */
async function replay(dispatches: Recorded[]): Promise<number[]> {
  flush();
  await device.queue.onSubmittedWorkDone();
  const submit = async (list: Recorded[]) => {
    const e = device.createCommandEncoder();
    const pass = e.beginComputePass();
    for (const r of list) {
      pass.setPipeline(r.pipeline);
      pass.setBindGroup(0, r.group);
      pass.dispatchWorkgroups(...r.wg);
    }
    pass.end();
    const t = performance.now();
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t;
  };
  const median = async (list: Recorded[]) => {
    const ts = [await submit(list), await submit(list), await submit(list)].sort((a, b) => a - b);
    return ts[1];
  };
  const empty = await median([]);
  const times: number[] = [];
  // Five back-to-back copies amortise the per-submit cost that dominates small kernels.
  for (const r of dispatches) times.push(Math.max(0, (await median([r, r, r, r, r])) - empty) / 5);
  return times;
}

/** Prints the dispatches' time per kernel family (and with `--list`, every dispatch in order). */
async function printBreakdown(title: string, wall: number, dispatches: Recorded[]) {
  const times = await replay(dispatches);
  const totals = new Map<string, { ms: number; count: number }>();
  dispatches.forEach((r, i) => {
    const t = totals.get(r.name) ?? { ms: 0, count: 0 };
    t.ms += times[i];
    t.count++;
    totals.set(r.name, t);
  });
  const sum = times.reduce((s, t) => s + t, 0);
  console.log(
    `  ${title}: ${dispatches.length} dispatches, replayed alone ${sum.toFixed(0)} ms (wall ${
      wall.toFixed(0)
    } ms)`,
  );
  for (
    const [name, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)
  ) {
    console.log(
      `    ${name.padEnd(34)} ${t.ms.toFixed(1).padStart(8)} ms ${
        (100 * t.ms / sum).toFixed(1).padStart(5)
      }%  ×${t.count}`,
    );
  }
  if (!args.list) return;
  dispatches.forEach((r, i) =>
    console.log(
      `    #${String(i).padStart(4)} ${r.name.padEnd(34)} [${r.wg}] ${times[i].toFixed(3)} ms`,
    )
  );
}

for (const size of sizes) {
  for (const widths of widthSets) {
    const c: ModelCase = makeCase(widths, size, window);
    const infer = await timeIt(() => inferWindow(c), reps);
    const train = await timeIt(() => trainStep(c), reps);
    console.log(
      `${c.label}: inference ${(window / (infer[0] / 1000)).toFixed(2)} slices/s best, ` +
        `${
          (window / (infer[infer.length >> 1] / 1000)).toFixed(2)
        } median (window of ${window}); ` +
        `training ${(train[0] / 1000).toFixed(2)} s/step best, ${
          (train[train.length >> 1] / 1000).toFixed(2)
        } median`,
    );
    if (args.profile) {
      // The training steps since dropped the folded weights: one window refolds them, as segment's
      // first window does, so the recorded window is a steady-state one.
      await inferWindow(c);
      await printBreakdown("inference window", infer[0], await record(() => inferWindow(c)));
      await printBreakdown("training step", train[0], await record(() => trainStep(c)));
    }
    releaseCase(c);
    encoder.pool.trim();
  }
}
