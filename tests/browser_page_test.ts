import assert from "node:assert/strict";
import { buildSite } from "../cli/_site.ts";
import { parseNifti } from "../data/nifti_reader.ts";
import { labelColours } from "../data/overlay.ts";
import type { Page } from "playwright-core";
import { browserTest } from "./_browser.ts";
import { writePhantomCase } from "./_cli_fixtures.ts";
import { runCli } from "./_nifti_fixtures.ts";

const fromRoot = (path: string) =>
  decodeURIComponent(new URL(`../${path}`, import.meta.url).pathname);
const MODALITY_FILES = ["flair", "t1", "t1ce", "t2"].map((m) => `c1_${m}.nii.gz`);

/** The site, and a phantom case with its labels beside it in `site/case/c1/`. */
async function prepare(site: string): Promise<void> {
  await buildSite(`${site}/app`);
  await writePhantomCase(`${site}/case`, "c1", [96, 96, 12], 7, { label: true });
}

/** Opens the page and waits until its worker has an adapter. */
async function open(page: Page, origin: string, log: string[]): Promise<void> {
  await page.goto(`${origin}/app/`);
  await page.waitForFunction(
    () => /WebGPU adapter:|No WebGPU/.test(document.getElementById("adapter")!.textContent!),
  );
  const adapter = await page.textContent("#adapter");
  assert.match(adapter!, /WebGPU adapter: .*swiftshader/i, log.join("\n"));
}

/** Pixels of `png` (a screenshot) within 12 of each colour, counted in the page's own decoder. */
function countColours(page: Page, png: Uint8Array, colours: number[][]): Promise<number[]> {
  const base64 = btoa(Array.from(png, (b) => String.fromCharCode(b)).join(""));
  return page.evaluate(async ({ base64, colours }) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    return colours.map(([r, g, b]) => {
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <= 12) {
          n++;
        }
      }
      return n;
    });
  }, { base64, colours });
}

browserTest(
  "page: a case set on the file input segments to the voxels `deno task segment` writes, shown over the FLAIR",
  prepare,
  async ({ page, site, origin, log }) => {
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await open(page, origin, log);
    assert.equal(await page.isDisabled("#segment"), true, "nothing to segment yet");
    const dir = `${site}/case/c1`;
    await page.setInputFiles(
      "#files",
      [...MODALITY_FILES, "c1_seg.nii.gz"].map((f) => `${dir}/${f}`),
    );
    assert.equal(await page.textContent("#error"), "");
    await page.click("#segment");
    await page.waitForSelector("#result[data-shown]", { timeout: 300_000 }).catch((error) => {
      throw new Error(`${error.message}\npage: ${page.url()} ${log.join("\n")}`);
    });
    assert.equal(await page.textContent("#error"), "", log.join("\n"));
    assert.match((await page.textContent("#status"))!, /Done: 12 slices in/);
    assert.equal(await page.getAttribute("#progress", "value"), "12");
    // Dice against the case's own labels.
    const whole = Number(await page.textContent("#dice-whole"));
    assert.ok(whole > 0.5 && whole <= 1, `Dice whole ${whole}`);
    assert.equal((await page.$$("#legend li")).length, 3);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(download.suggestedFilename(), "c1.nii.gz");
    await download.saveAs(`${site}/page.nii.gz`);
    const cli = await runCli(["segment", `${site}/case`, `${site}/cli`]);
    assert.equal(cli.code, 0, cli.stderr);
    const fromPage = await Deno.readFile(`${site}/page.nii.gz`);
    const fromCli = await Deno.readFile(`${site}/cli/c1.nii.gz`);
    const a = parseNifti(fromPage), b = parseNifti(fromCli);
    assert.deepEqual(a.header.dims, b.header.dims);
    const differ = a.data.reduce((n, v, i) => n + (v !== b.data[i] ? 1 : 0), 0);
    assert.equal(differ, 0, `${differ} voxels differ from deno task segment`);
    assert.deepEqual(fromPage, fromCli, "voxels equal, but not the file's bytes");

    // The overlay is on screen, in the convention's colours (at full opacity, to be exact).
    await page.locator("#opacity").fill("1");
    const shot = await page.locator("#viewer").screenshot({ path: `${site}/page.png` });
    const colours = Object.values(labelColours("brats2017"));
    const counts = await countColours(page, shot, colours);
    assert.ok(counts.some((n) => n >= 20), `label-coloured pixels ${counts.join(", ")}`);
    // Kept for a look after the run (web/dist is the site's build folder, ignored by git).
    await Deno.mkdir(new URL("../web/dist", import.meta.url), { recursive: true });
    await page.screenshot({ path: fromRoot("web/dist/test-page.png"), fullPage: true });
    // The slice slider moves the view.
    await page.locator("#slice").fill("0");
    assert.match((await page.textContent("#slice-label"))!, /^1 \/ 12$/);
    // Everything came from the site itself.
    const foreign = requests.filter((u) => !u.startsWith(origin) && !/^(blob|data):/.test(u));
    assert.deepEqual(foreign, []);
  },
);

browserTest(
  "page: a missing modality and a bad file are one line on the page",
  prepare,
  async ({ page, site, origin, log }) => {
    await open(page, origin, log);
    const dir = `${site}/case/c1`;
    await page.setInputFiles("#files", MODALITY_FILES.slice(0, 3).map((f) => `${dir}/${f}`));
    assert.equal(await page.textContent("#error"), "c1: missing t2 (expected c1_t2.nii.gz)");
    assert.equal(await page.isDisabled("#segment"), true);
    // A truncated T2: the pipeline's own message, naming the file.
    const t2 = await Deno.readFile(`${dir}/c1_t2.nii.gz`);
    await Deno.writeFile(`${site}/c1_t2.nii.gz`, t2.slice(0, 400));
    await page.setInputFiles("#files", [
      ...MODALITY_FILES.slice(0, 3).map((f) => `${dir}/${f}`),
      `${site}/c1_t2.nii.gz`,
    ]);
    await page.click("#segment");
    await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
    const error = (await page.textContent("#error"))!;
    assert.match(error, /^c1_t2\.nii\.gz: /, log.join("\n"));
    assert.ok(!error.includes("\n"));
    assert.equal(await page.isDisabled("#segment"), false, "a fixed case can be tried again");
    // A file that is no checkpoint.
    await Deno.writeFile(`${site}/bad.safetensors`, new Uint8Array(64));
    await page.setInputFiles(
      "#files",
      [...MODALITY_FILES.map((f) => `${dir}/${f}`), `${site}/bad.safetensors`],
    );
    await page.click("#segment");
    await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
    assert.match((await page.textContent("#error"))!, /^bad\.safetensors: /);
  },
);

browserTest(
  "page: without WebGPU it says which browsers and flags have it, and Segment stays off",
  (site) => buildSite(`${site}/app`).then(() => {}),
  async ({ page, origin }) => {
    await page.goto(`${origin}/app/`);
    await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
    assert.equal(await page.textContent("#adapter"), "No WebGPU adapter.");
    const error = (await page.textContent("#error"))!;
    assert.match(
      error,
      /^This browser offers no WebGPU\. Use Chrome or Edge 113\+.*--enable-unsafe-webgpu/,
    );
    assert.match(error, /\((navigator\.gpu is missing|requestAdapter\(\) returned null)/);
    assert.ok(!/mesa/i.test(error), error);
    assert.equal(await page.isDisabled("#segment"), true);
  },
  // Headless Chromium without the WebGPU flags: no adapter.
  { args: ["--headless=new", "--no-sandbox", "--disable-gpu"] },
);
