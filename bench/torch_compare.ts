// Our network against the PyTorch twin on this CPU, back to back per grid point: inference
// slices/s and training s/step with their ratios, the CPU model and the adapter's FMA ceiling
// measured in the same run. Needs Debian's python3-torch (see the README). `--help` for the flags.
import { fileURLToPath } from "node:url";
import { describeAdapter, getDevice } from "../gpu/device.ts";
import { encoder, flush } from "../gpu/kernel.ts";
import { fmaCase } from "./_kernel_cases.ts";
import { inferWindow, makeCase, releaseCase, timeIt, trainStep } from "./_model_cases.ts";
import { benchArgs, benchInt, benchSizes, benchWidths } from "./_args.ts";

const args = benchArgs(
  `usage: deno task bench:torch [--sizes 240,128] [--widths "32,64,64,64;16,32,64,64;8,16,32,32"]
         [--reps 5] [--window 8] [--python /usr/bin/python3] [--json FILE]`,
  {
    sizes: { type: "string", default: "240,128" },
    widths: { type: "string", default: "32,64,64,64;16,32,64,64;8,16,32,32" },
    reps: { type: "string", default: "5" },
    window: { type: "string", default: "8" },
    python: { type: "string", default: "/usr/bin/python3" },
    json: { type: "string" },
  },
);
const reps = benchInt("reps", args.reps, 1);
const window = benchInt("window", args.window, 1);
const sizes = benchSizes("sizes", args.sizes);
const widthSets = benchWidths("widths", args.widths);
const peerScript = fileURLToPath(new URL("../../shared/peers/bench_torch.py", import.meta.url));

/** Best and median of sorted times. */
interface Spread {
  best: number;
  median: number;
}
const spread = (sorted: number[]): Spread => ({
  best: sorted[0],
  median: sorted[sorted.length >> 1],
});

function cpuModel(): string {
  try {
    const line = Deno.readTextFileSync("/proc/cpuinfo").split("\n").find((l) =>
      l.startsWith("model name")
    );
    return `${
      line?.split(":")[1]?.trim() ?? "unknown CPU"
    }, ${navigator.hardwareConcurrency} threads`;
  } catch {
    return `unknown CPU, ${navigator.hardwareConcurrency} threads`;
  }
}

async function fmaCeiling(): Promise<number> {
  const device = await getDevice();
  const c = fmaCase();
  const state = c.setup();
  const ts: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    state.run();
    flush();
    await device.queue.onSubmittedWorkDone();
    if (i > 0) ts.push(performance.now() - t);
  }
  state.dispose();
  return c.flops / Math.min(...ts) / 1e6;
}

/** The PyTorch version the twin runs on (throws one line when python or torch is missing). */
async function torchVersion(): Promise<string> {
  const code = "import torch; print(torch.__version__)";
  try {
    const out = await new Deno.Command(args.python, { args: ["-c", code], stderr: "null" })
      .output();
    if (out.success) return new TextDecoder().decode(out.stdout).trim();
  } catch {
    // reported below
  }
  throw new Error(`${args.python} cannot import torch (apt-get install python3-torch)`);
}

/** The twin's slices/s (inference) and s/step (training) at one point, from its JSON lines. */
async function torchPoint(size: number, widths: string): Promise<{ infer: Spread; train: Spread }> {
  const cmd = [
    peerScript,
    "--what",
    "infer,train",
    "--reps",
    String(reps),
    "--sizes",
    String(size),
  ];
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(args.python, { args: [...cmd, "--widths", widths] }).output();
  } catch (e) {
    throw new Error(`${args.python}: cannot run (${(e as Error).message})`);
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
    throw new Error(`${peerScript}: ${err || `exit ${out.code}`}`);
  }
  const rows = text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const inf = rows.find((r) => r.test === "infer");
  const tr = rows.find((r) => r.test === "train_step_b3_t3");
  if (!inf || !tr) throw new Error(`${peerScript}: no ${inf ? "train_step_b3_t3" : "infer"} row`);
  return {
    infer: { best: inf.slices_per_s_best, median: inf.slices_per_s_median },
    train: { best: tr.s_best, median: tr.s_median },
  };
}

const fixed = (v: number, d = 2) => v.toFixed(d);
try {
  await Deno.stat(peerScript).catch(() => {
    throw new Error(`${peerScript}: not found (the PyTorch twin lives in ../shared/peers/)`);
  });
  const torch = await torchVersion();
  await getDevice();
  const adapter = await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") });
  console.log(`CPU: ${cpuModel()}\nAdapter: ${adapter}\nPyTorch: ${torch} (${args.python})`);
  if (navigator.hardwareConcurrency !== 2) {
    // bench_torch.py pins PyTorch to 2 threads; llvmpipe uses every core.
    console.log(`warning: ${navigator.hardwareConcurrency} cores, PyTorch runs on 2 threads`);
  }
  const fma = await fmaCeiling();
  console.log(`FMA loop: ${fixed(fma, 1)} GFLOP/s; ${reps} repeats, best (median)\n`);
  console.log(
    "| size, widths | inference slices/s, ours / PyTorch | ratio | training s/step, ours / PyTorch | ratio (ours ÷ PyTorch time) |",
  );
  console.log("| --- | --- | ---: | --- | ---: |");
  const results = [];
  for (const size of sizes) {
    for (const widths of widthSets) {
      const c = makeCase(widths, size, window);
      const infer = spread(await timeIt(() => inferWindow(c), reps));
      const train = spread(await timeIt(() => trainStep(c), reps));
      releaseCase(c);
      encoder.pool.trim();
      const ours = {
        infer: { best: window / (infer.best / 1000), median: window / (infer.median / 1000) },
        train: { best: train.best / 1000, median: train.median / 1000 },
      };
      const peer = await torchPoint(size, widths.join(","));
      results.push({ size, widths, ours, peer });
      const pair = (a: Spread, b: Spread) =>
        `${fixed(a.best)} (${fixed(a.median)}) / ${fixed(b.best)} (${fixed(b.median)})`;
      console.log(
        `| ${size}², ${widths.join("-")} | ${pair(ours.infer, peer.infer)} | ${
          fixed(ours.infer.best / peer.infer.best)
        }× | ${pair(ours.train, peer.train)} | ${fixed(ours.train.best / peer.train.best)}× |`,
      );
    }
  }
  if (args.json) {
    await Deno.writeTextFile(
      args.json,
      JSON.stringify({ cpu: cpuModel(), adapter, torch, fma, reps, results }, null, 2) + "\n",
    );
  }
} catch (e) {
  console.error(`bench:torch: ${(e as Error).message}`);
  Deno.exit(1);
}
