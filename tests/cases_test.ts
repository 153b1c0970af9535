import assert from "node:assert/strict";
import { zlibSync } from "fflate";
import { volumeFileRole } from "../data/cases.ts";
import { discoverCases, findLabelFiles, readVolumeGeometry } from "../io/cases.ts";
import { writeNifti } from "../io/nifti.ts";
import { withTempDir } from "./_temp_dir.ts";

const SHAPE = [4, 3, 2];

async function nifti(path: string, options: { shape?: number[]; affine?: number[][] } = {}) {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const shape = options.shape ?? SHAPE;
  await writeNifti(path, new Uint8Array(shape.reduce((a, b) => a * b, 1)), {
    shape,
    datatype: "uint8",
    affine: options.affine,
  });
}

async function mha(path: string) {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const header =
    "ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nCompressedData = True\n" +
    "ElementSpacing = 1 1 1\nOffset = 0 0 0\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nElementDataFile = LOCAL\n";
  const data = zlibSync(new Uint8Array(48));
  const text = new TextEncoder().encode(header);
  const bytes = new Uint8Array(text.length + data.length);
  bytes.set(text);
  bytes.set(data, text.length);
  await Deno.writeFile(path, bytes);
}

Deno.test("file names of BraTS 2017-21, 2023 and BRATS-2015 are recognised", () => {
  assert.deepEqual(volumeFileRole("BraTS19_2013_2_1_t1ce.nii.gz"), {
    id: "BraTS19_2013_2_1",
    role: "t1ce",
    format: "nifti",
  });
  assert.deepEqual(volumeFileRole("BraTS19_2013_2_1_t1.nii"), {
    id: "BraTS19_2013_2_1",
    role: "t1",
    format: "nifti",
  });
  assert.deepEqual(volumeFileRole("BraTS-GLI-00000-000-t2f.nii.gz"), {
    id: "BraTS-GLI-00000-000",
    role: "flair",
    format: "nifti",
  });
  assert.deepEqual(volumeFileRole("BraTS-GLI-00000-000-seg.nii.gz")?.role, "seg");
  assert.deepEqual(volumeFileRole("VSD.Brain.XX.O.MR_T1c.54514.mha"), {
    id: "",
    role: "t1ce",
    format: "mha",
  });
  assert.deepEqual(volumeFileRole("VSD.Brain_3more.XX.O.OT.54517.mha")?.role, "seg");
  assert.equal(volumeFileRole("notes.txt"), undefined);
  assert.equal(volumeFileRole("x_flair.nii.gz.tmp"), undefined);
});

Deno.test("discovery finds complete cases recursively and reports the rest with reasons", () =>
  withTempDir("cases_", async (root) => {
    for (const m of ["flair", "t1", "t1ce", "t2", "seg"]) {
      await nifti(`${root}/train/HGG/A1/A1_${m}.nii.gz`);
    }
    for (const m of ["t2f", "t1n", "t1c", "t2w"]) await nifti(`${root}/2023/B-000-${m}.nii`);
    for (const m of ["flair", "t1", "t1ce"]) await nifti(`${root}/C/C_${m}.nii.gz`);
    for (const m of ["flair", "t1ce", "t2"]) await nifti(`${root}/D/D_${m}.nii.gz`);
    await nifti(`${root}/D/D_t1.nii.gz`, { shape: [4, 3, 3] });
    for (const m of ["flair", "t1", "t1ce", "t2"]) await nifti(`${root}/E/E_${m}.nii.gz`);
    await nifti(`${root}/E/E_seg.nii.gz`, {
      affine: [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    });
    for (const m of ["flair", "t1", "t1ce", "t2"]) await nifti(`${root}/F/F_${m}.nii.gz`);
    await Deno.writeFile(`${root}/F/F_t2.nii.gz`, new Uint8Array([31, 139, 8, 0, 1, 2]));
    for (const [m, n] of [["MR_Flair", 1], ["MR_T1", 2], ["MR_T1c", 3], ["MR_T2", 4], ["OT", 5]]) {
      const name = `VSD.Brain${m === "OT" ? "_3more" : ""}.XX.O.${m}.${n}`;
      await mha(`${root}/BRATS2015/HGG/brats_tcia_pat001_0001/${name}/${name}.mha`);
    }
    const { cases, problems } = await discoverCases(root);
    assert.deepEqual(cases.map((c) => [c.id, c.format, !!c.label]), [
      ["A1", "nifti", true],
      ["B-000", "nifti", false],
      ["brats_tcia_pat001_0001", "mha", true],
    ]);
    assert.equal(cases[0].modalities.t1ce, `${root}/train/HGG/A1/A1_t1ce.nii.gz`);
    assert.equal(cases[1].modalities.flair, `${root}/2023/B-000-t2f.nii`);
    assert.match(cases[2].modalities.t1ce, /MR_T1c\.3\.mha$/);
    assert.equal(cases[2].dir, `${root}/BRATS2015/HGG/brats_tcia_pat001_0001`);
    const reasons = Object.fromEntries(
      problems.map((p) => [p.path.slice(root.length + 1), p.reason]),
    );
    assert.equal(reasons["C/C"], "missing modality t2");
    assert.equal(reasons["D/D_t1.nii.gz"], "t1 dims 4×3×3 differ from flair's 4×3×2");
    assert.match(reasons["E/E_seg.nii.gz"], /seg affine differs from flair's/);
    assert.ok(reasons["F/F_t2.nii.gz"], JSON.stringify(reasons));
    assert.equal(problems.length, 4);
    const labelled = await discoverCases(root, { requireLabel: true });
    assert.ok(labelled.problems.some((p) => p.reason === "missing label volume (seg)"));
    const labels = await findLabelFiles(root);
    assert.deepEqual(labels.map((l) => l.id), ["A1", "E", "brats_tcia_pat001_0001"]);
    assert.deepEqual((await readVolumeGeometry(cases[2].label!)).shape, [4, 3, 2]);
    await assert.rejects(discoverCases(`${root}/nope`), /is not a folder/);
  }));

Deno.test("discovery follows each real folder once: symlink loops end, and a case is found once", () =>
  withTempDir("cases_loop_", async (root) => {
    for (const m of ["flair", "t1", "t1ce", "t2"]) await nifti(`${root}/in/case/x_${m}.nii.gz`);
    await Deno.symlink("..", `${root}/in/case/up`); // back up the tree
    await Deno.mkdir(`${root}/in/loop`);
    await Deno.symlink(`${root}/in/loop`, `${root}/in/loop/self`); // a folder inside itself
    await Deno.symlink(`${root}/in/case`, `${root}/in/alias`); // the same case under another name
    const { cases, problems } = await discoverCases(`${root}/in`);
    assert.deepEqual(cases.map((c) => c.id), ["x"]);
    assert.deepEqual(problems, []);
  }));
