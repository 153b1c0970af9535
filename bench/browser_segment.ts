/**
 * One case through the page in headless Chromium (WebGPU on SwiftShader,
 * the network in the page's worker) against the same case through
 * `segmentNifti` in Deno (WebGPU on this machine's adapter), interleaved
 * repeat by repeat so both see the same load. Prints best and median
 * seconds of each, slices per second and the ratio, with the CPU named.
 *
 *     deno run -A bench/browser_segment.ts [--size 240,240,155] [--repeats 5] [--tta]
 *       [--screenshot FILE]
 *
 * The page also gets the case's `_seg` file (Dice is computed after the
 * timed segmentation); `--screenshot` saves the page after the last repeat
 * (the README's picture: `--size 160,160,48 --repeats 1 --screenshot web/screenshot.png`).
 *
 * Needs Chromium (apt-get install chromium, or CHROMIUM=/path/to/chrome).
 *
 * @module
 */

import { launchChromium } from "../cli/_chromium.ts";
import { buildSite, serveSite } from "../cli/_site.ts";
import { generatePhantom } from "../data/phantom.ts";
import { describeAdapter } from "../gpu/device.ts";
import { loadModel } from "../io/checkpoint.ts";
import { writeNifti } from "../io/nifti.ts";
import { DEFAULT_MODEL_URL } from "../model/default_model.ts";
import { segmentNifti } from "../pipeline/segment_nifti.ts";
import { benchArgs, benchInt, benchInts } from "./_args.ts";

const MODALITIES = ["flair", "t1", "t1ce", "t2"] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const cpu = () => /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1];

if (import.meta.main) {
  const values = benchArgs(
    `usage: deno run -A bench/browser_segment.ts [--size 240,240,155] [--repeats 5] [--tta]
         [--screenshot FILE]`,
    {
      size: { type: "string", default: "240,240,155" },
      repeats: { type: "string", default: "5" },
      tta: { type: "boolean", default: false },
      screenshot: { type: "string" },
    },
  );
  const size = benchInts("size", values.size, 1, 3) as [number, number, number];
  const repeats = benchInt("repeats", values.repeats, 1);
  const dir = await Deno.makeTempDir({ prefix: "browser_bench_" });
  try {
    await buildSite(`${dir}/app`);
    const phantom = generatePhantom({ size, seed: 21 });
    const paths = MODALITIES.map((m) => `${dir}/case/c1_${m}.nii.gz`);
    await Deno.mkdir(`${dir}/case`);
    for (const [k, m] of MODALITIES.entries()) {
      const options = { shape: size, datatype: "int16", affine: phantom.affine } as const;
      await writeNifti(paths[k], phantom.modalities[m], options);
    }
    const seg = `${dir}/case/c1_seg.nii.gz`;
    await writeNifti(seg, phantom.label, {
      shape: size,
      datatype: "uint8",
      affine: phantom.affine,
    });
    const files = Object.fromEntries(
      await Promise.all(MODALITIES.map(async (m, k) => {
        return [m, new File([await Deno.readFile(paths[k])], paths[k])] as const;
      })),
    ) as Record<(typeof MODALITIES)[number], File>;

    const model = await loadModel(decodeURIComponent(DEFAULT_MODEL_URL.pathname));
    const server = serveSite(dir, { port: 0 });
    const browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/app/`);
    await page.waitForFunction(() =>
      /WebGPU adapter:|No WebGPU/.test(document.getElementById("adapter")!.textContent!)
    );
    console.log(`CPU: ${cpu()}, ${navigator.hardwareConcurrency} threads`);
    console.log(`Deno: ${await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") })}`);
    console.log(`Chromium: ${await page.textContent("#adapter")}`);
    console.log(`case ${size.join("×")}${values.tta ? ", mirror TTA" : ""}, ${repeats} repeats`);
    if (values.tta) await page.check("#tta");
    const times = { deno: [] as number[], chromium: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await segmentNifti(files, { model, tta: values.tta });
      times.deno.push((performance.now() - t0) / 1000);
      // Each run waits for its own status line.
      await page.evaluate(() => (document.getElementById("status")!.textContent = ""));
      await page.setInputFiles("#files", [...paths, seg]);
      await page.click("#segment");
      await page.waitForFunction(
        () => {
          const text = document.getElementById("status")!.textContent + "";
          return /^Done:/.test(text) || document.getElementById("error")!.textContent !== "";
        },
        undefined,
        { timeout: 0 },
      );
      const status = (await page.textContent("#status"))!;
      const seconds = Number(/in ([\d.]+) s/.exec(status)?.[1]);
      if (!seconds) throw new Error(`the page failed: ${await page.textContent("#error")}`);
      times.chromium.push(seconds);
      console.log(
        `repeat ${r + 1}: Deno ${times.deno[r].toFixed(1)} s, Chromium ${seconds.toFixed(1)} s`,
      );
    }
    for (const [name, t] of Object.entries(times)) {
      const best = Math.min(...t);
      console.log(
        `${name}: best ${best.toFixed(1)} s (${(size[2] / best).toFixed(1)} slices/s), ` +
          `median ${median(t).toFixed(1)} s`,
      );
    }
    console.log(
      `Chromium / Deno (best): ${
        (Math.min(...times.chromium) / Math.min(...times.deno)).toFixed(1)
      }×`,
    );
    if (values.screenshot) {
      await page.waitForSelector("#result[data-shown]");
      await page.screenshot({ path: values.screenshot, fullPage: true });
      console.log(`page saved to ${values.screenshot}`);
    }
    model.release();
    await browser.close();
    await server.shutdown();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
