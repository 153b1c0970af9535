// `cv`'s and `train --folds`' bookkeeping without a GPU: the refusals on fold records and splits, and one split kept.
import assert from "node:assert/strict";
import { InputError } from "../data/input_error.ts";
import { run as cv } from "../cli/cv.ts";
import { keepSplit, type SplitRecord } from "../cli/_fold_record.ts";
import { withTempDir } from "./_temp_dir.ts";

const SPLIT: SplitRecord = {
  folds: 2,
  seed: 1,
  cases: [{ id: "a", fold: 0 }, { id: "b", fold: 1 }, { id: "c", fold: 0 }, { id: "d", fold: 1 }],
};

/** Writes `root/fold_K/fold.json` validating `ids`. */
async function writeRecord(root: string, fold: number, ids: string[], extra = {}) {
  await Deno.mkdir(`${root}/fold_${fold}`, { recursive: true });
  const val = ids.map((id) => ({ id, label: `${root}/${id}_seg.nii.gz` }));
  const record = { fold, folds: 2, seed: 1, labels: "brats2017", val, ...extra };
  await Deno.writeTextFile(`${root}/fold_${fold}/fold.json`, JSON.stringify(record));
}

/** `cv root ...flags` rejects with an InputError matching `message`. */
async function refuses(args: string[], message: RegExp) {
  await assert.rejects(() => cv(args), (e) => e instanceof InputError && message.test(e.message));
}

Deno.test("cv refuses unfinished folds, folds of two runs, a case validated twice", () =>
  withTempDir("cv_records_", async (root) => {
    await refuses([root], /holds no finished fold/);
    await writeRecord(root, 0, ["a", "c"]);
    await refuses([root], /fold 1 of 2 not finished \(no fold_K\/fold\.json\).*--partial/);
    await writeRecord(root, 1, ["b", "c"]);
    await refuses([root], /fold_1\/fold\.json: validates case c, which fold 0 validates too/);
    await writeRecord(root, 1, ["b", "d"], { seed: 2 });
    await refuses(
      [root],
      /fold_1\/fold\.json: is of --folds 2 --seed 2, fold_0 of --folds 2 --seed 1/,
    );
    await writeRecord(root, 1, ["b", "d"], { labels: "brats2023" });
    await refuses([root], /fold_1\/fold\.json: was trained with labels brats2023, not brats2017/);
    await writeRecord(root, 1, ["b", "d"]);
    await refuses([root, "--labels", "brats2015"], /labels brats2017, not brats2015 \(--labels\)/);
    // A record in another fold's folder.
    await Deno.rename(`${root}/fold_1`, `${root}/fold_3`);
    await refuses([root], /fold_3\/fold\.json: is the record of fold 1, in fold_3/);
    await Deno.rename(`${root}/fold_3`, `${root}/fold_1`);
    // Against splits.json: a fold that validated other cases.
    await Deno.writeTextFile(`${root}/splits.json`, JSON.stringify(SPLIT));
    await writeRecord(root, 1, ["b", "e"]);
    await refuses([root], /splits\.json: disagrees with fold_1\/fold\.json: .*\(case e differs\)/);
    await Deno.writeTextFile(`${root}/splits.json`, "{");
    await refuses([root], /splits\.json: is not JSON/);
  }));

Deno.test("keepSplit: one split per folder, the first writer wins, finished folds must belong", () =>
  withTempDir("cv_split_", async (root) => {
    // Two jobs starting together with different splits: one writes, the other is refused.
    const other = { ...SPLIT, seed: 2 };
    const results = await Promise.allSettled([keepSplit(root, SPLIT), keepSplit(root, other)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.match(rejected.reason.message, /splits\.json: holds another split: it was made with/);
    assert.equal(await keepSplit(root, results[0].status === "fulfilled" ? SPLIT : other), "same");
    // A changed case is named.
    const moved = {
      ...SPLIT,
      cases: SPLIT.cases.map((c) => c.id === "d" ? { id: "d", fold: 0 } : c),
    };
    const fresh = await Deno.makeTempDir({ dir: root });
    await keepSplit(fresh, SPLIT);
    await assert.rejects(() => keepSplit(fresh, moved), /case d is in fold 1 there, 0 now/);
    // --overwrite writes a new split only if the finished folds left belong to it.
    await writeRecord(fresh, 1, ["b", "d"]);
    await assert.rejects(
      () => keepSplit(fresh, moved, { overwrite: true }),
      /fold_1\/fold\.json: belongs to another split: it validated 2 case\(s\) where the split has 1/,
    );
    assert.equal(await keepSplit(fresh, SPLIT, { overwrite: true }), "written");
  }));
