// `deno task demo` end to end, in a subprocess.
import assert from "node:assert/strict";
import { runCli } from "./_nifti_fixtures.ts";
import { listing, modelTest } from "./_cli_fixtures.ts";

modelTest("demo: synthesises, segments, scores and writes overlays", async (root, model) => {
  const work = `${root}/demo`;
  const out = await runCli([
    "demo",
    "--model",
    model,
    "--out",
    work,
    "--cases",
    "2",
    "--size",
    "48,48,12",
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /mean \(2\)\s+\d\.\d{3}/);
  const pngs = (await listing(`${work}/overlays`)).filter((f) => f.endsWith(".png"));
  assert.equal(pngs.length, 2);
  const png = await Deno.readFile(`${work}/overlays/${pngs[0]}`);
  assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]); // "PNG"
  assert.ok(JSON.parse(await Deno.readTextFile(`${work}/scores.json`)).cases.length === 2);
  const missing = await runCli([
    "demo",
    "--model",
    `${root}/none.safetensors`,
    "--out",
    `${root}/demo2`,
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /none\.safetensors: no such checkpoint/);
});
