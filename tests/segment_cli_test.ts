// `deno task segment` end to end, in a subprocess: bad cases, resume, shards, kill mid-case.
import assert from "node:assert/strict";
import { writeNifti } from "../data/nifti_writer.ts";
import { readNifti } from "../data/nifti_reader.ts";
import { generatePhantom } from "../data/phantom.ts";
import { getDevice } from "../gpu/device.ts";
import { saveCheckpoint } from "../model/checkpoint_file.ts";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { runCli } from "./_nifti_fixtures.ts";

const root = await Deno.makeTempDir({ prefix: "segment_cli_" });
const cli = new URL("../cli.ts", import.meta.url).pathname;
const model = `${root}/tiny.safetensors`;

async function writePhantomCase(
  dir: string,
  id: string,
  size: [number, number, number],
  seed: number,
) {
  const p = generatePhantom({ size, seed });
  await Deno.mkdir(`${dir}/${id}`, { recursive: true });
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    await writeNifti(`${dir}/${id}/${id}_${m}.nii.gz`, p.modalities[m], {
      shape: [...size],
      datatype: "int16",
      affine: p.affine,
    });
  }
}

const segment = (args: string[]) => runCli(["segment", ...args]);

const listing = async (d: string) =>
  (await Array.fromAsync(Deno.readDir(d))).map((e) => e.name).sort();

Deno.test({
  name: "setup: tiny random-weight checkpoint and cases (good, odd-sized, truncated, incomplete)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await getDevice();
    const net = SegmentationNetwork.create({ ...DEFAULT_CONFIG, widths: [4, 4, 4, 4] }, {
      seed: 5,
    });
    await saveCheckpoint(model, net, { labels: "brats2017" });
    net.release();
    await writePhantomCase(`${root}/in`, "a", [32, 32, 8], 1);
    await writePhantomCase(`${root}/in`, "b", [37, 29, 9], 2); // not a multiple of 16
    await writePhantomCase(`${root}/in`, "c", [32, 32, 8], 3);
    await writePhantomCase(`${root}/in`, "d_bad", [32, 32, 8], 4);
    const flair = `${root}/in/d_bad/d_bad_flair.nii.gz`;
    const bytes = await Deno.readFile(flair);
    await Deno.writeFile(flair, bytes.subarray(0, bytes.length - 200)); // truncated gzip
    await writePhantomCase(`${root}/in`, "e_missing", [32, 32, 8], 5);
    await Deno.remove(`${root}/in/e_missing/e_missing_t2.nii.gz`);
  },
});

Deno.test("bad cases are reported and skipped, the others written; exit 1; rerun resumes", async () => {
  const out = `${root}/out`;
  const first = await segment([`${root}/in`, out, "--model", model]);
  assert.equal(first.code, 1, first.stderr);
  assert.deepEqual(await listing(out), ["a.nii.gz", "b.nii.gz", "c.nii.gz"]);
  assert.match(first.stderr, /d_bad_flair\.nii\.gz: .*(gzip|truncated|ends|short)/i);
  assert.match(first.stderr, /e_missing.*missing modality t2/);
  assert.match(first.stdout, /Summary: 3 segmented, 0 skipped \(output exists\), 2 failed\./);
  assert.doesNotMatch(first.stderr, /\n\s+at /, "no stack trace");
  const b = await readNifti(`${out}/b.nii.gz`);
  assert.deepEqual(b.shape, [37, 29, 9]);
  assert.equal(b.header.datatypeName, "uint8");
  assert.ok(b.data.every((v) => [0, 1, 2, 4].includes(v)));

  const mtime = (await Deno.stat(`${out}/a.nii.gz`)).mtime!.getTime();
  const again = await segment([`${root}/in`, out, "--model", model]);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /1 to segment, 3 already done, 1 unusable/); // the truncated case is retried
  assert.equal(
    (await Deno.stat(`${out}/a.nii.gz`)).mtime!.getTime(),
    mtime,
    "existing output untouched",
  );
  const forced = await segment([
    `${root}/in`,
    out,
    "--model",
    model,
    "--overwrite",
    "--tta",
    "--window",
    "3,1",
  ]);
  assert.match(forced.stdout, /Summary: 3 segmented/);
});

Deno.test("shards partition the cases (bad ones included) with no coordinator", async () => {
  const seen: string[] = [];
  for (const k of [0, 1, 2]) {
    const out = `${root}/shard${k}`;
    const r = await segment([`${root}/in`, out, "--model", model, "--shard", `${k}/3`]);
    const files = await listing(out);
    seen.push(...files);
    const failed = (r.stderr.match(/^FAILED /gm) ?? []).length;
    assert.equal(r.code, failed > 0 ? 1 : 0);
    assert.equal(files.length + failed, k < 2 ? 2 : 1, `shard ${k}: ${files} ${r.stderr}`);
  }
  assert.deepEqual(seen.sort(), ["a.nii.gz", "b.nii.gz", "c.nii.gz"]);
  const bad = await segment([`${root}/in`, `${root}/shardx`, "--model", model, "--shard", "3/3"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--shard "3\/3" must be K\/N/);
});

Deno.test("bad arguments and a bad model file give one line and exit non-zero", async () => {
  const usage = await segment([`${root}/in`]);
  assert.equal(usage.code, 2);
  const win = await segment([`${root}/in`, `${root}/o2`, "--window", "4,4", "--model", model]);
  assert.equal(win.code, 1);
  assert.match(win.stderr, /--window "4,4"/);
  await Deno.writeTextFile(`${root}/junk.safetensors`, "not a checkpoint");
  const junk = await segment([`${root}/in`, `${root}/o3`, "--model", `${root}/junk.safetensors`]);
  assert.equal(junk.code, 1);
  assert.match(junk.stderr, /junk\.safetensors/);
  // Mesa's llvmpipe may print XDG_RUNTIME_DIR warnings; ours is one line besides the FAILED cases.
  const lines = junk.stderr.trim().split("\n").filter((l) =>
    !l.startsWith("FAILED") && !/XDG_RUNTIME_DIR/.test(l)
  );
  assert.equal(lines.length, 1, junk.stderr);
});

Deno.test("killing segment mid-case leaves no partial output; a rerun completes it", async () => {
  const dir = `${root}/big`;
  await writePhantomCase(dir, "k1", [32, 32, 8], 7);
  await writePhantomCase(dir, "k2", [160, 160, 120], 8);
  const out = `${root}/killed`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "segment", dir, out, "--model", model],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until the first case is done, i.e. the second is being written.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/\[1\/2\] k1/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await new Promise((r) => setTimeout(r, 500));
  child.kill("SIGTERM");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel();
  assert.equal(status.code, 130);
  assert.deepEqual(await listing(out), ["k1.nii.gz"], "no partial or temporary file");
  const rerun = await segment([dir, out, "--model", model]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /1 to segment, 1 already done/);
  assert.deepEqual(await listing(out), ["k1.nii.gz", "k2.nii.gz"]);
});

Deno.test("demo: synthesises, segments, scores and writes overlays", async () => {
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

Deno.test({ name: "cleanup", fn: () => Deno.remove(root, { recursive: true }) });

Deno.test("progress status shows slices, rate and ETA; durations read naturally", async () => {
  const { Progress, formatDuration } = await import("../cli/_progress.ts");
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(187), "3m07s");
  assert.equal(formatDuration(3 * 3600 + 120), "3h02m");
  assert.equal(formatDuration(NaN), "?");
  const p = new Progress(200, { tty: false });
  p.label("[1/2] case_a");
  await new Promise((r) => setTimeout(r, 50));
  p.advance(50);
  const s = p.status(10);
  assert.match(
    s,
    /^\[###-------\] {2}25% 50\/200 slices {2}\d+\.\d slices\/s {2}ETA \d+s {2}\[1\/2\] case_a$/,
  );
  p.shrink(100);
  assert.match(p.status(10), /50% 50\/100 slices/);
});
