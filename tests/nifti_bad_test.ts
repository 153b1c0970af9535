import assert from "node:assert/strict";
import { InputError, parseNifti } from "../data/mod.ts";
import { openNiftiSlices, readNifti, readNiftiHeader } from "../io/nifti.ts";
import { BAD_DIR, badFiles, buildNifti, gzip, runCli, tempDir } from "./_nifti_fixtures.ts";

/** Asserts `promise` rejects with one line of InputError naming `path`; returns the problem. */
async function assertRejects(promise: Promise<unknown>, path: string): Promise<string> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof InputError, `${path}: expected InputError, got ${error}`);
  assert.equal(error.path, path);
  assert.ok(error.message.startsWith(`${path}: `), error.message);
  assert.ok(!error.message.includes("\n"), error.message);
  return error.problem;
}

/** Reads every slice (all volumes). */
async function streamAll(path: string): Promise<number> {
  const reader = await openNiftiSlices(path, { volume: "all" });
  let n = 0;
  for await (const slice of reader.slices()) n += slice.length;
  return n;
}

for (const name of badFiles()) {
  Deno.test(`bad/${name} is rejected by every reader`, async () => {
    const path = BAD_DIR + name;
    await assertRejects(readNifti(path), path);
    await assertRejects(streamAll(path), path);
    const bytes = await Deno.readFile(path);
    assert.throws(() => parseNifti(bytes, { path }), InputError);
  });
}

Deno.test("deno task info rejects each bad/ file in one line with exit code 1", async () => {
  const results = await Promise.all(badFiles().map((name) => runCli(["info", BAD_DIR + name])));
  results.forEach((result, i) => {
    const name = badFiles()[i];
    assert.equal(result.code, 1, name);
    assert.equal(result.stdout, "", name);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${name}: ${result.stderr}`);
    assert.ok(lines[0].startsWith(BAD_DIR + name + ": "), lines[0]);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
});

/** Generated malformed files: name → bytes, and a word the message must contain. */
function generatedCases(): [string, Uint8Array, RegExp][] {
  const good = buildNifti({ shape: [4, 3, 2] });
  const patch = (bytes: Uint8Array, edit: (v: DataView) => void) => {
    const copy = bytes.slice();
    edit(new DataView(copy.buffer));
    return copy;
  };
  const text = new TextEncoder().encode("this is not a NIfTI file\n".repeat(20));
  return [
    ["zero.nii", new Uint8Array(0), /empty/],
    ["cut_header.nii", good.slice(0, 120), /header cut short/],
    ["cut_header.nii.gz", gzip(good.slice(0, 300)), /header cut short/],
    ["truncated.nii.gz", gzip(good).slice(0, 40), /truncated gzip/],
    ["short_data.nii", good.slice(0, good.length - 5), /dims 4×3×2 int16 need/],
    ["short_data.nii.gz", gzip(good.slice(0, good.length - 5)), /data ends after/],
    ["sizeof_hdr.nii", patch(good, (v) => v.setInt32(0, 349, true)), /sizeof_hdr is 349/],
    ["magic.nii", patch(good, (v) => v.setUint8(345, 0x3f)), /bad magic/],
    ["pair.nii", patch(good, (v) => v.setUint8(345, 0x69)), /\.hdr\/\.img pair/],
    [
      "absurd_dims.nii",
      patch(good, (v) => [1, 2, 3].forEach((i) => v.setInt16(40 + 2 * i, 30000, true))),
      /30000×30000×30000 int16 need 54 TB/,
    ],
    [
      "absurd_dims.nii.gz",
      gzip(patch(good, (v) => [1, 2, 3].forEach((i) => v.setInt16(40 + 2 * i, 30000, true)))),
      /more than a .* gzip file can hold/,
    ],
    ["negative_dim.nii", patch(good, (v) => v.setInt16(44, -3, true)), /dim\[2\] is -3/],
    ["zero_dim.nii", patch(good, (v) => v.setInt16(46, 0, true)), /dim\[3\] is 0/],
    ["dim0.nii", patch(good, (v) => v.setInt16(40, 9, true)), /dim\[0\] is 9/],
    [
      "offset_past_end.nii",
      patch(good, (v) => v.setFloat32(108, 1e6, true)),
      /vox_offset 1000000 is past the end/,
    ],
    [
      "offset_past_end.nii.gz",
      gzip(patch(good, (v) => v.setFloat32(108, 1e6, true))),
      /vox_offset 1000000 is past the end/,
    ],
    [
      "offset_in_header.nii",
      patch(good, (v) => v.setFloat32(108, 100, true)),
      /inside the 352-byte header/,
    ],
    [
      "complex.nii",
      patch(good, (v) => v.setInt16(70, 32, true)),
      /unsupported datatype code 32 \(complex64\)/,
    ],
    [
      "unknown_type.nii.gz",
      gzip(patch(good, (v) => v.setInt16(70, 9999, true))),
      /unsupported datatype code 9999 \(unknown\)/,
    ],
    ["text.nii.gz", text, /not a gzip file/],
    ["text.nii", text, /not a NIfTI file/],
    [
      "eol.nii",
      patch(buildNifti({ version: 2, shape: [2, 2] }), (v) => v.setUint8(9, 13)),
      /line-ending/,
    ],
  ];
}

Deno.test("generated malformed files each get one clear line, from the API and the CLI", async () => {
  const { dir, dispose } = await tempDir();
  try {
    const cases = generatedCases();
    const paths = cases.map(([name]) => `${dir}/${name}`);
    for (const [i, [, bytes, pattern]] of cases.entries()) {
      await Deno.writeFile(paths[i], bytes);
      const problem = await assertRejects(readNifti(paths[i]), paths[i]);
      assert.match(problem, pattern, paths[i]);
      await assertRejects(streamAll(paths[i]), paths[i]);
    }
    // Header-level problems are found without reading the data.
    await assertRejects(readNiftiHeader(`${dir}/absurd_dims.nii.gz`), `${dir}/absurd_dims.nii.gz`);
    await assertRejects(readNiftiHeader(`${dir}/missing.nii`), `${dir}/missing.nii`);
    await assertRejects(readNifti(dir), dir);

    // One CLI run over all of them: a line per file, in order, and exit code 1.
    const result = await runCli(["info", ...paths]);
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, cases.length, result.stderr);
    lines.forEach((line, i) => assert.ok(line.startsWith(paths[i] + ": "), line));
  } finally {
    await dispose();
  }
});

/** Runs `action` while recording the largest float array any code asks for. */
async function largestFloatArray(action: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  const originals = { Float32Array, Float64Array };
  const spy = <T extends object>(ctor: T) =>
    new Proxy(ctor, {
      construct(target, args) {
        if (typeof args[0] === "number") largest = Math.max(largest, args[0]);
        return Reflect.construct(target as new (...a: unknown[]) => object, args);
      },
    });
  globalThis.Float32Array = spy(originals.Float32Array);
  globalThis.Float64Array = spy(originals.Float64Array);
  try {
    await action().catch(() => {});
  } finally {
    globalThis.Float32Array = originals.Float32Array;
    globalThis.Float64Array = originals.Float64Array;
  }
  return largest;
}

Deno.test("dims promising more than a gzip file holds allocate nothing from the dims", async () => {
  const { dir, dispose } = await tempDir();
  try {
    // 1 MB of real noise behind a header claiming 2000×2000×10 uint8 (40 MB).
    const real = crypto.getRandomValues(new Uint8Array(1 << 16));
    const values = new Uint8Array(1 << 20).map((_, i) => real[i & 0xffff] ^ (i >> 16));
    const bytes = buildNifti({ datatype: 2, shape: [1024, 1024], values });
    new DataView(bytes.buffer).setInt16(42, 2000, true);
    new DataView(bytes.buffer).setInt16(44, 2000, true);
    new DataView(bytes.buffer).setInt16(40, 3, true);
    new DataView(bytes.buffer).setInt16(46, 10, true);
    const path = `${dir}/liar.nii.gz`;
    await Deno.writeFile(path, gzip(bytes));
    const problem = await assertRejects(readNifti(path), path);
    assert.match(problem, /data ends after 1.0 MB, but dims 2000×2000×10 uint8 need 40 MB/);
    const claimed = 2000 * 2000 * 10;
    for (const action of [() => readNifti(path), () => streamAll(path)]) {
      const largest = await largestFloatArray(action);
      assert.ok(largest < claimed / 10, `allocated a float array of ${largest} elements`);
    }
  } finally {
    await dispose();
  }
});
