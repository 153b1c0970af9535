import assert from "node:assert/strict";
import { VolumeSource, type VolumeSourceOptions } from "../pipeline/volume_source.ts";
import { fileSources } from "../io/cases.ts";
import { ModelStage, type ModelStageOptions } from "../pipeline/model_stage.ts";
import { LabelStage } from "../pipeline/label_stage.ts";
import { mirrorPlanes, MIRRORS } from "../pipeline/_geometry.ts";
import type { SliceWindow } from "../model/slice_model.ts";
import type { ScoreSlice } from "../pipeline/records.ts";
import {
  expectedStatefulLabels,
  FakeModel,
  makeVolumes,
  writeCase,
  zScore,
} from "./_pipeline_fixtures.ts";
import type { Modality } from "../data/cases.ts";
import { withTempDir } from "./_temp_dir.ts";

const SHAPE: [number, number, number] = [37, 29, 9];
const volumes = makeVolumes(SHAPE);

/** A case's files opened as the source's inputs, then the source. */
const openFiles = async (files: Record<Modality, string>, options?: VolumeSourceOptions) =>
  VolumeSource.open(await fileSources(files), options);

/** A test given a fresh folder (removed afterwards) holding case c1. */
function caseTest(
  name: string,
  fn: (files: Record<Modality, string>, dir: string) => Promise<void>,
): void {
  Deno.test(name, () =>
    withTempDir("pipeline_stages_", async (dir) => {
      const files = await writeCase(dir, "c1", volumes, SHAPE);
      await fn(files, dir);
    }));
}

/** Runs source -> model -> labels and returns the label volume (x fastest) and the stages. */
async function run(
  files: Record<Modality, string>,
  options: ModelStageOptions & {
    depth?: number;
    overlap?: number;
    model?: FakeModel;
  },
) {
  const model = options.model ?? new FakeModel();
  const source = await openFiles(files, { depth: options.depth, overlap: options.overlap });
  const labels = new LabelStage({ convention: "brats2017", crop: source.crop });
  const [x, y, z] = source.shape;
  const out = new Uint8Array(x * y * z);
  const order: number[] = [];
  await source.pipeThrough(new ModelStage(model, options)).pipeThrough(labels).pipeTo(
    new WritableStream({
      write(slice) {
        order.push(slice.z);
        out.set(slice.labels, slice.z * x * y);
      },
    }),
  );
  return { out, order, labels, model, source };
}

function mismatches(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

caseTest(
  "source pads to multiples of 16, normalises per modality, windows in depth order",
  async (files) => {
    const source = await openFiles(files, { depth: 4, overlap: 1 });
    assert.deepEqual(source.crop, {
      width: 37,
      height: 29,
      paddedWidth: 48,
      paddedHeight: 32,
      left: 5,
      top: 1,
    });
    const windows: SliceWindow[] = [];
    for await (const w of source) windows.push(w);
    // The last window is filled up to 4 slices with zeros after its 3 real ones.
    assert.deepEqual(windows.map((w) => [w.start, w.depth, w.valid, w.settled]), [[0, 4, 4, 3], [
      3,
      4,
      4,
      6,
    ], [
      6,
      4,
      3,
      9,
    ]]);
    assert.ok(windows[2].data.subarray(3 * 4 * 48 * 32).every((v) => v === 0));
    // A volume shallower than the window is not padded.
    const shallow = await Array.fromAsync(await openFiles(files, { depth: 20 }));
    assert.deepEqual(shallow.map((w) => [w.depth, w.valid]), [[9, 9]]);
    const t1 = zScore(volumes.t1);
    const w = windows[1];
    const plane = 48 * 32;
    // Slice 4 (second of window 1), T1 (channel 1), voxel (x=10, y=7) sits at (15, 8) once padded.
    const got = w.data[1 * 4 * plane + 1 * plane + 8 * 48 + 15];
    const want = t1[4 * 37 * 29 + 7 * 37 + 10];
    assert(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
    assert.deepEqual(w.data[1 * 4 * plane + 1 * plane + 0], 0); // padding
  },
);

caseTest(
  "stateful labels equal a direct whole-volume computation for any window length",
  async (files) => {
    const want = expectedStatefulLabels(volumes, SHAPE);
    for (const depth of [1, 4, 100]) {
      const { out, order, model } = await run(files, { depth });
      assert.deepEqual(order, [...Array(9).keys()]);
      assert(mismatches(out, want) <= 2, `depth ${depth}: ${mismatches(out, want)} voxels differ`);
      assert.deepEqual(model.live, 0, "every state released");
    }
    const a = await run(files, { depth: 1 });
    const b = await run(files, { depth: 5 });
    assert.deepEqual(a.out, b.out);
  },
);

caseTest(
  "windowed mode restarts the state per window and averages overlapping probabilities",
  async (files) => {
    const depth = 4, overlap = 2;
    // Reference: run the model by hand on each window and average.
    const source = await openFiles(files, { depth: 1 });
    const slices: SliceWindow[] = [];
    for await (const w of source) slices.push(w);
    const model = new FakeModel();
    const plane = 48 * 32;
    const sums = slices.map(() => new Float32Array(4 * plane));
    const counts = slices.map(() => 0);
    for (let s = 0;; s += depth - overlap) {
      const end = Math.min(s + depth, 9);
      const data = new Float32Array((end - s) * 4 * plane);
      for (let k = s; k < end; k++) data.set(slices[k].data, (k - s) * 4 * plane);
      const r = await model.step({ ...slices[s], start: s, depth: end - s, data }, null, {
        want: "probabilities",
      });
      for (let k = s; k < end; k++) {
        const p = r.probabilities!.subarray((k - s) * 4 * plane, (k - s + 1) * 4 * plane);
        p.forEach((v, i) => (sums[k][i] += v));
        counts[k]++;
      }
      if (end === 9) break;
    }
    const scores = await collectScores(files, { depth, overlap, mode: "windowed" });
    assert.deepEqual(scores.map((s) => s.z), [...Array(9).keys()]);
    for (let k = 0; k < 9; k++) {
      const want = sums[k].map((v) => v / counts[k]);
      const got = scores[k].probabilities!;
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert(worst < 1e-6, `slice ${k}: off by ${worst}`);
    }
    assert.deepEqual(counts, [1, 1, 2, 2, 2, 2, 2, 2, 1]);
    // Without overlap each slice has one score: the model's arg-max is used directly.
    const disjoint = await collectScores(files, { depth: 3, overlap: 0, mode: "windowed" });
    assert.ok(disjoint.every((s) => s.argmax && !s.probabilities));
    assert.ok(scores.every((s) => s.probabilities && !s.argmax));
    // With the state restarted, the labels differ from stateful inference somewhere.
    const windowed = await run(files, { depth: 2, mode: "windowed" });
    const stateful = await run(files, { depth: 2 });
    assert(mismatches(windowed.out, stateful.out) > 0);
  },
);

async function collectScores(
  files: Record<Modality, string>,
  options: ModelStageOptions & { depth: number; overlap?: number; model?: FakeModel },
) {
  const source = await openFiles(files, { depth: options.depth, overlap: options.overlap });
  const out: ScoreSlice[] = [];
  await source.pipeThrough(new ModelStage(options.model ?? new FakeModel(), options)).pipeTo(
    new WritableStream({ write: (s) => void out.push(s) }),
  );
  return out;
}

caseTest(
  "mirror TTA averages the unmirrored probabilities of the four mirrorings",
  async (files) => {
    // A mirror-equivariant model: TTA changes nothing.
    const plain = await collectScores(files, { depth: 3 });
    const tta = await collectScores(files, { depth: 3, tta: true });
    const plainLabels = await run(files, { depth: 3 });
    const ttaLabels = await run(files, { depth: 3, tta: true });
    assert.deepEqual(plain.length, 9);
    assert(mismatches(plainLabels.out, ttaLabels.out) <= 2);
    // A position-dependent model: TTA equals the average over the four mirrored runs.
    const model = new FakeModel({ positional: true });
    const got = await collectScores(files, {
      depth: 9,
      tta: true,
      model: new FakeModel({ positional: true }),
    });
    const source = await openFiles(files, { depth: 9 });
    const [window] = await Array.fromAsync(source);
    const want = new Float32Array(9 * 4 * 48 * 32);
    for (const mirror of MIRRORS) {
      const r = await model.step(
        { ...window, data: mirrorPlanes(window.data, 32, 48, mirror) },
        null,
        {
          want: "probabilities",
        },
      );
      mirrorPlanes(r.probabilities!, 32, 48, mirror).forEach((v, i) => (want[i] += v / 4));
    }
    let worst = 0;
    got.forEach((s, k) =>
      s.probabilities!.forEach((
        v,
        i,
      ) => (worst = Math.max(worst, Math.abs(v - want[k * 4 * 1536 + i]))))
    );
    assert(worst < 1e-6, `off by ${worst}`);
    assert(tta.every((s, k) => s.probabilities && plain[k].argmax));
  },
);

caseTest("the label stage counts the voxels it labels enhancing", async (files) => {
  const { labels, out } = await run(files, { depth: 3 });
  const enhancing = out.filter((v) => v === 4).length;
  assert(enhancing > 0);
  assert.equal(labels.enhancing, enhancing);
});

caseTest(
  "bad inputs: mismatched dims name the file; bad window options are refused",
  async (files, dir) => {
    const other = await writeCase(`${dir}/other`, "c2", makeVolumes([37, 29, 8]), [37, 29, 8]);
    await assert.rejects(
      () => openFiles({ ...files, t2: other.t2 }),
      (e: Error) => e.message.includes("c2_t2.nii") && e.message.includes("37×29×8"),
    );
    await assert.rejects(() => openFiles(files, { depth: 3, overlap: 3 }), RangeError);
    await assert.rejects(
      () => openFiles({ ...files, t1: `${dir}/missing_t1.nii` }),
      /missing_t1\.nii/,
    );
    const nan = makeVolumes(SHAPE);
    nan.t1ce[500] = NaN;
    const bad = await writeCase(`${dir}/nan`, "c3", nan, SHAPE);
    await assert.rejects(() => openFiles(bad), /c3_t1ce\.nii.*non-finite/);
    // Stateful inference refuses overlapping windows.
    await assert.rejects(
      () => collectScores(files, { depth: 3, overlap: 1 }),
      /consecutive windows/,
    );
  },
);
