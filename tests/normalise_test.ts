import assert from "node:assert/strict";
import {
  normaliseSlice,
  NormaliseStream,
  ZScoreAccumulator,
  zScoreStats,
} from "../data/normalise.ts";

Deno.test("streamed statistics equal the whole-volume z-score over non-zero voxels", async () => {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const slices = Array.from(
    { length: 6 },
    () => Float32Array.from({ length: 100 }, () => (rand() < 0.3 ? 0 : 1000 + 50 * rand())),
  );
  const all = slices.flatMap((s) => [...s]).filter((v) => v !== 0);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  async function* stream() {
    for (const s of slices) yield s;
  }
  const stats = await zScoreStats(stream());
  assert.equal(stats.count, all.length);
  assert.ok(Math.abs(stats.mean - mean) < 1e-9);
  assert.ok(Math.abs(stats.std - std) < 1e-9);
  const out = normaliseSlice(slices[0], stats);
  for (let i = 0; i < out.length; i++) {
    if (slices[0][i] === 0) assert.equal(out[i], 0);
    else assert.ok(Math.abs(out[i] - (slices[0][i] - mean) / std) < 1e-4);
  }
});

Deno.test("NormaliseStream normalises each slice and keeps background 0", async () => {
  const stats = { count: 2, mean: 6, std: 2, constant: false };
  const chunks: Float32Array[] = [];
  await ReadableStream.from([new Float32Array([0, 4, 8])]).pipeThrough(new NormaliseStream(stats))
    .pipeTo(new WritableStream({ write: (c) => void chunks.push(c) }));
  assert.deepEqual([...chunks[0]], [0, -1, 1]);
});

Deno.test("constant or empty volumes do not divide by zero; NaN is an error", () => {
  const acc = new ZScoreAccumulator();
  acc.add([0, 5, 5]);
  assert.deepEqual(acc.stats(), { count: 2, mean: 5, std: 1, constant: true });
  assert.deepEqual(new ZScoreAccumulator().stats(), { count: 0, mean: 0, std: 1, constant: false });
  assert.throws(
    () => new ZScoreAccumulator({ path: "a.nii" }).add([1, NaN]),
    /a.nii: volume holds non-finite/,
  );
});
