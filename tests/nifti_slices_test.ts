import assert from "node:assert/strict";
import { niftiSlicesFromStream, parseNifti } from "../data/mod.ts";
import { openNiftiSlices, readNifti } from "../io/nifti.ts";
import { buildNifti, gzip, NIFTI_DIR, referenceEntries, tempDir } from "./_nifti_fixtures.ts";
import { TALL_SHAPE, writeTallNifti } from "../bench/_tall_nifti.ts";

/** Every slice, concatenated. */
async function collect(
  slices: AsyncIterable<Float32Array>,
  expectedLength: number,
): Promise<Float32Array> {
  const out = new Float32Array(expectedLength);
  let at = 0;
  for await (const slice of slices) {
    out.set(slice, at);
    at += slice.length;
  }
  assert.equal(at, expectedLength);
  return out;
}

for (const ref of referenceEntries()) {
  Deno.test(`streamed slices of ${ref.file} equal the whole-volume reader, voxel for voxel`, async () => {
    const whole = await readNifti(NIFTI_DIR + ref.file);
    const [nx, ny, nz] = ref.shape;
    const volumeSize = nx * ny * nz;
    const volumes = ref.shape.slice(3).reduce((a, b) => a * b, 1);
    for (let t = 0; t < volumes; t++) {
      const reader = await openNiftiSlices(NIFTI_DIR + ref.file, { volume: t });
      assert.deepEqual(reader.shape, ref.shape);
      assert.equal(reader.sliceCount, nz);
      const got = await collect(reader.slices(), volumeSize);
      assert.deepEqual(got, whole.data.subarray(t * volumeSize, (t + 1) * volumeSize));
    }
    const all = await openNiftiSlices(NIFTI_DIR + ref.file, { volume: "all" });
    assert.deepEqual(await collect(all.slices(), whole.data.length), whole.data);
  });
}

Deno.test("slices from a byte stream: big-endian NIfTI-2 float64, 4-D, with extensions", async () => {
  const shape = [5, 4, 3, 2];
  const values = Array.from({ length: 120 }, (_, i) => (i - 60) * 0.125);
  const bytes = gzip(
    buildNifti({
      version: 2,
      littleEndian: false,
      datatype: 64,
      shape,
      values,
      slope: 2,
      inter: 1,
      extensionBytes: 32,
    }),
  );
  const whole = parseNifti(bytes, { path: "x.nii.gz" });
  // Deliver the file in awkward 7-byte chunks.
  const chunks = Array.from(
    { length: Math.ceil(bytes.length / 7) },
    (_, i) => bytes.slice(i * 7, i * 7 + 7),
  );
  const stream = ReadableStream.from(chunks);
  const reader = await niftiSlicesFromStream(stream, { name: "x.nii.gz", volume: 1 });
  const got: number[] = [];
  for await (const slice of reader.slices64()) got.push(...slice);
  assert.deepEqual(got, values.slice(60).map((v) => v * 2 + 1));
  assert.deepEqual(Float32Array.from(got), whole.data.subarray(60));
});

Deno.test("stopping early releases the file; a bad volume index is a RangeError", async () => {
  const reader = await openNiftiSlices(NIFTI_DIR + "example4d.nii.gz");
  for await (const _ of reader.slices()) break;
  await assert.rejects(async () => {
    for await (const _ of reader.slices()) break;
  }, /only once/);
  await assert.rejects(
    () => openNiftiSlices(NIFTI_DIR + "example4d.nii.gz", { volume: 2 }),
    RangeError,
  );
});

// The memory thresholds of streaming this volume are checked by bench/nifti_stream_memory.ts.
Deno.test("streaming a 240×240×620 int16 .nii.gz yields every slice, voxel sums intact", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const path = `${dir}/tall.nii.gz`;
    const expectedSum = await writeTallNifti(path);
    const file = await Deno.open(path);
    const reader = await niftiSlicesFromStream(file.readable, { name: path });
    let slices = 0;
    let sum = 0;
    for await (const slice of reader.slices()) {
      slices++;
      for (let i = 0; i < slice.length; i++) sum += slice[i];
    }
    assert.equal(slices, TALL_SHAPE[2]);
    assert.equal(sum, expectedSum);
  } finally {
    await dispose();
  }
});
