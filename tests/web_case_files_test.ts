import assert from "node:assert/strict";
import { sortDroppedFiles } from "../web/case_files.ts";

const files = (...names: string[]) => names.map((n) => new File([n], n));
const BRATS21 = ["c7_flair.nii.gz", "c7_t1.nii.gz", "c7_t1ce.nii.gz", "c7_t2.nii.gz"];

Deno.test("sortDroppedFiles: a full case with labels, a checkpoint and strays", () => {
  const dropped = sortDroppedFiles(
    files(...BRATS21, "c7_seg.nii.gz", "mine.safetensors", ".DS_Store", "c7_flair.png"),
  );
  assert.equal(dropped.problem, undefined);
  assert.equal(dropped.id, "c7");
  assert.deepEqual(
    Object.fromEntries(Object.entries(dropped.modalities).map(([m, f]) => [m, f.name])),
    { flair: "c7_flair.nii.gz", t1: "c7_t1.nii.gz", t1ce: "c7_t1ce.nii.gz", t2: "c7_t2.nii.gz" },
  );
  assert.equal(dropped.seg?.name, "c7_seg.nii.gz");
  assert.equal(dropped.checkpoint?.name, "mine.safetensors");
  assert.deepEqual(dropped.ignored, [".DS_Store", "c7_flair.png"]);
});

Deno.test("sortDroppedFiles: BraTS 2023 names map to the four modalities", () => {
  const names = ["t2f", "t1n", "t1c", "t2w"].map((s) => `BraTS-GLI-00001-000-${s}.nii.gz`);
  const dropped = sortDroppedFiles(files(...names));
  assert.equal(dropped.problem, undefined);
  assert.equal(dropped.modalities.flair?.name, names[0]);
  assert.equal(dropped.modalities.t1ce?.name, names[2]);
  // A missing one is named in the style of the others.
  assert.equal(
    sortDroppedFiles(files(...names.slice(0, 3))).problem,
    "BraTS-GLI-00001-000: missing t2 (expected BraTS-GLI-00001-000-t2w.nii.gz)",
  );
});

Deno.test("sortDroppedFiles: each thing that keeps a case from running is one line", () => {
  assert.equal(
    sortDroppedFiles(files(...BRATS21.slice(1))).problem,
    "c7: missing flair (expected c7_flair.nii.gz)",
  );
  assert.equal(
    sortDroppedFiles(files(...BRATS21, "c8_t1.nii.gz")).problem,
    "files of 2 cases (c7, c8): drop one case at a time",
  );
  assert.equal(
    sortDroppedFiles(files(...BRATS21, "c7_t1.nii")).problem,
    "two t1 files (c7_t1.nii.gz, c7_t1.nii)",
  );
  assert.match(sortDroppedFiles(files("notes.txt")).problem!, /^no modality file: /);
  assert.match(sortDroppedFiles([]).problem!, /^no modality file: /);
});
