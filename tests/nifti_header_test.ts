import assert from "node:assert/strict";
import { readHeader as nrjReadHeader } from "nifti-reader-js";
import {
  createNiftiHeader,
  type NiftiHeader,
  parseNiftiHeader,
  serializeNiftiHeader,
} from "../data/mod.ts";
import { readNiftiHeader } from "../io/nifti.ts";
import { parseNifti } from "../data/nifti_reader.ts";
import { gunzipSync } from "fflate";
import { NIFTI_DIR, referenceEntries } from "./_nifti_fixtures.ts";

/** A reference file's stored header bytes (decompressed). */
function storedHeader(file: string, size: number): Uint8Array {
  const bytes = Deno.readFileSync(NIFTI_DIR + file);
  return (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).slice(0, size);
}

/** Byte ranges of fields NIfTI left unused (NIfTI-1 Analyze leftovers, glmax/glmin; NIfTI-2 padding). */
const UNUSED: Record<number, [number, number][]> = { 1: [[4, 39], [140, 148]], 2: [[525, 540]] };
/** String fields (offset, length): bytes after their terminating NUL carry no meaning. */
const STRINGS: Record<number, [number, number][]> = {
  1: [[148, 80], [228, 24], [328, 16]],
  2: [[240, 80], [320, 24], [508, 16]],
};

/** Zeroes unused bytes, so that only stored fields are compared. */
function meaningful(bytes: Uint8Array, version: 1 | 2): Uint8Array {
  for (const [from, to] of UNUSED[version]) bytes.fill(0, from, to);
  for (const [at, length] of STRINGS[version]) {
    const nul = bytes.subarray(at, at + length).indexOf(0);
    if (nul >= 0) bytes.fill(0, at + nul, at + length);
  }
  return bytes;
}

/** Fields nifti-reader-js reads, compared with ours (an independent parser). */
function assertAgreesWithNiftiReaderJs(
  ours: NiftiHeader,
  bytes: Uint8Array,
  littleEndian: boolean,
  label: string,
): void {
  const buffer = bytes.slice(0, ours.version === 1 ? 348 : 540).buffer;
  const theirs = nrjReadHeader(buffer);
  assert.ok(theirs, label);
  assert.equal(theirs.littleEndian, littleEndian, label);
  assert.deepEqual(theirs.dims, ours.dims, label);
  assert.equal(theirs.datatypeCode, ours.datatype, label);
  assert.equal(theirs.numBitsPerVoxel, ours.bitpix, label);
  assert.deepEqual(theirs.pixDims, ours.pixdim, label);
  assert.equal(theirs.scl_slope, ours.sclSlope, label);
  assert.equal(theirs.scl_inter, ours.sclInter, label);
  assert.equal(theirs.qform_code, ours.qformCode, label);
  assert.equal(theirs.sform_code, ours.sformCode, label);
  assert.equal(theirs.xyzt_units, ours.xyztUnits, label);
  assert.deepEqual(
    [theirs.quatern_b, theirs.quatern_c, theirs.quatern_d],
    [ours.quaternB, ours.quaternC, ours.quaternD],
    label,
  );
  assert.equal(theirs.description, ours.descrip, label);
}

for (const ref of referenceEntries()) {
  Deno.test(`header of ${ref.file} agrees with nifti-reader-js, and re-serialises byte-stably`, async () => {
    const header = await readNiftiHeader(NIFTI_DIR + ref.file);
    const raw = parseNifti(Deno.readFileSync(NIFTI_DIR + ref.file), { path: ref.file });
    assert.equal(raw.header.sizeofHdr, ref.nifti_version === 1 ? 348 : 540);
    // Our own serialiser, read back by nifti-reader-js and by us, in both byte orders.
    for (const littleEndian of [true, false]) {
      const bytes = serializeNiftiHeader(header, { littleEndian });
      assertAgreesWithNiftiReaderJs(
        header,
        bytes,
        littleEndian,
        `${ref.file} ${littleEndian ? "LE" : "BE"}`,
      );
      const again = parseNiftiHeader(bytes, { path: ref.file });
      assert.deepEqual(
        { ...again, littleEndian: header.littleEndian, voxOffset: 0, hasExtensions: false },
        { ...header, voxOffset: 0, hasExtensions: false },
      );
    }
    // Serialised in the file's own byte order, every used field matches the file byte for byte.
    const size = header.version === 1 ? 348 : 540;
    const ours = serializeNiftiHeader(header).slice(0, size);
    const theirs = storedHeader(ref.file, size);
    assert.deepEqual(meaningful(ours, header.version), meaningful(theirs, header.version));
  });
}

Deno.test("createNiftiHeader copies the reference's geometry for a new datatype and shape", async () => {
  const reference = await readNiftiHeader(NIFTI_DIR + "example4d.nii.gz");
  const h = createNiftiHeader({ shape: [128, 96, 24], datatype: "uint8", reference });
  assert.deepEqual(h.dims, [3, 128, 96, 24, 1, 1, 1, 1]);
  assert.equal(h.datatypeName, "uint8");
  assert.equal(h.bitpix, 8);
  assert.equal(h.littleEndian, true);
  assert.equal(h.voxOffset, 352);
  assert.equal(h.sclSlope, 1);
  assert.equal(h.sclInter, 0);
  for (const key of ["pixdim", "xyztUnits", "qformCode", "sformCode", "srowX", "affine"] as const) {
    assert.deepEqual(h[key], reference[key], key);
  }
  const nifti2 = await readNiftiHeader(NIFTI_DIR + "example_nifti2.nii.gz");
  const h2 = createNiftiHeader({ shape: [32, 20, 12], datatype: "int16", reference: nifti2 });
  assert.equal(h2.version, 2);
  assert.equal(serializeNiftiHeader(h2).length, 544);
  assert.deepEqual(h2.affine, nifti2.affine);
});

Deno.test("createNiftiHeader without a reference stores the given affine as an aligned sform", () => {
  const affine = [[0, 0, 1.5, -10], [-2, 0, 0, 20], [0, 3, 0, 5], [0, 0, 0, 1]];
  const h = createNiftiHeader({ shape: [4, 5, 6], datatype: "float32", affine });
  assert.equal(h.sformCode, 2);
  assert.equal(h.qformCode, 0);
  assert.deepEqual(h.affine, affine);
  assert.deepEqual(h.pixdim.slice(1, 4), [2, 3, 1.5]);
  assert.throws(() => createNiftiHeader({ shape: [4, 0, 6], datatype: "uint8" }), RangeError);
  assert.throws(
    () => createNiftiHeader({ shape: [4, 5], datatype: "complex64" as "uint8" }),
    TypeError,
  );
  assert.equal(createNiftiHeader({ shape: [40000, 2], datatype: "uint8" }).version, 2);
});
