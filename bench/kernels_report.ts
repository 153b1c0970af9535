// Times the kernel cases with GPU sync and prints a markdown table of ms and GFLOP/s.
import { describeAdapter, getDevice } from "../gpu/device.ts";
import { encoder, flush } from "../gpu/kernel.ts";
import {
  allCases,
  convCases,
  fmaCase,
  type KernelCase,
  releaseInputs,
  TRAIN_N,
} from "./_kernel_cases.ts";
import { benchArgs, benchInt } from "./_args.ts";

const values = benchArgs(
  `usage: deno run -A bench/kernels_report.ts [--filter TEXT] [--group NAME] [--variants]
         [--min-ms 300] [--rounds 2]`,
  {
    filter: { type: "string" },
    group: { type: "string" },
    variants: { type: "boolean", default: false },
    "min-ms": { type: "string", default: "300" },
    rounds: { type: "string", default: "2" },
  },
);
const minMs = benchInt("min-ms", values["min-ms"], 0);
const rounds = benchInt("rounds", values.rounds, 1);

const device = await getDevice();

async function sync(): Promise<void> {
  flush();
  await device.queue.onSubmittedWorkDone();
}

/** Times one run of each case per round, `rounds` times, interleaved so load changes hit all alike; keeps the fastest. */
async function timeRounds(cases: KernelCase[], rounds: number, minMs: number): Promise<number[]> {
  const best = cases.map(() => Infinity);
  const states = cases.map((c) => c.setup());
  for (const s of states) s.run(); // compiles the pipelines
  await sync();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const start = performance.now();
      let runs = 0;
      while (runs < 1 || (performance.now() - start < minMs && runs < 20)) {
        const t0 = performance.now();
        states[i].run();
        await sync();
        best[i] = Math.min(best[i], performance.now() - t0);
        runs++;
      }
    }
  }
  for (const s of states) s.dispose();
  await sync();
  return best;
}

// Register tiles compared at the goal shapes, interleaved with the FMA ceiling (the machine is shared).
function variantCases(): KernelCase[] {
  const shapes = [
    { label: "64→64 @60", n: TRAIN_N, cin: 64, cout: 64, size: 60, k: 3 },
    { label: "64→64 @120", n: TRAIN_N, cin: 64, cout: 64, size: 120, k: 3 },
  ];
  const out: KernelCase[] = [];
  for (const s of shapes) {
    out.push({ ...fmaCase(), group: s.label });
    const tiles = [
      { px: 4, co: 4, padded: true },
      { px: 8, co: 8 },
      { px: 8, co: 16 },
      { px: 12, co: 8, padded: true },
      { px: 8, co: 8, texture: true },
      { px: 4, co: 8, texture: true },
      { px: 8, co: 4, texture: true },
      { px: 12, co: 4, texture: true },
    ];
    for (const tile of tiles) {
      const how = tile.texture ? " texture" : tile.padded ? " padded" : "";
      const suffix = `direct ${tile.px}px×${tile.co}co${how}`;
      out.push(convCases(s, { algorithm: "direct", tile, suffix })[0]);
    }
    const winogradTiles = [
      { tiles: 1, co: 4 },
      { tiles: 2, co: 8 },
      {
        tiles: 2,
        co: 8,
        padded: true,
      },
      {
        tiles: 4,
        co: 4,
        padded: true,
      },
      { tiles: 2, co: 8, texture: true },
      { tiles: 2, co: 4, texture: true },
      {
        tiles: 4,
        co: 4,
        texture: true,
      },
      { tiles: 2, co: 16, texture: true },
      { tiles: 4, co: 8, texture: true },
      {
        tiles: 6,
        co: 4,
        texture: true,
      },
    ];
    for (const winogradTile of winogradTiles) {
      const { tiles, co } = winogradTile;
      const pad = winogradTile.texture ? " texture" : winogradTile.padded ? " padded" : "";
      out.push(convCases(s, { winogradTile, suffix: `winograd ${tiles}t×${co}co${pad}` })[0]);
    }
    const windowTiles = [
      { px: 2, co: 16 },
      { px: 4, co: 16, padded: true },
      { px: 4, co: 8, padded: true },
      { px: 8, co: 8, padded: true },
      { px: 4, co: 8, texture: true },
      { px: 4, co: 16, texture: true },
      { px: 8, co: 8, texture: true },
      { px: 8, co: 4, texture: true },
    ];
    for (const windowGradTile of windowTiles) {
      const how = windowGradTile.texture ? " texture" : windowGradTile.padded ? " padded" : "";
      const suffix = `window ${windowGradTile.px}px×${windowGradTile.co}co${how}`;
      out.push(convCases(s, { gradAlgorithm: "window", windowGradTile, suffix })[2]);
    }
    // dy's rows bound in place (the default where it applies: rows of whole px-pixel steps).
    const rowsTiles = [
      { px: 4, co: 8, texture: true },
      { px: 8, co: 8, texture: true },
      { px: 4, co: 4, texture: true },
    ].filter((t) => s.size % t.px === 0);
    for (const windowGradTile of rowsTiles) {
      const suffix = `rows ${windowGradTile.px}px×${windowGradTile.co}co texture`;
      out.push(convCases(s, { gradAlgorithm: "rows", windowGradTile, suffix })[2]);
    }
  }
  // 1×1 weight gradients (cross-modality convs, the head): windows, or dy's rows with 1-8 input
  // channels per lane.
  const pointwise = [
    { label: "1×1 128→32 @120", n: TRAIN_N, cin: 128, cout: 32, size: 120, k: 1 },
    { label: "1×1 32→4 @240", n: TRAIN_N, cin: 32, cout: 4, size: 240, k: 1 },
    { label: "1×1 256→64 @60", n: TRAIN_N, cin: 256, cout: 64, size: 60, k: 1 },
  ];
  for (const s of pointwise) {
    out.push({ ...fmaCase(), group: s.label });
    const windowGradTile = { px: s.size % 8 ? 4 : 8, co: 8, texture: true };
    out.push(convCases(s, { gradAlgorithm: "window", windowGradTile, suffix: "window" })[2]);
    for (const ci of [1, 2, 4, 8]) {
      const tile = { ...windowGradTile, ci };
      out.push(
        convCases(s, { gradAlgorithm: "rows", windowGradTile: tile, suffix: `rows ${ci}ci` })[2],
      );
    }
  }
  // Few input channels (each modality's first two convs at the small widths): the chunked kernel.
  const narrow = [
    { label: "1→8 @240", n: TRAIN_N, cin: 1, cout: 8, size: 240, k: 3 },
    { label: "8→16 @120", n: TRAIN_N, cin: 8, cout: 16, size: 120, k: 3 },
  ];
  for (const s of narrow) {
    out.push({ ...fmaCase(), group: s.label });
    const ci = s.cin < 4 ? 1 : 4;
    const chunkedTiles = [
      { px: 2, co: 8, ci },
      { px: 4, co: 8, ci, texture: true },
      { px: 8, co: 8, ci, texture: true },
      { px: 4, co: 8, ci: 1, texture: true },
      { px: 4, co: 4, ci, texture: true },
    ];
    for (const chunkedGradTile of chunkedTiles) {
      const { px, co } = chunkedGradTile;
      const how = chunkedGradTile.texture ? " texture" : "";
      const suffix = `chunked ${px}px×${co}co×${chunkedGradTile.ci}ci${how}`;
      out.push(convCases(s, { gradAlgorithm: "chunked", chunkedGradTile, suffix })[2]);
    }
  }
  return out;
}

const cases = (values.variants ? variantCases() : allCases())
  .filter((c) => !values.filter || c.name.includes(values.filter) || c.group === "ceilings")
  .filter((c) => !values.group || c.group === values.group);
console.log(
  `Adapter: ${await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") })}\n`,
);
console.log("| kernel | ms | GFLOP/s | % of FMA loop |");
console.log("|---|---:|---:|---:|");
let ceiling = 0;
// Cases of one group share inputs and are timed in interleaved rounds.
const groups = new Map<string, KernelCase[]>();
for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
for (const group of groups.values()) {
  const ms = await timeRounds(group, rounds, minMs);
  group.forEach((c, i) => {
    const gflops = c.flops / ms[i] / 1e6;
    if (c.name === fmaCase().name) ceiling = gflops;
    const share = ceiling ? `${(100 * gflops / ceiling).toFixed(0)}%` : "";
    console.log(`| ${c.name} | ${ms[i].toFixed(2)} | ${gflops.toFixed(1)} | ${share} |`);
  });
  releaseInputs();
  encoder.pool.trim();
}
