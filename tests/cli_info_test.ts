import assert from "node:assert/strict";
import { closeRel, NIFTI_DIR, referenceEntries, runCli } from "./_nifti_fixtures.ts";

const KEYS = [
  "version",
  "shape",
  "datatype",
  "pixdim",
  "sclSlope",
  "sclInter",
  "qformCode",
  "sformCode",
  "affine",
  "stats",
  "nonFinite",
];

Deno.test("info --json prints exactly the agreed keys, matching nibabel for every file", async () => {
  const refs = referenceEntries();
  const result = await runCli(["info", "--json", ...refs.map((r) => NIFTI_DIR + r.file)]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, refs.length);
  refs.forEach((ref, i) => {
    const info = JSON.parse(lines[i]);
    assert.deepEqual(Object.keys(info), KEYS, ref.file);
    assert.deepEqual(Object.keys(info.stats), ["sum", "min", "max", "mean"], ref.file);
    assert.equal(info.version, ref.nifti_version);
    assert.deepEqual(info.shape, ref.shape);
    assert.equal(info.datatype, ref.datatype_name);
    info.pixdim.forEach((v: number, k: number) => assert.ok(closeRel(v, ref.pixdim[k], 1e-7)));
    assert.equal(info.sclSlope, ref.scl_slope);
    assert.equal(info.sclInter, ref.scl_inter);
    assert.equal(info.qformCode, ref.qform_code);
    assert.equal(info.sformCode, ref.sform_code);
    info.affine.flat().forEach((v: number, k: number) => {
      assert.ok(Math.abs(v - ref.affine.flat()[k]) <= 1e-4, `${ref.file} affine ${k}`);
    });
    for (const key of ["sum", "min", "max", "mean"] as const) {
      assert.ok(closeRel(info.stats[key], ref[key], 1e-6), `${ref.file} ${key}`);
    }
    assert.equal(info.nonFinite, ref.n_nonfinite);
  });
});

Deno.test("info prints a readable header, affine and statistics", async () => {
  const result = await runCli(["info", NIFTI_DIR + "anatomical.nii"]);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout;
  assert.match(text, /^format\s+NIfTI-1, big-endian$/m);
  assert.match(text, /^data_type\s+int16 \(code 4, 16 bits\)$/m);
  assert.match(text, /^shape\s+33 × 41 × 25$/m);
  assert.match(text, /^pixdim\s+\[-1, 2, 2, 2, 0, 0, 0, 0\]$/m);
  assert.match(text, /^units\s+mm, s \(xyzt_units 10\)$/m);
  assert.match(text, /^sform_code\s+2 \(aligned\)$/m);
  assert.match(text, /^\s+-2\.0000\s+0\.0000\s+0\.0000\s+32\.0000$/m);
  assert.match(text, /^stats\s+min -610\s+max 30393\s+mean 8401\.067\s+sum 284166082$/m);
  assert.match(text, /^voxels\s+33825 \(0 non-finite\)$/m);
});

Deno.test("info usage: --help, no file, unknown option, --gpu", async () => {
  const help = await runCli(["info", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: deno task info FILE/);
  const none = await runCli(["info"]);
  assert.equal(none.code, 2);
  const unknown = await runCli(["info", "--frobnicate", "x.nii"]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr.trimEnd().split("\n").length, 1, unknown.stderr);
  // Described when WebGPU is there, otherwise refused in one line: never a stack trace.
  const gpu = await runCli(["info", "--gpu"]);
  if (gpu.code === 0) assert.ok(gpu.stdout.trim().length > 0);
  else assert.equal(gpu.stderr.trimEnd().split("\n").length, 1, gpu.stderr);
});
