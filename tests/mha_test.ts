import assert from "node:assert/strict";
import { zlibSync } from "fflate";
import { parseMhaHeader } from "../data/mha.ts";
import { readMha, readMhaHeader } from "../io/mha.ts";
import { InputError } from "../data/input_error.ts";
import { withTempDir } from "./_temp_dir.ts";

const SHARED = new URL("../../shared/mha/", import.meta.url).pathname;

Deno.test("reads ITK-written MetaImage files as VTK does (reference.json)", async () => {
  const ref = JSON.parse(await Deno.readTextFile(`${SHARED}reference.json`));
  for (const f of ref.files) {
    const vol = await readMha(`${SHARED}${f.file}`);
    assert.deepEqual(vol.shape, f.dims, f.file);
    assert.deepEqual(vol.header.spacing, f.spacing, f.file);
    assert.deepEqual(vol.header.origin, f.origin, f.file);
    assert.equal(vol.header.elementType, f.elementType);
    assert.equal(vol.header.compressed, f.compressed === "True");
    let sum = 0, min = Infinity, max = -Infinity;
    for (const v of vol.data) {
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(Math.abs(sum - f.sum) <= 1e-6 * Math.abs(f.sum), `${f.file} sum ${sum} vs ${f.sum}`);
    assert.equal(min, f.min);
    assert.equal(max, f.max);
    assert.deepEqual([...vol.data.subarray(0, 5)], f.first5);
  }
  const h = await readMhaHeader(`${SHARED}CorpusCallosumMeanShape.mha`);
  // LPS offset (-57.5, -30.5) with 2 mm spacing becomes a RAS affine with negated x, y rows.
  assert.deepEqual(h.affine, [[-2, 0, 0, 57.5], [0, -2, 0, 30.5], [0, 0, 1, 0], [0, 0, 0, 1]]);
});

function mha(header: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(text.length + data.length);
  out.set(text);
  out.set(data, text.length);
  return out;
}

Deno.test("big-endian shorts, compressed, with a direction matrix", () =>
  withTempDir("mha_", async (dir) => {
    const values = [1, -2, 300, -32768, 7, 8, 9, 10];
    const raw = new Uint8Array(16);
    values.forEach((v, i) => new DataView(raw.buffer).setInt16(2 * i, v, false));
    const header = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\n" +
      "BinaryDataByteOrderMSB = True\nCompressedData = True\nElementSpacing = 1 2 3\n" +
      "Offset = 10 20 30\nTransformMatrix = 0 1 0 1 0 0 0 0 1\nElementDataFile = LOCAL\n";
    await Deno.writeFile(`${dir}/a.mha`, mha(header, zlibSync(raw)));
    const vol = await readMha(`${dir}/a.mha`);
    assert.deepEqual([...vol.data], values);
    // Axis 0 points along world y (LPS), axis 1 along world x; RAS negates x and y.
    assert.deepEqual(vol.header.affine, [[0, -2, 0, -10], [-1, 0, 0, -20], [0, 0, 3, 30], [
      0,
      0,
      0,
      1,
    ]]);
  }));

Deno.test("bad MetaImage input gives one clear error naming the file", () =>
  withTempDir("mha_", async (dir) => {
    const base = "NDims = 3\nElementType = MET_FLOAT\n";
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "short.mha",
        mha(base + "DimSize = 4 4 4\nElementDataFile = LOCAL\n", new Uint8Array(10)),
        /holds 10 bytes but DimSize 4×4×4 needs 256/,
      ],
      [
        "huge.mha",
        mha(
          base + "DimSize = 30000 30000 30000\nCompressedData = True\nElementDataFile = LOCAL\n",
          zlibSync(new Uint8Array(4)),
        ),
        /promises more voxels/,
      ],
      [
        "corrupt.mha",
        mha(
          base + "DimSize = 2 2 2\nCompressedData = True\nElementDataFile = LOCAL\n",
          new Uint8Array([1, 2, 3, 4]),
        ),
        /corrupt zlib data/,
      ],
      [
        "type.mha",
        mha(
          "NDims = 1\nDimSize = 2\nElementType = MET_STRING\nElementDataFile = LOCAL\n",
          new Uint8Array(2),
        ),
        /ElementType "MET_STRING" is not supported/,
      ],
      [
        "nofile.mha",
        mha(base + "DimSize = 2 2 2\nElementDataFile = missing.raw\n", new Uint8Array(0)),
        /missing.raw: cannot read/,
      ],
      ["text.mha", new TextEncoder().encode("hello world\n"), /not a MetaImage header/],
    ];
    for (const [name, bytes, pattern] of cases) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      await assert.rejects(
        readMha(`${dir}/${name}`),
        (e: unknown) => e instanceof InputError && pattern.test(e.message),
        name,
      );
    }
    assert.throws(
      () => parseMhaHeader(new TextEncoder().encode("NDims = 3\n"), "x.mha"),
      /no ElementDataFile/,
    );
  }));
