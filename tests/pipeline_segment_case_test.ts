import assert from "node:assert/strict";
import { readNifti, readNiftiHeader } from "../io/nifti.ts";
import { segmentCase } from "../io/segment.ts";
import { DEFAULT_INFERENCE, windowing } from "../pipeline/segment_case.ts";
import type { SliceModel } from "../model/slice_model.ts";
import type { Modality } from "../data/cases.ts";
import { expectedStatefulLabels, FakeModel, makeVolumes, writeCase } from "./_pipeline_fixtures.ts";
import { withTempDir } from "./_temp_dir.ts";
import { keepLargestComponent } from "../data/postprocess.ts";

const SHAPE: [number, number, number] = [37, 29, 9];
const volumes = makeVolumes(SHAPE, 3);
const want = expectedStatefulLabels(volumes, SHAPE);

/** A test given a fresh folder (removed afterwards) holding case c1 under `in/`. */
function caseTest(
  name: string,
  fn: (files: Record<Modality, string>, dir: string) => Promise<void>,
): void {
  Deno.test(name, () =>
    withTempDir("pipeline_segment_", async (dir) => {
      const files = await writeCase(`${dir}/in`, "c1", volumes, SHAPE);
      await fn(files, dir);
    }));
}

const listing = async (d: string) =>
  (await Array.fromAsync(Deno.readDir(d))).map((e) => e.name).sort();

caseTest(
  "segmentCase writes uint8 labels with the FLAIR's dims and affine, cropped back",
  async (files, dir) => {
    const out = `${dir}/out1`;
    await Deno.mkdir(out);
    const seen: number[] = [];
    const result = await segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      batch: 3,
      onSlice: (done, total) => seen.push(done * 100 + total),
    });
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => d * 100 + 9));
    assert.deepEqual(await listing(out), ["c1.nii.gz"]);
    const written = await readNifti(`${out}/c1.nii.gz`);
    const flair = await readNiftiHeader(files.flair);
    assert.equal(written.header.datatypeName, "uint8");
    assert.deepEqual(written.shape, SHAPE);
    assert.deepEqual(written.header.affine, flair.affine);
    assert.deepEqual(written.header.pixdim.slice(1, 4), flair.pixdim.slice(1, 4));
    let diff = 0;
    written.data.forEach((v, i) => (diff += v === want[i] ? 0 : 1));
    assert.ok(diff <= 2, `${diff} voxels differ`);
    assert.equal(result.enhancing, want.filter((v) => v === 4).length);
    assert.ok(result.times.decode > 0 && result.times.model > 0 && result.times.write > 0);
  },
);

caseTest(
  "the default inference mode is DEFAULT_INFERENCE's (windows of 3, fresh state each)",
  async (files, dir) => {
    const out = `${dir}/out_default`;
    await Deno.mkdir(out);
    assert.deepEqual(DEFAULT_INFERENCE, { mode: "windowed", window: 3, overlap: 0 });
    assert.deepEqual(windowing({}), { depth: 3, overlap: 0 });
    assert.deepEqual(windowing({ mode: "windowed", window: 8 }), { depth: 8, overlap: 4 });
    await segmentCase({ modalities: files }, `${out}/default.nii.gz`, { model: new FakeModel() });
    await segmentCase({ modalities: files }, `${out}/w3.nii.gz`, {
      model: new FakeModel(),
      mode: "windowed",
      window: 3,
      overlap: 0,
    });
    const a = (await readNifti(`${out}/default.nii.gz`)).data;
    const b = (await readNifti(`${out}/w3.nii.gz`)).data;
    assert.deepEqual(a, b);
    let diff = 0;
    a.forEach((v, i) => (diff += v === want[i] ? 0 : 1));
    assert.ok(diff > 0, "windowed output differs from stateful");
  },
);

caseTest(
  "--min-enhancing relabels a small enhancing region as core, and only then",
  async (files, dir) => {
    const out = `${dir}/out2`;
    await Deno.mkdir(out);
    const enhancing = want.filter((v) => v === 4).length;
    const kept = await segmentCase({ modalities: files }, `${out}/kept.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      minEnhancing: enhancing,
    });
    assert.equal(kept.relabelled, false);
    const fixed = await segmentCase({ modalities: files }, `${out}/fixed.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      minEnhancing: enhancing + 1,
    });
    assert.equal(fixed.relabelled, true);
    assert.deepEqual(await listing(out), ["fixed.nii.gz", "kept.nii.gz"]);
    const a = (await readNifti(`${out}/kept.nii.gz`)).data;
    const b = (await readNifti(`${out}/fixed.nii.gz`)).data;
    assert.ok(a.some((v) => v === 4));
    assert.ok(!b.some((v) => v === 4));
    a.forEach((v, i) => assert.equal(b[i], v === 4 ? 1 : v));
    // Output convention conversion: brats2017 -> brats2023 moves enhancing to 3.
    await segmentCase({ modalities: files }, `${out}/c23.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      labels: "brats2023",
    });
    const c = (await readNifti(`${out}/c23.nii.gz`)).data;
    a.forEach((v, i) => assert.equal(c[i], v === 4 ? 3 : v));
  },
);

caseTest("aborting mid-case leaves no output and no temporary file", async (files, dir) => {
  const out = `${dir}/out3`;
  await Deno.mkdir(out);
  const controller = new AbortController();
  const fake = new FakeModel();
  // Aborts while slice 4 is being written, i.e. mid-volume.
  await assert.rejects(
    () =>
      segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
        model: fake,
        mode: "stateful",
        batch: 2,
        minEnhancing: 10,
        signal: controller.signal,
        onSlice: (done) => done === 4 && controller.abort(),
      }),
    (e: Error) => e.name === "AbortError",
  );
  assert.deepEqual(await listing(out), []);
  assert.equal(fake.live, 0, "states released on abort");
});

caseTest("a model failing mid-case leaves no output", async (files, dir) => {
  const out = `${dir}/out4`;
  await Deno.mkdir(out);
  const fake = new FakeModel();
  const failing: SliceModel<Float32Array> = {
    classes: 4,
    convention: "brats2017",
    multiple: 16,
    modalities: 4,
    step: (
      w,
      s,
      o,
    ) => (w.start >= 4 ? Promise.reject(new Error("device lost")) : fake.step(w, s, o)),
    releaseState: (s) => fake.releaseState(s),
  };
  await assert.rejects(
    () =>
      segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
        model: failing,
        mode: "stateful",
        batch: 2,
      }),
    /device lost/,
  );
  assert.deepEqual(await listing(out), []);
});

Deno.test("MetaImage cases segment too, with the MetaImage geometry", () =>
  withTempDir("pipeline_segment_", async (mha) => {
    const paths = {} as Record<"flair" | "t1" | "t1ce" | "t2", string>;
    for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
      const header =
        `ObjectType = Image\nNDims = 3\nDimSize = ${SHAPE.join(" ")}\nElementSpacing = 1 1 2\n` +
        `Offset = 5 6 7\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n`;
      const text = new TextEncoder().encode(header);
      const bytes = new Uint8Array(text.length + volumes[m].byteLength);
      bytes.set(text);
      bytes.set(new Uint8Array(volumes[m].buffer), text.length);
      paths[m] = `${mha}/VSD.Brain.XX.O.MR_${m}.1.mha`;
      await Deno.writeFile(paths[m], bytes);
    }
    await segmentCase({ modalities: paths }, `${mha}/out.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
    });
    const written = await readNifti(`${mha}/out.nii.gz`);
    assert.deepEqual(written.header.affine, [[-1, 0, 0, -5], [0, -1, 0, -6], [0, 0, 2, 7], [
      0,
      0,
      0,
      1,
    ]]);
    let diff = 0;
    written.data.forEach((v, i) => (diff += v === want[i] ? 0 : 1));
    assert.ok(diff <= 2, `${diff} voxels differ`);
  }));

caseTest(
  "--largest-component keeps only the largest tumour component of what the model wrote",
  async (files, dir) => {
    const out = `${dir}/out_lcc`;
    await Deno.mkdir(out);
    const model = new FakeModel();
    await segmentCase({ modalities: files }, `${out}/all.nii.gz`, { model, mode: "stateful" });
    const result = await segmentCase({ modalities: files }, `${out}/lcc.nii.gz`, {
      model,
      mode: "stateful",
      largestComponent: true,
    });
    const all = Uint8Array.from((await readNifti(`${out}/all.nii.gz`)).data);
    const lcc = (await readNifti(`${out}/lcc.nii.gz`)).data;
    const removed = keepLargestComponent(all, SHAPE);
    assert.ok(removed > 0, "the fake model's labels fall into several components");
    assert.equal(result.removed, removed);
    assert.deepEqual(Uint8Array.from(lcc), all);
  },
);

caseTest(
  "probabilities out: 4-D uint8 of the labels' geometry, 255 per voxel, arg-max = labels",
  async (files, dir) => {
    const out = `${dir}/out_prob`;
    await Deno.mkdir(out);
    for (const options of [{ mode: "stateful" as const }, { tta: true }]) {
      await segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
        model: new FakeModel({ positional: true }),
        ...options,
        probabilitiesPath: `${out}/c1_probabilities.nii.gz`,
      });
      const labels = await readNifti(`${out}/c1.nii.gz`);
      const probs = await readNifti(`${out}/c1_probabilities.nii.gz`);
      assert.deepEqual(probs.shape, [...SHAPE, 4]);
      assert.equal(probs.header.datatypeName, "uint8");
      assert.deepEqual(probs.header.affine, labels.header.affine);
      assert.ok(Math.abs(probs.header.sclSlope - 1 / 255) < 1e-9);
      const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
      const conv = [0, 1, 2, 4];
      let ties = 0;
      for (let i = 0; i < n; i++) {
        const p = [0, 1, 2, 3].map((c) => Math.round(probs.data[c * n + i] * 255));
        assert.equal(p[0] + p[1] + p[2] + p[3], 255, `voxel ${i}`);
        const top = Math.max(...p);
        if (p.filter((x) => x === top).length > 1) ties++;
        else assert.equal(conv[p.indexOf(top)], labels.data[i], `voxel ${i}`);
      }
      assert.ok(ties < n / 100, `${ties} ties`);
    }
  },
);

caseTest("a failed case leaves neither labels nor probabilities", async (files, dir) => {
  const out = `${dir}/out_fail`;
  await Deno.mkdir(out);
  const controller = new AbortController();
  await assert.rejects(() =>
    segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      probabilitiesPath: `${out}/c1_probabilities.nii.gz`,
      signal: controller.signal,
      onSlice: (done) => done === 4 && controller.abort(),
    })
  );
  assert.deepEqual(await listing(out), []);
  // Probabilities that cannot be written (a file where their folder should be) take the
  // finished labels with them.
  await Deno.writeTextFile(`${out}/blocker`, "");
  await assert.rejects(() =>
    segmentCase({ modalities: files }, `${out}/c1.nii.gz`, {
      model: new FakeModel(),
      mode: "stateful",
      probabilitiesPath: `${out}/blocker/c1_probabilities.nii.gz`,
    })
  );
  assert.deepEqual(await listing(out), ["blocker"]);
});
