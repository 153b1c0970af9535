/**
 * Peak memory of `segment` does not grow with depth: segments a
 * 240×240×155 phantom and the same case stacked to four times the depth
 * (620 slices), each in a fresh process, and compares their peak resident
 * set size (Linux `VmHWM`). The threshold is a ratio of 1.15: the bench
 * prints both peaks, the ratio and the threshold, and exits 1 above it.
 *
 *     deno run -A bench/segment_memory.ts [--widths 8,8,8,8] [--size 240,240,155]
 *       [--times 4] [--model FILE] [--tta] [--window T,O] [--min-enhancing N]
 *
 * A small random-weight network is the default: its smaller baseline makes
 * any growth with depth stand out more.
 *
 * @module
 */

import { writeNifti } from "../io/nifti.ts";
import { generatePhantom } from "../data/phantom.ts";
import { getDevice } from "../gpu/device.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { benchArgs, benchInt, benchInts, benchWidths } from "./_args.ts";

/** Highest accepted peak-RSS ratio of the 4× deeper case to the short one. */
const MAX_RATIO = 1.15;

function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

async function child(args: string[]): Promise<void> {
  const { run } = await import("../cli/segment.ts");
  const code = await run(args);
  console.log(JSON.stringify({ code, peakRssMiB: peakRssMiB() }));
}

async function writeCase(dir: string, id: string, size: [number, number, number], times: number) {
  const p = generatePhantom({ size, seed: 21 });
  const shape = [size[0], size[1], size[2] * times];
  await Deno.mkdir(`${dir}/${id}`, { recursive: true });
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    const data = new Int16Array(p.modalities[m].length * times);
    for (let k = 0; k < times; k++) data.set(p.modalities[m], k * p.modalities[m].length);
    await writeNifti(`${dir}/${id}/${id}_${m}.nii.gz`, data, {
      shape,
      datatype: "int16",
      affine: p.affine,
    });
  }
}

async function measure(input: string, out: string, extra: string[]) {
  const self = new URL(import.meta.url).pathname;
  const t0 = performance.now();
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--child", input, out, ...extra],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(result.stdout).trim().split("\n");
  const report = JSON.parse(lines.at(-1)!);
  return { ...report, seconds: (performance.now() - t0) / 1000 };
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    await child(Deno.args.slice(1));
  } else {
    const values = benchArgs(
      `usage: deno run -A bench/segment_memory.ts [--widths 8,8,8,8] [--size 240,240,155]
         [--times 4] [--model FILE] [--tta] [--window T,O] [--min-enhancing N]`,
      {
        widths: { type: "string", default: "8,8,8,8" },
        size: { type: "string", default: "240,240,155" },
        times: { type: "string", default: "4" },
        model: { type: "string" },
        tta: { type: "boolean", default: false },
        window: { type: "string" },
        "min-enhancing": { type: "string" },
      },
    );
    const size = benchInts("size", values.size, 1, 3) as [number, number, number];
    const [widths] = benchWidths("widths", values.widths, 1);
    const times = benchInt("times", values.times, 2);
    const dir = await Deno.makeTempDir({ prefix: "segment_memory_" });
    let ok = false;
    try {
      let model = values.model;
      if (!model) {
        await getDevice();
        const net = SegmentationNetwork.create({ ...DEFAULT_CONFIG, widths }, { seed: 1 });
        model = `${dir}/model.safetensors`;
        await saveCheckpoint(model, net, { labels: "brats2017" });
        net.release();
      }
      const extra = ["--model", model];
      if (values.tta) extra.push("--tta");
      if (values.window) extra.push("--window", values.window);
      if (values["min-enhancing"]) extra.push("--min-enhancing", values["min-enhancing"]);
      await writeCase(`${dir}/short`, "short", size, 1);
      await writeCase(`${dir}/long`, "long", size, times);
      const short = await measure(`${dir}/short`, `${dir}/out_short`, extra);
      const long = await measure(`${dir}/long`, `${dir}/out_long`, extra);
      const ratio = long.peakRssMiB / short.peakRssMiB;
      ok = short.code === 0 && long.code === 0 && ratio <= MAX_RATIO;
      console.log(JSON.stringify({
        test: "segment_memory",
        size,
        times,
        options: extra.slice(2),
        short: {
          slices: size[2],
          peakRssMiB: +short.peakRssMiB.toFixed(1),
          seconds: +short.seconds.toFixed(1),
        },
        long: {
          slices: size[2] * times,
          peakRssMiB: +long.peakRssMiB.toFixed(1),
          seconds: +long.seconds.toFixed(1),
        },
        ratio: +ratio.toFixed(3),
        threshold: MAX_RATIO,
        ok,
      }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    if (!ok) {
      console.error(`peak RSS ratio above ${MAX_RATIO} (or a run failed)`);
      Deno.exit(1);
    }
  }
}
