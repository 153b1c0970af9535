import assert from "node:assert/strict";
import { MedianFrequencyAccumulator, medianFrequencyWeights } from "../train/class_weights.ts";

Deno.test("median-frequency weights match a hand computation", () => {
  // Three 2x3 slices, 4 classes.
  const slices = [
    [0, 0, 0, 0, 1, 1], // 0:4 1:2
    [0, 0, 0, 2, 2, 3], // 0:3 2:2 3:1
    [0, 0, 0, 0, 0, 0], // 0:6
  ];
  const acc = new MedianFrequencyAccumulator(4);
  for (const s of slices) acc.add(new Uint8Array(s));
  // freq(0) = 13/18 (present in all 3 slices); freq(1) = 2/6; freq(2) = 2/6; freq(3) = 1/6.
  const freq = [13 / 18, 2 / 6, 2 / 6, 1 / 6];
  acc.frequencies().forEach((f, c) => assert.ok(Math.abs(f - freq[c]) < 1e-12, `freq ${c}`));
  // Sorted: 1/6, 1/3, 1/3, 13/18 -> median = (1/3 + 1/3) / 2 = 1/3.
  const expected = [(1 / 3) / (13 / 18), 1, 1, 2];
  acc.weights().forEach((w, c) =>
    assert.ok(Math.abs(w - expected[c]) < 1e-12, `weight ${c}: ${w}`)
  );
  assert.deepEqual(acc.counts().presentSlices, [3, 1, 1, 1]);
});

Deno.test("median over an odd number of present classes; absent classes weigh 1", async () => {
  const w = await medianFrequencyWeights([
    new Uint8Array([0, 0, 0, 1]),
    new Uint8Array([0, 0, 2, 2]),
  ], {
    classes: 4,
  });
  // freq = [5/8, 1/4, 1/2, absent]; median 1/2.
  assert.deepEqual(w.map((x) => +x.toFixed(12)), [0.8, 2, 1, 1]);
});

Deno.test("class index out of range is rejected with the file named", () => {
  const acc = new MedianFrequencyAccumulator(3);
  assert.throws(
    () => acc.add(new Uint8Array([0, 3]), { path: "a_seg.nii.gz" }),
    /a_seg\.nii\.gz.*outside 0\.\.2/,
  );
  assert.throws(() => new MedianFrequencyAccumulator(0), RangeError);
});
