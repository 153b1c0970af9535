// `deno task segment` end to end, in a subprocess: bad cases, resume, shards, kill mid-case.
import assert from "node:assert/strict";
import { readNifti } from "../io/nifti.ts";
import { runCli } from "./_nifti_fixtures.ts";
import { listing, modelTest, writePhantomCase } from "./_cli_fixtures.ts";

const cli = new URL("../cli.ts", import.meta.url).pathname;

const segment = (args: string[]) => runCli(["segment", ...args]);

/** Cases under `dir/in` (good, odd-sized, truncated, incomplete); returns that folder. */
async function writeMixedCases(dir: string): Promise<string> {
  const input = `${dir}/in`;
  await writePhantomCase(input, "a", [32, 32, 8], 1);
  await writePhantomCase(input, "b", [37, 29, 9], 2); // not a multiple of 16
  await writePhantomCase(input, "c", [32, 32, 8], 3);
  await writePhantomCase(input, "d_bad", [32, 32, 8], 4);
  const flair = `${input}/d_bad/d_bad_flair.nii.gz`;
  const bytes = await Deno.readFile(flair);
  await Deno.writeFile(flair, bytes.subarray(0, bytes.length - 200)); // truncated gzip
  await writePhantomCase(input, "e_missing", [32, 32, 8], 5);
  await Deno.remove(`${input}/e_missing/e_missing_t2.nii.gz`);
  return input;
}

modelTest(
  "bad cases are reported and skipped, the others written; exit 1; rerun resumes",
  async (root, model) => {
    const input = await writeMixedCases(root);
    const out = `${root}/out`;
    const first = await segment([input, out, "--model", model]);
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
    const again = await segment([input, out, "--model", model]);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /1 to segment, 3 already done, 1 unusable/); // the truncated case is retried
    assert.equal(
      (await Deno.stat(`${out}/a.nii.gz`)).mtime!.getTime(),
      mtime,
      "existing output untouched",
    );
    const forced = await segment([
      input,
      out,
      "--model",
      model,
      "--overwrite",
      "--tta",
      "--window",
      "3,1",
    ]);
    assert.match(forced.stdout, /Summary: 3 segmented/);
  },
);

modelTest(
  "shards partition the cases (bad ones included) with no coordinator",
  async (root, model) => {
    const input = await writeMixedCases(root);
    const seen: string[] = [];
    for (const k of [0, 1, 2]) {
      const out = `${root}/shard${k}`;
      const r = await segment([input, out, "--model", model, "--shard", `${k}/3`]);
      const files = await listing(out);
      seen.push(...files);
      const failed = (r.stderr.match(/^FAILED /gm) ?? []).length;
      assert.equal(r.code, failed > 0 ? 1 : 0);
      assert.equal(files.length + failed, k < 2 ? 2 : 1, `shard ${k}: ${files} ${r.stderr}`);
    }
    assert.deepEqual(seen.sort(), ["a.nii.gz", "b.nii.gz", "c.nii.gz"]);
    const bad = await segment([input, `${root}/shardx`, "--model", model, "--shard", "3/3"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--shard "3\/3" must be K\/N/);
  },
);

modelTest(
  "bad arguments and a bad model file give one line and exit non-zero",
  async (root, model) => {
    const input = await writeMixedCases(root);
    const usage = await segment([input]);
    assert.equal(usage.code, 2);
    const win = await segment([input, `${root}/o2`, "--window", "4,4", "--model", model]);
    assert.equal(win.code, 1);
    assert.match(win.stderr, /--window "4,4"/);
    await Deno.writeTextFile(`${root}/junk.safetensors`, "not a checkpoint");
    const junk = await segment([input, `${root}/o3`, "--model", `${root}/junk.safetensors`]);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /junk\.safetensors/);
    // Mesa's llvmpipe may print XDG_RUNTIME_DIR warnings; ours is one line besides the FAILED cases.
    const lines = junk.stderr.trim().split("\n").filter((l) =>
      !l.startsWith("FAILED") && !/XDG_RUNTIME_DIR/.test(l)
    );
    assert.equal(lines.length, 1, junk.stderr);
  },
);

modelTest(
  "killing segment mid-case leaves no partial output; a rerun completes it",
  async (root, model) => {
    const dir = `${root}/big`;
    await writePhantomCase(dir, "k1", [32, 32, 8], 7);
    await writePhantomCase(dir, "k2", [160, 160, 120], 8);
    const out = `${root}/killed`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "segment", dir, out, "--model", model],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until the second case's first slice is written, i.e. its output is half-made.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/\[2\/2\] k2: writing/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /\[1\/2\] k1: 8 slices in/, "the first case finished");
    assert.match(text, /\[2\/2\] k2: writing 120 slices/, "the second case began writing");
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
  },
);
