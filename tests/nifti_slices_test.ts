import assert from "node:assert/strict";
import {
  createNiftiWriter,
  niftiSlicesFromStream,
  openNiftiSlices,
  parseNifti,
  readNifti,
} from "../data/mod.ts";
import { buildNifti, gzip, NIFTI_DIR, referenceEntries, ROOT, tempDir } from "./_nifti_fixtures.ts";

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

Deno.test("streaming a 240×240×620 int16 .nii.gz uses far less memory than the volume", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const [nx, ny, nz] = [240, 240, 620];
    const path = `${dir}/tall.nii.gz`;
    const writer = createNiftiWriter(path, { shape: [nx, ny, nz], datatype: "int16", level: 1 })
      .getWriter();
    let expectedSum = 0;
    const slice = new Int16Array(nx * ny);
    for (let z = 0; z < nz; z++) {
      // A head-like ellipse of varied values, zero outside, like a real scan.
      for (let y = 0; y < ny; y++) {
        const half = 100 * Math.sqrt(Math.max(0, 1 - ((y - 120) / 110) ** 2));
        for (let x = 0; x < nx; x++) {
          const v = Math.abs(x - 120) < half
            ? ((x * 31 + y * 17 + z * 7) % 1500) + (((x * y) ^ z) & 63)
            : 0;
          slice[y * nx + x] = v;
          expectedSum += v;
        }
      }
      await writer.write(slice);
    }
    await writer.close();
    const volumeBytes = nx * ny * nz * 2;

    // Once collecting garbage after every slice (what the reader holds), once with V8's lazy GC.
    const probe = async (v8Flags: string[]) => {
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", ...v8Flags, "tests/_nifti_stream_probe.ts", path],
        cwd: ROOT,
        stdout: "piped",
        stderr: "inherit",
      }).output();
      assert.equal(run.code, 0);
      const result = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.equal(result.slices, nz);
      assert.equal(result.sum, expectedSum);
      return result as { rssGrowth: number; heapGrowth: number };
    };
    const [held, lazy] = await Promise.all([probe(["--v8-flags=--expose-gc"]), probe([])]);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `volume ${mb(volumeBytes)} int16 (${mb(volumeBytes * 2)} as float32), file ${
        mb(Deno.statSync(path).size)
      }; peak growth while streaming: held ${mb(held.heapGrowth)} heap+external, ` +
        `${mb(held.rssGrowth)} RSS; with lazy GC ${mb(lazy.rssGrowth)} RSS`,
    );
    assert.ok(held.heapGrowth < volumeBytes / 10, `reader held ${mb(held.heapGrowth)}`);
    assert.ok(held.rssGrowth < volumeBytes / 2, `RSS grew ${mb(held.rssGrowth)}`);
    // Even uncollected garbage stays below what a whole float32 volume alone would take.
    assert.ok(lazy.rssGrowth < volumeBytes * 2, `RSS grew ${mb(lazy.rssGrowth)} with lazy GC`);
  } finally {
    await dispose();
  }
});
