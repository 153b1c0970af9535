import assert from "node:assert/strict";
import { run as synth } from "../cli/synth.ts";
import { caseSources, discoverCases } from "../io/cases.ts";
import { openTrainingCases } from "../train/training_cases.ts";

Deno.test("case files: streamed tumour index and MFB weights match the phantoms; cases load normalised and padded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const quiet = console.log;
    console.log = () => {};
    try {
      assert.equal(await synth([dir, "--cases", "3", "--seed", "5", "--size", "40,36,10"]), 0);
    } finally {
      console.log = quiet;
    }
    const { cases } = await discoverCases(dir, { requireLabel: true });
    cases.sort((a, b) => a.id.localeCompare(b.id));
    const opened = await Promise.all(cases.map(caseSources));
    const source = await openTrainingCases(opened.slice(0, 2), {
      labels: "brats2017",
      val: opened.slice(2),
    });
    // Hand computation of the paper's definition over the loaded (unpadded) label slices.
    const plane = 40 * 36;
    const pixels = [0, 0, 0, 0], present = [0, 0, 0, 0];
    const tumour: number[][] = [];
    for (const c of cases.slice(0, 2)) {
      const loaded = await source.loadTrain(cases.indexOf(c));
      assert.deepEqual([loaded.width, loaded.height, loaded.depth], [48, 48, 10]);
      // Centred in the padded plane, as segment pads.
      assert.deepEqual(loaded.crop, {
        width: 40,
        height: 36,
        paddedWidth: 48,
        paddedHeight: 48,
        left: 4,
        top: 6,
      });
      const { left, top } = loaded.crop;
      const t: number[] = [];
      for (let z = 0; z < 10; z++) {
        const counts = [0, 0, 0, 0];
        for (let y = 0; y < 36; y++) {
          for (let x = 0; x < 40; x++) counts[loaded.classes[(z * 48 + y + top) * 48 + x + left]]++;
        }
        counts.forEach((n, k) => {
          pixels[k] += n;
          if (n > 0) present[k] += plane;
        });
        t.push(counts[1] + counts[2] + counts[3] > 0 ? 1 : 0);
        // Padding (the rows above and below, the columns left and right) is background and zero.
        for (let y = 0; y < 48; y++) {
          const inside = y >= top && y < top + 36;
          for (const x of inside ? [0, left - 1, left + 40, 47] : [0, 3, 24, 47]) {
            assert.equal(loaded.classes[(z * 48 + y) * 48 + x], 0);
            for (let m = 0; m < 4; m++) {
              assert.equal(loaded.image[((z * 4 + m) * 48 + y) * 48 + x], 0);
            }
          }
        }
      }
      tumour.push(t);
    }
    const freq = pixels.map((n, k) => (n ? n / present[k] : 0));
    const sorted = freq.filter((f) => f > 0).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    const want = freq.map((f) => (f > 0 ? median / f : 1));
    source.classWeights.forEach((w, k) =>
      assert.ok(Math.abs(w - want[k]) < 1e-9, `weight ${k}: ${w} vs ${want[k]}`)
    );
    assert.deepEqual(source.train.map((c) => [...c.tumour]), tumour);
    assert.ok(tumour.flat().some((v) => v === 1), "phantoms hold tumour");
    // The brain is z-scored (mean ~0, std ~1), the background stays 0.
    const loaded = await source.loadTrain(0);
    const flair: number[] = [];
    for (let z = 0; z < 10; z++) {
      for (let i = 0; i < 48 * 48; i++) {
        const v = loaded.image[(z * 4 + 0) * 48 * 48 + i];
        if (v !== 0) flair.push(v);
      }
    }
    const mean = flair.reduce((a, b) => a + b, 0) / flair.length;
    const sd = Math.sqrt(flair.reduce((a, b) => a + (b - mean) ** 2, 0) / flair.length);
    assert.ok(Math.abs(mean) < 1e-3 && Math.abs(sd - 1) < 1e-3, `mean ${mean} sd ${sd}`);
    // Validation cases load as read (unpadded, unnormalised) for segment's inference path.
    const val = await source.loadVal(0);
    assert.equal(val.id, cases[2].id);
    assert.deepEqual(val.shape, [40, 36, 10]);
    assert.equal(val.modalities.length, 4);
    assert.ok(val.modalities.every((v) => v.length === 40 * 36 * 10));
    assert.equal(val.labels.length, 40 * 36 * 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a training case without a label volume is one clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      openTrainingCases([{
        id: "x",
        dir,
        format: "nifti",
        modalities: {
          flair: new Uint8Array(0),
          t1: new Uint8Array(0),
          t1ce: new Uint8Array(0),
          t2: new Uint8Array(0),
        },
      }], {
        labels: "brats2017",
      }),
      /case x has no label volume/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
