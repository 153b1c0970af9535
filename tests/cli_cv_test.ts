// Cross-validation end to end, in subprocesses: train --folds, cv, segment with the folds' ensemble.
import assert from "node:assert/strict";
import { decodeSafetensors } from "../model/safetensors.ts";
import { readNifti } from "../io/nifti.ts";
import { runCli } from "./_nifti_fixtures.ts";
import { listing, writePhantomCase } from "./_cli_fixtures.ts";
import { gpuTest } from "./_gpu.ts";
import { withTempDir } from "./_temp_dir.ts";

/** A small, quick training run's flags (tiny widths, one epoch of each phase, no augmentation). */
const SMALL = [
  "--widths",
  "2,2,2,2",
  "--batch",
  "2",
  "--no-augment",
  "--seed",
  "3",
  "--epochs",
  "1",
  "--phase2-epochs",
  "1",
];

gpuTest(
  "train --folds 3: folds partition the cases, each validated and predicted; rerun skips them",
  () =>
    withTempDir("cv_train_", async (root) => {
      const ids = ["a", "b", "c", "d", "e", "f"];
      for (const [i, id] of ids.entries()) {
        await writePhantomCase(`${root}/data`, id, [32, 32, 8], i + 1, { label: true });
      }
      const out = `${root}/cv/model.safetensors`;
      const first = await runCli(["train", `${root}/data`, "--out", out, "--folds", "3", ...SMALL]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /6 cases in 3 folds of 2, 2, 2 \(by case, stratified/);
      assert.deepEqual(await listing(`${root}/cv`), ["fold_0", "fold_1", "fold_2", "splits.json"]);
      const val: string[] = [];
      for (const k of [0, 1, 2]) {
        const dir = `${root}/cv/fold_${k}`;
        const record = JSON.parse(await Deno.readTextFile(`${dir}/fold.json`));
        assert.equal(record.fold, k);
        assert.equal(record.folds, 3);
        assert.equal(record.labels, "brats2017");
        const ids = record.val.map((v: { id: string }) => v.id);
        assert.equal(ids.length, 2);
        assert.deepEqual(record.train.length, 4);
        assert.deepEqual(
          await listing(`${dir}/val`),
          ids.map((id: string) => `${id}.nii.gz`).sort(),
        );
        const path = `${dir}/model.safetensors`;
        const data = JSON.parse(
          decodeSafetensors(await Deno.readFile(path), { path }).metadata["webseg.training"],
        ).data;
        assert.deepEqual([data.fold, data.folds, data.val], [k, 3, ids]);
        val.push(...ids);
      }
      assert.deepEqual(val.sort(), ids, "the three validation sets partition the cases");
      // The split is kept beside the folds, as the records have it.
      const split = JSON.parse(await Deno.readTextFile(`${root}/cv/splits.json`));
      assert.deepEqual([split.folds, split.seed], [3, 3]);
      for (const k of [0, 1, 2]) {
        const record = JSON.parse(await Deno.readTextFile(`${root}/cv/fold_${k}/fold.json`));
        assert.deepEqual(
          split.cases.filter((c: { fold: number }) => c.fold === k).map((c: { id: string }) =>
            c.id
          ),
          record.val.map((v: { id: string }) => v.id).sort(),
        );
      }

      const again = await runCli(["train", `${root}/data`, "--out", out, "--folds", "3", ...SMALL]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.match(/done earlier .*, skipped/g)?.length, 3);
      assert.doesNotMatch(again.stdout, /phase 1 epoch/);
      // Another split into the same folder is refused before anything trains.
      const reseed = await runCli([
        "train",
        `${root}/data`,
        "--out",
        out,
        "--folds",
        "3",
        ...SMALL,
        "--seed",
        "4",
      ]);
      assert.equal(reseed.code, 1);
      assert.match(
        reseed.stderr,
        /splits\.json: holds another split: it was made with --folds 3 --seed 3, not --folds 3 --seed 4/,
      );
      assert.doesNotMatch(reseed.stdout, /phase 1 epoch/);

      // cv: the Table 4 layout, and the postprocessing file segment then applies.
      const cv = await runCli(["cv", `${root}/cv`, "--json", `${root}/cv.json`]);
      assert.equal(cv.code, 0, cv.stderr);
      assert.match(cv.stdout, /3 folds \(0, 1, 2\), 6 out-of-fold cases/);
      assert.match(cv.stdout, /Dice complete .*Sens complete .*PPV complete/);
      assert.match(cv.stdout, /3 folds, mean ± sd +\d\.\d{3} ± \d\.\d{3}/);
      assert.match(cv.stdout, /\n +fold 2 \(2 cases\) +\d\.\d{3}/);
      const post = JSON.parse(await Deno.readTextFile(`${root}/cv/postprocessing.json`));
      assert.equal(typeof post.minEnhancing, "number");
      assert.equal(typeof post.largestComponent, "boolean");
      const json = JSON.parse(await Deno.readTextFile(`${root}/cv.json`));
      assert.equal(json.perCase.length, 6);
      // Fold means over equal-sized folds equal the mean over all cases.
      assert.ok(Math.abs(json.without.all.dice.whole - json.without.foldMean.dice.whole) < 1e-9);
      assert.deepEqual(json.without.byFold.map((f: { cases: number }) => f.cases), [2, 2, 2]);

      const seg = await runCli([
        "segment",
        `${root}/data`,
        `${root}/pred`,
        "--model",
        `${root}/cv`,
      ]);
      assert.equal(seg.code, 0, seg.stderr);
      assert.match(seg.stdout, /ensemble of 3 models \(probabilities averaged\)/);
      assert.match(seg.stdout, /fold_2\/model\.safetensors/);
      assert.doesNotMatch(seg.stdout, /last\.safetensors/);
      if (post.minEnhancing > 0 || post.largestComponent) {
        assert.match(seg.stdout, /postprocessing: .*\(from .*postprocessing\.json\)/);
      }
      const off = await runCli([
        "segment",
        `${root}/data`,
        `${root}/pred_off`,
        "--model",
        `${root}/cv`,
        "--no-postprocessing",
      ]);
      assert.equal(off.code, 0, off.stderr);
      assert.doesNotMatch(off.stdout, /postprocessing:/);

      // A fold not finished: cv refuses, --partial scores the others and writes no file.
      await Deno.rename(`${root}/cv/fold_1/fold.json`, `${root}/fold_1.json`);
      await Deno.remove(`${root}/cv/postprocessing.json`);
      const short = await runCli(["cv", `${root}/cv`]);
      assert.equal(short.code, 1);
      assert.match(short.stderr, /fold 1 of 3 not finished .*--partial scores the finished ones/);
      const partial = await runCli(["cv", `${root}/cv`, "--partial"]);
      assert.equal(partial.code, 0, partial.stderr);
      assert.match(partial.stdout, /2 folds \(0, 2\), 4 out-of-fold cases/);
      assert.match(partial.stdout, /no postprocessing\.json written/);
      assert.deepEqual(await listing(`${root}/cv`), ["fold_0", "fold_1", "fold_2", "splits.json"]);
      // A record of another split: refused, naming the file.
      const moved = JSON.parse(await Deno.readTextFile(`${root}/fold_1.json`));
      moved.val[0].id = "z";
      await Deno.writeTextFile(`${root}/cv/fold_1/fold.json`, JSON.stringify(moved));
      const other = await runCli(["cv", `${root}/cv`]);
      assert.equal(other.code, 1);
      assert.match(
        other.stderr,
        /splits\.json: disagrees with fold_1\/fold\.json: .*\(case z differs\)/,
      );
    }),
);

gpuTest(
  "train --folds refuses what it cannot do, in one line",
  () =>
    withTempDir("cv_refuse_", async (root) => {
      for (const [i, id] of ["a", "b"].entries()) {
        await writePhantomCase(`${root}/data`, id, [32, 32, 8], i + 1, { label: true });
      }
      const out = `${root}/cv/model.safetensors`;
      const cases = [
        [["--folds", "3"], /3 folds need at least 3 cases; there are 2/],
        [["--folds", "2", "--fold", "2"], /--fold 2 must be below --folds 2/],
        [["--fold", "1"], /--fold K needs --folds N/],
        [["--folds", "2", "--val", root], /--folds and --val exclude each other/],
      ] as const;
      for (const [flags, message] of cases) {
        const r = await runCli(["train", `${root}/data`, "--out", out, ...flags, ...SMALL]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      }
      const cv = await runCli(["cv", root]);
      assert.equal(cv.code, 1);
      assert.match(cv.stderr, /holds no finished fold/);
    }),
);

gpuTest(
  "segment: an ensemble of a model with itself writes that model's labels; probabilities out",
  () =>
    withTempDir("ensemble_", async (root) => {
      await writePhantomCase(`${root}/in`, "a", [40, 36, 9], 4);
      const model = "models/default.safetensors";
      const one = await runCli(["segment", `${root}/in`, `${root}/one`, "--model", model]);
      const two = await runCli([
        "segment",
        `${root}/in`,
        `${root}/two`,
        "--model",
        `${model},${model}`,
        "--save-probabilities",
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(two.code, 0, two.stderr);
      assert.match(two.stdout, /ensemble of 2 models/);
      assert.deepEqual(await listing(`${root}/two`), ["a.nii.gz", "a_probabilities.nii.gz"]);
      const a = await readNifti(`${root}/one/a.nii.gz`);
      const b = await readNifti(`${root}/two/a.nii.gz`);
      assert.deepEqual(b.data, a.data);
      const p = await readNifti(`${root}/two/a_probabilities.nii.gz`);
      assert.deepEqual(p.shape, [40, 36, 9, 4]);
      // A rerun skips the case only while both files are there.
      await Deno.remove(`${root}/two/a_probabilities.nii.gz`);
      const again = () =>
        runCli(["segment", `${root}/in`, `${root}/two`, "--model", model, "--save-probabilities"]);
      assert.match((await again()).stdout, /1 to segment, 0 already done/);
      assert.match((await again()).stdout, /0 to segment, 1 already done/);
      const bad = await runCli(["segment", `${root}/in`, `${root}/x`, "--model", `${root}/in`]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /holds no checkpoints/);
    }),
);
