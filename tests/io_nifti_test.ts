import assert from "node:assert/strict";
import { createNiftiWriter, readNifti, readNiftiHeader, writeNifti } from "../io/nifti.ts";
import { NIFTI_DIR, tempDir } from "./_nifti_fixtures.ts";

/** Geometry fields a written file must copy from its reference. */
const GEOMETRY = [
  "pixdim",
  "xyztUnits",
  "qformCode",
  "sformCode",
  "quaternB",
  "quaternC",
  "quaternD",
  "qoffsetX",
  "qoffsetY",
  "qoffsetZ",
  "srowX",
  "srowY",
  "srowZ",
  "affine",
] as const;

const SAMPLES: Record<"uint8" | "int16" | "float32", (i: number) => number> = {
  uint8: (i) => (i * 7) % 256,
  int16: (i) => ((i * 7919) % 65536) - 32768,
  float32: (i) => Math.fround(Math.sin(i) * 1e3),
};

Deno.test("written volumes read back identically: uint8, int16, float32 × .nii, .nii.gz", async () => {
  const { dir, dispose } = await tempDir();
  try {
    for (const refFile of ["anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz"]) {
      const reference = await readNiftiHeader(NIFTI_DIR + refFile);
      const shape = reference.dims.slice(1, reference.dims[0] + 1);
      const count = shape.reduce((a, b) => a * b, 1);
      for (const datatype of ["uint8", "int16", "float32"] as const) {
        const data = Float32Array.from({ length: count }, (_, i) => SAMPLES[datatype](i));
        for (const ext of [".nii", ".nii.gz"]) {
          const path = `${dir}/${refFile.split(".")[0]}_${datatype}${ext}`;
          await writeNifti(path, data, { shape, datatype, reference });
          const back = await readNifti(path);
          const what = `${path}`;
          assert.deepEqual(back.shape, shape, what);
          assert.equal(back.header.datatypeName, datatype, what);
          assert.equal(back.header.version, reference.version, what);
          assert.deepEqual(back.data, data, what);
          for (const key of GEOMETRY) {
            assert.deepEqual(back.header[key], reference[key], `${what} ${key}`);
          }
          const magic = (await Deno.readFile(path)).subarray(0, 2);
          assert.equal(magic[0] === 0x1f && magic[1] === 0x8b, ext === ".nii.gz", what);
        }
      }
    }
  } finally {
    await dispose();
  }
});

Deno.test("integers are rounded and clamped, NaN stored as 0; gzip can be forced", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const values = [-1.4, 2.5, 300, NaN, 254.4, -0.2];
    await writeNifti(`${dir}/a.nii`, values, { shape: [3, 2], datatype: "uint8", gzip: true });
    const back = await readNifti(`${dir}/a.nii`);
    assert.deepEqual(Array.from(back.data), [0, 3, 255, 0, 254, 0]);
    assert.equal((await Deno.readFile(`${dir}/a.nii`))[0], 0x1f);
    await writeNifti(`${dir}/b.nii`, [40000, -40000, 1.5, -1.5], { shape: [4], datatype: "int16" });
    assert.deepEqual(Array.from((await readNifti(`${dir}/b.nii`)).data), [32767, -32768, 2, -1]);
  } finally {
    await dispose();
  }
});

/** Names in `dir`. */
const list = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("the writer streams into a temporary file and renames it only on close", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const path = `${dir}/out.nii.gz`;
    const writer = createNiftiWriter(path, { shape: [4, 3, 5], datatype: "int16" }).getWriter();
    for (let z = 0; z < 5; z++) {
      await writer.write(new Int16Array(12).fill(z));
      const names = list(dir);
      assert.equal(names.length, 1);
      assert.match(names[0], /^out\.nii\.gz\.tmp-/);
    }
    await writer.close();
    assert.deepEqual(list(dir), ["out.nii.gz"]);
    const back = await readNifti(path);
    assert.deepEqual(
      Array.from(back.data),
      Array.from({ length: 60 }, (_, i) => Math.floor(i / 12)),
    );
  } finally {
    await dispose();
  }
});

Deno.test("abort, a wrong slice, or too few or too many slices leave nothing behind", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const path = `${dir}/out.nii`;
    const options = { shape: [4, 3, 2], datatype: "uint8" } as const;

    const aborted = createNiftiWriter(path, options).getWriter();
    await aborted.write(new Uint8Array(12));
    await aborted.abort(new Error("cancelled"));
    assert.deepEqual(list(dir), []);

    const wrongSize = createNiftiWriter(path, options).getWriter();
    await assert.rejects(() => wrongSize.write(new Uint8Array(11)), /11 values, expected 4×3 = 12/);
    assert.deepEqual(list(dir), []);

    const tooFew = createNiftiWriter(path, options).getWriter();
    await tooFew.write(new Uint8Array(12));
    await assert.rejects(() => tooFew.close(), /got 1 of 2 slices/);
    assert.deepEqual(list(dir), []);

    const tooMany = createNiftiWriter(path, options).getWriter();
    await tooMany.write(new Uint8Array(12));
    await tooMany.write(new Uint8Array(12));
    await assert.rejects(() => tooMany.write(new Uint8Array(12)), /more than the 2 slices/);
    assert.deepEqual(list(dir), []);

    await assert.rejects(() => writeNifti(path, new Float32Array(5), options), RangeError);
    assert.deepEqual(list(dir), []);

    // A failed rewrite keeps the previous file intact.
    await writeNifti(path, new Uint8Array(24).fill(9), options);
    const again = createNiftiWriter(path, options).getWriter();
    await again.write(new Uint8Array(12));
    await again.abort();
    assert.deepEqual(list(dir), ["out.nii"]);
    assert.deepEqual(Array.from((await readNifti(path)).data), Array(24).fill(9));
  } finally {
    await dispose();
  }
});
