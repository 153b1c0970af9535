import assert from "node:assert/strict";
import { REGIONS } from "../data/labels.ts";
import { hashInts } from "../data/random.ts";
import { networkFromCheckpoint } from "../model/checkpoint.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import type { TrainingSource } from "../train/training_data.ts";
import { encodeNifti } from "../data/nifti_encoder.ts";
import { loadValidationCase } from "../train/training_cases.ts";
import { scorePrediction, validate } from "../train/validate.ts";
import { gpuTest } from "./_gpu.ts";
import { ROOT, runCli } from "./_nifti_fixtures.ts";
import { phantomValidationCase } from "./_train_fixture.ts";

const MODEL = `${ROOT}models/default.safetensors`;
const SEED = 31, SIZE: [number, number, number] = [60, 52, 20]; // not multiples of 16: padded and cropped

gpuTest("validation Dice equals segment + eval on the same cases and checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "validate_test_" });
  try {
    const [cases, pred, json] = [`${dir}/cases`, `${dir}/pred`, `${dir}/scores.json`];
    for (
      const args of [
        ["synth", cases, "--cases", "2", "--seed", `${SEED}`, "--size", SIZE.join(",")],
        ["segment", cases, pred, "--model", MODEL],
        ["eval", pred, cases, "--json", json],
      ]
    ) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `${args[0]}: ${result.stderr}`);
    }
    const scored = JSON.parse(await Deno.readTextFile(json)).cases as {
      id: string;
      dice: Record<string, number>;
      hd95: Record<string, number>;
    }[];
    // The same two phantoms in memory, as synth made them (its per-case seed).
    const held = [0, 1].map((i) => ({
      ...phantomValidationCase(hashInts(SEED, i, 0x51ed), SIZE),
      id: `phantom_s${SEED}_00${i + 1}`,
    }));
    const source: TrainingSource = {
      labels: "brats2017",
      train: [],
      val: held.map((c) => c.id),
      classWeights: [],
      loadTrain: () => Promise.reject(new Error("no training cases")),
      loadVal: (i) => Promise.resolve(held[i]),
      describe: () => ({}),
    };
    const { network, info } = networkFromCheckpoint(await Deno.readFile(MODEL), { path: MODEL });
    const model = new NetworkSliceModel(network, info);
    try {
      const result = await validate(model, source);
      assert.equal(result.cases.length, 2);
      for (const c of result.cases) {
        const expected = scored.find((s) => s.id === c.id);
        assert.ok(expected, `eval scored ${c.id}`);
        for (const r of REGIONS) {
          const [got, want] = [c.scores.dice[r], expected.dice[r]];
          assert.ok(
            Math.abs(got - want) <= 1e-6,
            `${c.id} ${r}: validation ${got}, eval ${want}`,
          );
          const [hd, hdWant] = [c.scores.hd95[r], expected.hd95[r]];
          assert.ok(Math.abs(hd - hdWant) <= 1e-6, `${c.id} ${r} HD95: ${hd}, eval ${hdWant}`);
        }
      }
      // Not trivially equal: the model finds tumour in these phantoms.
      assert.ok(result.dice.whole > 0.5, `whole-tumour Dice ${result.dice.whole}`);
    } finally {
      model.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validation scores HD95 in mm with the label volume's voxel spacing", async () => {
  const shape: [number, number, number] = [8, 8, 4];
  const affine = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]]; // 2×2×3 mm voxels
  const volume = new Float32Array(8 * 8 * 4).fill(1);
  const truth = new Uint8Array(8 * 8 * 4);
  truth[1 * 64 + 2 * 8 + 2] = 2; // one oedema voxel at (2, 2, 1)
  const bytes = (data: Float32Array | Uint8Array, datatype: "float32" | "uint8") =>
    encodeNifti(data, { shape, datatype, affine });
  const modalities = Object.fromEntries(
    (["flair", "t1", "t1ce", "t2"] as const).map((m) => [m, bytes(volume, "float32")]),
  ) as Record<"flair" | "t1" | "t1ce" | "t2", Uint8Array>;
  const held = await loadValidationCase(
    { id: "a", dir: "a", format: "nifti", modalities, label: bytes(truth, "uint8") },
    { labels: "brats2017" },
  );
  assert.deepEqual(held.spacing, [2, 2, 3]);
  const predicted = new Uint8Array(truth.length);
  predicted[1 * 64 + 2 * 8 + 5] = 2; // three voxels along x: 6 mm
  const scores = scorePrediction(held, predicted, "brats2017");
  assert.equal(scores.hd95.whole, 6);
  assert.equal(
    scorePrediction({ ...held, spacing: undefined }, predicted, "brats2017").hd95.whole,
    3,
  );
});
