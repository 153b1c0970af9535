import assert from "node:assert/strict";
import { InputError, parseNifti } from "../data/mod.ts";
import { readNifti, readNiftiHeader } from "../io/nifti.ts";
import { buildNifti, closeRel, gzip, NIFTI_DIR, referenceEntries } from "./_nifti_fixtures.ts";

function assertAffine(actual: number[][], expected: number[][], label: string): void {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      assert.ok(
        Math.abs(actual[i][j] - expected[i][j]) <= 1e-4,
        `${label}: affine[${i}][${j}] = ${actual[i][j]}, nibabel ${expected[i][j]}`,
      );
    }
  }
}

for (const ref of referenceEntries()) {
  Deno.test(`readNifti matches nibabel on ${ref.file}`, async () => {
    const volume = await readNifti(NIFTI_DIR + ref.file);
    const h = volume.header;
    assert.deepEqual(volume.shape, ref.shape);
    assert.equal(h.version, ref.nifti_version);
    assert.equal(h.littleEndian, ref.endianness === "little");
    assert.deepEqual(h.dims, ref.dim);
    assert.equal(h.datatype, ref.datatype);
    assert.equal(h.datatypeName, ref.datatype_name);
    assert.equal(h.bitpix, ref.bitpix);
    for (let i = 0; i < 8; i++) assert.ok(closeRel(h.pixdim[i], ref.pixdim[i], 1e-7));
    assert.equal(h.sclSlope, ref.scl_slope);
    assert.equal(h.sclInter, ref.scl_inter);
    assert.equal(h.qformCode, ref.qform_code);
    assert.equal(h.sformCode, ref.sform_code);
    assert.equal(h.voxOffset, ref.vox_offset);
    assert.equal(h.xyztUnits, ref.xyzt_units);
    assert.equal(h.hasExtensions, ref.n_extensions_nibabel > 0);
    assertAffine(h.affine, ref.affine, ref.file);
    assert.equal(volume.data.length, ref.n_voxels);

    // Statistics in float64 over finite values, as nibabel's get_fdata().
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let finite = 0;
    for (const v of volume.data) {
      if (!Number.isFinite(v)) continue;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
      finite++;
    }
    assert.equal(ref.n_voxels - finite, ref.n_nonfinite);
    assert.ok(closeRel(sum, ref.sum, 1e-6), `sum ${sum} vs ${ref.sum}`);
    assert.ok(closeRel(min, ref.min, 1e-6), `min ${min} vs ${ref.min}`);
    assert.ok(closeRel(max, ref.max, 1e-6), `max ${max} vs ${ref.max}`);
    assert.ok(closeRel(sum / finite, ref.mean, 1e-6), `mean ${sum / finite} vs ${ref.mean}`);

    // Single voxels pin down the axis order (x fastest) and the scaling.
    ref.voxel_indices.forEach((index, n) => {
      let flat = 0;
      for (let a = index.length - 1; a >= 0; a--) flat = flat * ref.shape[a] + index[a];
      assert.ok(closeRel(volume.data[flat], ref.voxel_values[n], 1e-6), `voxel [${index}]`);
    });

    // The header-only reader agrees, and so does parsing the bytes in memory.
    assert.deepEqual(await readNiftiHeader(NIFTI_DIR + ref.file), h);
    const parsed = parseNifti(await Deno.readFile(NIFTI_DIR + ref.file), { path: ref.file });
    assert.deepEqual(parsed.data, volume.data);
  });
}

const DATATYPES: [number, string, number[]][] = [
  [2, "uint8", [0, 1, 200, 255]],
  [256, "int8", [-128, -1, 0, 127]],
  [4, "int16", [-32768, -2, 7, 32767]],
  [512, "uint16", [0, 1, 40000, 65535]],
  [8, "int32", [-2147483648, -5, 6, 2147483647]],
  [768, "uint32", [0, 3, 3000000000, 4294967295]],
  [16, "float32", [-1.5, 0.25, 3e30, -7]],
  [64, "float64", [-1.5, 0.1, 1e-300, 12345.678]],
];

Deno.test("every datatype in both byte orders and both versions, plain and gzipped", () => {
  for (const [code, name, samples] of DATATYPES) {
    const values = Array.from({ length: 3 * 2 * 2 }, (_, i) => samples[i % samples.length]);
    for (const version of [1, 2] as const) {
      for (const littleEndian of [true, false]) {
        const bytes = buildNifti({
          version,
          littleEndian,
          datatype: code,
          shape: [3, 2, 2],
          values,
        });
        for (const [label, input] of [["plain", bytes], ["gzip", gzip(bytes)]] as const) {
          const v = parseNifti(input, { path: `t.nii` });
          const what = `${name} v${version} ${littleEndian ? "LE" : "BE"} ${label}`;
          assert.equal(v.header.datatypeName, name, what);
          assert.deepEqual(Array.from(v.data), values.map(Math.fround), what);
        }
      }
    }
  }
});

Deno.test("scl_slope/scl_inter apply unless slope is 0 or NaN", () => {
  const values = [0, 1, -3, 100];
  const read = (slope: number, inter: number) =>
    Array.from(parseNifti(buildNifti({ shape: [4], values, slope, inter })).data);
  assert.deepEqual(read(2, 10), [10, 12, 4, 210]);
  assert.deepEqual(read(0.5, -1), [-1, -0.5, -2.5, 49]);
  assert.deepEqual(read(0, 10), values);
  assert.deepEqual(read(NaN, 10), values);
  const v2 = parseNifti(buildNifti({ version: 2, shape: [4], values, slope: 3, inter: 0.5 }));
  assert.deepEqual(Array.from(v2.data), [0.5, 3.5, -8.5, 300.5]);
  assert.throws(
    () => parseNifti(buildNifti({ shape: [4], values, slope: 2, inter: Infinity })),
    InputError,
  );
});

Deno.test("header extensions are skipped: data starts at vox_offset", () => {
  for (const version of [1, 2] as const) {
    const values = [5, 6, 7, 8, 9, 10];
    const bytes = buildNifti({ version, shape: [3, 2], values, extensionBytes: 48 });
    const v = parseNifti(gzip(bytes), { path: "ext.nii.gz" });
    assert.equal(v.header.voxOffset, (version === 1 ? 352 : 544) + 48);
    assert.equal(v.header.hasExtensions, true);
    assert.deepEqual(Array.from(v.data), values);
  }
});

/** The matrix with -0 written as 0, for deepEqual. */
const plain = (m: number[][]) => m.map((row) => row.map((v) => v + 0));

Deno.test("affine: sform wins, then qform, then nibabel's centred pixdim fallback", () => {
  const pixdim = [-1, 2, 3, 4, 1, 1, 1, 1];
  const srow = [[0, -2, 0, 10], [3, 0, 0, -20], [0, 0, 4, 30]];
  const both = parseNifti(
    buildNifti({ shape: [5, 6, 7], pixdim, srow, sformCode: 1, qformCode: 1 }),
  );
  assert.deepEqual(plain(both.header.affine), [...srow, [0, 0, 0, 1]]);
  // qform with the identity rotation: diag(px, py, qfac * pz) plus the offsets.
  const q = parseNifti(
    buildNifti({ shape: [5, 6, 7], pixdim, srow, qformCode: 1, qoffset: [1, 2, 3] }),
  );
  assert.deepEqual(plain(q.header.affine), [[2, 0, 0, 1], [0, 3, 0, 2], [0, 0, -4, 3], [
    0,
    0,
    0,
    1,
  ]]);
  // 180° about z (quaternion b=c=0, d=1): x and y flip.
  const rz = parseNifti(buildNifti({ shape: [2, 2, 2], qformCode: 2, quatern: [0, 0, 1] }));
  assert.deepEqual(plain(rz.header.affine), [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [
    0,
    0,
    0,
    1,
  ]]);
  // Neither: nibabel's diag(-px, py, pz) centred on the array, 0 pixdims taken as 1.
  const none = parseNifti(buildNifti({ shape: [5, 6, 7], pixdim: [1, 2, 0, -4, 1, 1, 1, 1] }));
  assert.deepEqual(plain(none.header.affine), [[-2, 0, 0, 4], [0, 1, 0, -2.5], [0, 0, 4, -12], [
    0,
    0,
    0,
    1,
  ]]);
  const flat = parseNifti(buildNifti({ shape: [4, 3], pixdim: [1, 2, 3, 9, 1, 1, 1, 1] }));
  assert.deepEqual(plain(flat.header.affine), [[-2, 0, 0, 3], [0, 3, 0, -3], [0, 0, 1, 0], [
    0,
    0,
    0,
    1,
  ]]);
});

Deno.test("4-D volumes keep every volume in order, x fastest", () => {
  const v = parseNifti(buildNifti({ shape: [2, 3, 2, 3] }));
  assert.deepEqual(v.shape, [2, 3, 2, 3]);
  assert.deepEqual(Array.from(v.data), Array.from({ length: 36 }, (_, i) => i));
});
