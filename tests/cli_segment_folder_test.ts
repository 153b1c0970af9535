// `segment --model DIR`: the folder's postprocessing.json applied under the flags given, and unfinished folds left out.
import assert from "node:assert/strict";
import { coreLabelFor } from "../data/postprocess.ts";
import { readNifti } from "../io/nifti.ts";
import { runCli } from "./_nifti_fixtures.ts";
import { writePhantomCase } from "./_cli_fixtures.ts";
import { gpuTest } from "./_gpu.ts";
import { withTempDir } from "./_temp_dir.ts";

const SHIPPED = "models/default.safetensors";
const ENHANCING = 4; // brats2017, the shipped model's convention

/** Segments `root/in` into `root/<out>` with `flags`; returns stdout and the labels. */
async function segment(root: string, out: string, flags: string[]) {
  const r = await runCli(["segment", `${root}/in`, `${root}/${out}`, ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, labels: (await readNifti(`${root}/${out}/a.nii.gz`)).data };
}

gpuTest(
  "segment --model DIR applies DIR/postprocessing.json; flags override it rule by rule",
  () =>
    withTempDir("seg_folder_", async (root) => {
      await writePhantomCase(`${root}/in`, "a", [64, 64, 12], 11);
      await Deno.mkdir(`${root}/m`);
      await Deno.copyFile(SHIPPED, `${root}/m/model.safetensors`);
      // A threshold no prediction reaches: every enhancing voxel becomes core.
      const rules = { minEnhancing: 1_000_000_000, largestComponent: false };
      await Deno.writeTextFile(`${root}/m/postprocessing.json`, JSON.stringify(rules));

      const plain = await segment(root, "plain", ["--model", SHIPPED]);
      assert.ok(plain.labels.includes(ENHANCING), "the shipped model predicts enhancing here");
      const relabelled = plain.labels.map((v) => v === ENHANCING ? coreLabelFor("brats2017") : v);

      const file = await segment(root, "file", ["--model", `${root}/m`]);
      assert.match(file.stdout, /postprocessing: enhancing under 1000000000 voxels → core \(from /);
      assert.deepEqual(file.labels, relabelled);

      const flag = await segment(root, "flag", ["--model", `${root}/m`, "--min-enhancing", "0"]);
      assert.match(flag.stdout, /postprocessing: none \(.*postprocessing\.json, under the flags/);
      assert.deepEqual(flag.labels, plain.labels);

      const off = await segment(root, "off", ["--model", `${root}/m`, "--no-postprocessing"]);
      assert.doesNotMatch(off.stdout, /postprocessing/);
      assert.deepEqual(off.labels, plain.labels);

      // The component rule from the file, turned off by --all-components alone.
      const both = { minEnhancing: 0, largestComponent: true };
      await Deno.writeTextFile(`${root}/m/postprocessing.json`, JSON.stringify(both));
      const kept = await segment(root, "kept", ["--model", `${root}/m`]);
      assert.match(kept.stdout, /postprocessing: largest tumour component only \(from /);
      const all = await segment(root, "all", ["--model", `${root}/m`, "--all-components"]);
      assert.match(all.stdout, /postprocessing: none \(.*under the flags given\)/);
      assert.deepEqual(all.labels, plain.labels);
      const clash = await runCli([
        "segment",
        `${root}/in`,
        `${root}/x`,
        "--largest-component",
        "--all-components",
      ]);
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /--largest-component and --all-components exclude each other/);
    }),
);

gpuTest(
  "segment --model DIR leaves out folds without fold.json, and refuses when none is finished",
  () =>
    withTempDir("seg_folds_", async (root) => {
      await writePhantomCase(`${root}/in`, "a", [32, 32, 8], 3);
      for (const k of [0, 1, 2]) {
        await Deno.mkdir(`${root}/cv/fold_${k}`, { recursive: true });
        await Deno.copyFile(SHIPPED, `${root}/cv/fold_${k}/model.safetensors`);
      }
      const record = (fold: number) => JSON.stringify({ fold, folds: 3, seed: 1, val: [] });
      await Deno.writeTextFile(`${root}/cv/fold_0/fold.json`, record(0));
      await Deno.writeTextFile(`${root}/cv/fold_2/fold.json`, record(2));
      const two = await segment(root, "two", ["--model", `${root}/cv`]);
      assert.match(two.stdout, /ensemble of 2 models/);
      assert.match(two.stdout, /left out: .*fold_1\/model\.safetensors \(its fold is not finished/);
      // Named as a file, an unfinished fold's checkpoint is taken.
      const named = await segment(root, "named", [
        "--model",
        `${root}/cv/fold_1/model.safetensors`,
      ]);
      assert.doesNotMatch(named.stdout, /left out/);
      // So is a folder named itself, fold_K or not.
      const folder = await segment(root, "folder", ["--model", `${root}/cv/fold_1`]);
      assert.doesNotMatch(folder.stdout, /left out/);
      // A bad record is an error, as in cv.
      await Deno.writeTextFile(`${root}/cv/fold_2/fold.json`, "{}");
      const bad = await runCli(["segment", `${root}/in`, `${root}/y`, "--model", `${root}/cv`]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /fold_2\/fold\.json: is not a fold record/);

      for (const k of [0, 2]) await Deno.remove(`${root}/cv/fold_${k}/fold.json`);
      const none = await runCli(["segment", `${root}/in`, `${root}/x`, "--model", `${root}/cv`]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /holds no finished fold: 3 checkpoint\(s\)/);
      assert.doesNotMatch(none.stderr, /\n\s+at /, "no stack trace");
    }),
);
