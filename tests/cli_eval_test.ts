import assert from "node:assert/strict";
import { writeNifti } from "../io/nifti.ts";
import { run } from "../cli/eval.ts";
import { withTempDir } from "./_temp_dir.ts";

const AFFINE = [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]];
const SHAPE = [3, 1, 2];

async function labels(path: string, values: number[], shape = SHAPE, affine = AFFINE) {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await writeNifti(path, new Uint8Array(values), { shape, datatype: "uint8", affine });
}

/** Runs eval with console.error captured; returns the exit code and the error lines. */
async function runCapturing(args: string[]): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    return { code: await run(args), errors };
  } finally {
    console.error = original;
  }
}

Deno.test("eval scores hand-computed cases with anisotropic spacing, reports missing and misshapen predictions", () =>
  withTempDir("eval_", async (dir) => {
    // Case a: truth oedema at x=0,1 in slice 0; prediction oedema at x=1 of slice 0 and x=1 of slice 1.
    await labels(`${dir}/truth/a/a_seg.nii.gz`, [2, 2, 0, 0, 0, 0]);
    await labels(`${dir}/pred/a.nii.gz`, [0, 2, 0, 0, 2, 0]);
    // Case b: prediction at PRED/<id>/<id>_seg, identical to the truth.
    await labels(`${dir}/truth/b/b_seg.nii.gz`, [0, 4, 1, 0, 0, 0]);
    await labels(`${dir}/pred/b/b_seg.nii.gz`, [0, 4, 1, 0, 0, 0]);
    // Case c: no prediction; case d: prediction of the wrong shape.
    await labels(`${dir}/truth/c/c_seg.nii.gz`, [0, 0, 0, 0, 0, 4]);
    await labels(`${dir}/truth/d/d_seg.nii.gz`, [0, 0, 0, 0, 0, 0]);
    await labels(`${dir}/pred/d_seg.nii.gz`, [0, 0, 0, 0], [2, 1, 2]);
    const code = await run([
      `${dir}/pred`,
      `${dir}/truth`,
      "--json",
      `${dir}/s.json`,
      "--csv",
      `${dir}/s.csv`,
    ]);
    assert.equal(code, 1, "missing / misshapen predictions make the exit code non-zero");
    const out = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.equal(out.labels, "brats2017");
    assert.match(out.rule, /empty in both/);
    const [a, b, c, d] = out.cases;
    assert.deepEqual([a.id, b.id, c.id, d.id], ["a", "b", "c", "d"]);
    // a: TP 1, |P| 2, |T| 2.
    assert.equal(a.dice.whole, 0.5);
    assert.equal(a.sensitivity.whole, 0.5);
    assert.equal(a.ppv.whole, 0.5);
    // Surfaces are every tumour voxel. pred->truth: (1,0,0)=0, (1,0,1)=3 mm; truth->pred: (0,0,0)=2 mm, (1,0,0)=0.
    // Pooled [0,0,2,3]: 95th percentile at position 2.85 -> 2 + 0.85 * 1 = 2.85.
    assert.ok(Math.abs(a.hd95.whole - 2.85) < 1e-9, String(a.hd95.whole));
    assert.deepEqual([a.dice.core, a.hd95.core], [1, 0]);
    assert.deepEqual(Object.keys(a.iou).sort(), ["0", "2"]);
    assert.ok(Math.abs(a.iou["2"] - 1 / 3) < 1e-12);
    assert.equal(b.dice.enhancing, 1);
    assert.equal(b.meanIoU, 1);
    const diagonal = Math.hypot(3 * 2, 1, 2 * 3);
    assert.deepEqual([c.dice.enhancing, c.sensitivity.enhancing, c.ppv.enhancing], [0, 0, 0]);
    assert.ok(Math.abs(c.hd95.enhancing - diagonal) < 1e-9);
    assert.deepEqual([d.dice.whole, d.hd95.whole, d.meanIoU], [1, 0, 1]);
    assert.ok(Math.abs(out.mean.dice.whole - (0.5 + 1 + 0 + 1) / 4) < 1e-12);
    assert.ok("pooled" in out && "iou" in out.pooled);
    const csv = (await Deno.readTextFile(`${dir}/s.csv`)).trim().split("\n");
    assert.equal(csv.length, 6);
    assert.match(csv[0], /^id,dice_whole,dice_core,dice_enhancing,/);
    assert.match(csv[5], /^mean,/);
  }));

Deno.test("eval: labels outside the convention in the truth skip the case, naming file and values", () =>
  withTempDir("eval_", async (dir) => {
    await labels(`${dir}/truth/a.nii.gz`, [0, 3, 0, 0, 0, 0]);
    await labels(`${dir}/pred/a.nii.gz`, [0, 0, 0, 0, 0, 0]);
    const { code, errors } = await runCapturing([`${dir}/pred`, `${dir}/truth`]);
    assert.equal(code, 1);
    assert.ok(
      errors.some((e) =>
        e.includes(`${dir}/truth/a.nii.gz`) && /label values 3 are not in/.test(e)
      ),
      errors.join("\n"),
    );
    await assert.rejects(run([`${dir}/pred`, `${dir}/nothing`]), /is not a folder/);
  }));

Deno.test("eval warns, and still scores, when a prediction's affine puts it elsewhere in space", () =>
  withTempDir("eval_", async (dir) => {
    const shifted = AFFINE.map((row, i) => i === 0 ? [row[0], row[1], row[2], row[3] + 50] : row);
    await labels(`${dir}/truth/a.nii.gz`, [0, 2, 0, 0, 0, 0]);
    await labels(`${dir}/pred/a.nii.gz`, [0, 2, 0, 0, 0, 0], SHAPE, shifted);
    await labels(`${dir}/truth/b.nii.gz`, [0, 2, 0, 0, 0, 0]);
    const nudged = AFFINE.map((row, i) => i === 1 ? [row[0], row[1], row[2], row[3] + 0.01] : row);
    await labels(`${dir}/pred/b.nii.gz`, [0, 2, 0, 0, 0, 0], SHAPE, nudged); // rounding: no warning
    const { code, errors } = await runCapturing([`${dir}/pred`, `${dir}/truth`]);
    assert.equal(code, 0, errors.join("\n"));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /^warning: .*pred\/a\.nii\.gz: its affine puts voxels up to 50\.0 mm/);
  }));
