// Config presets and validation, parameter counts by hand formula, reproducible initialisation.
import assert from "node:assert/strict";
import {
  DEFAULT_CONFIG,
  describeConfig,
  type ModelConfig,
  modelConfig,
  type PresetName,
  PRESETS,
  validateConfig,
} from "../model/config.ts";
import { Random } from "../data/random.ts";
import { orthogonal } from "../model/init.ts";
import { initialValues, networkPlan, parameterCount } from "../model/plan.ts";

/** Trainable parameters counted layer by layer from the channel plan (independent of plan.ts). */
function expectedCount(c: ModelConfig): number {
  const [c1, c2, c3, c4] = c.widths;
  const w = [c1, c2, c3, c4];
  const m = c.modalities;
  const convBn = (cin: number, cout: number) => cin * cout * 9 + 2 * cout; // no conv bias before BN
  const encoder = (first: number) =>
    w.reduce((s, cout, k) => s + convBn(k === 0 ? first : w[k - 1], cout), 0);
  let n = c.encoder === "multimodal" ? m * encoder(1) : encoder(m);
  if (c.encoder === "multimodal") {
    const stages = c.fusion === "none" ? [3] : [0, 1, 2, 3];
    for (const k of stages) n += m * w[k] * w[k] + w[k];
  }
  if (c.sequence === "convlstm") n += 2 * (4 * c4 * c4 * 9) + 4 * c4;
  const dec = [[c4, c3], [c3, c2], [c2, c1], [c1, c1]];
  dec.forEach(([cin, cout], j) => {
    const fusedIn = c.fusion === "concat" && j < 3 ? 2 * cout : cout;
    n += cin * cout * 4 + cout + convBn(fusedIn, cout);
  });
  return n + c1 * c.classes + c.classes;
}

Deno.test("model config: parameter count of every variant (printed) matches the hand formula", () => {
  const lines: string[] = [];
  for (const widths of [[32, 64, 64, 64], [16, 32, 64, 64], [4, 4, 4, 4]] as const) {
    for (const name of Object.keys(PRESETS) as PresetName[]) {
      for (const classes of [4, 5]) {
        const config = modelConfig(name, { widths: [...widths], classes });
        assert.equal(parameterCount(config), expectedCount(config), describeConfig(config));
        if (classes === 4 && widths[0] !== 4) {
          lines.push(
            `${describeConfig(config).padEnd(42)} ${parameterCount(config).toLocaleString("en")}`,
          );
        }
      }
    }
  }
  console.log(lines.join("\n"));
  // The paper's network worked out on paper: encoders 4×92,896 + CMC 53,472 + convLSTM 295,168
  // + decoder 137,792 + head 132.
  assert.equal(parameterCount(modelConfig(undefined, { widths: [32, 64, 64, 64] })), 858_148);
  assert.equal(parameterCount(DEFAULT_CONFIG), 164_124); // the default widths 8-16-32-32
});

Deno.test("model config: presets, overrides and validation errors", () => {
  assert.deepEqual(modelConfig("unet"), { ...PRESETS.unet });
  assert.equal(modelConfig().encoder, "multimodal");
  assert.deepEqual(modelConfig("mme+cmc", { classes: 5 }).classes, 5);
  assert.throws(
    () => modelConfig("segnet"),
    /Unknown model preset "segnet"; known presets: unet, /,
  );
  const good = { ...DEFAULT_CONFIG };
  assert.throws(
    () => validateConfig({ ...good, fusion: "add" }),
    /fusion must be one of "multiply", "concat", "none", got "add"/,
  );
  assert.throws(
    () => validateConfig({ ...good, widths: [8, 8, 8] }),
    /widths must be 4 channel counts/,
  );
  assert.throws(
    () => validateConfig({ ...good, widths: [8, 0, 8, 8] }),
    /widths\[1\] must be an integer in 1\.\.1024, got 0/,
  );
  assert.throws(() => validateConfig({ ...good, classes: 1 }), /classes must be at least 2/);
  assert.throws(() => validateConfig({ ...good, dropout: 0.5 }), /unknown field\(s\) dropout/);
  const { sequence: _, ...missing } = good;
  assert.throws(() => validateConfig(missing), /missing field sequence/);
  assert.throws(() => validateConfig("mme"), /model config must be an object/);
});

Deno.test("model config: readable, stable parameter names", () => {
  const names = networkPlan(DEFAULT_CONFIG).params.map((p) => p.name);
  for (
    const n of [
      "enc.flair.0.conv.weight",
      "enc.t2.3.bn.gamma",
      "enc.t1c.1.bn.running_var",
      "cmc.0.weight",
      "cmc.3.bias",
      "lstm.x.weight",
      "lstm.h.weight",
      "lstm.bias",
      "dec.0.up.weight",
      "dec.3.bn.running_mean",
      "head.weight",
    ]
  ) assert.ok(names.includes(n), n);
  assert.equal(new Set(names).size, names.length, "duplicate names");
  const unet = networkPlan(modelConfig("unet")).params.map((p) => p.name);
  assert.ok(unet.includes("enc.stacked.0.conv.weight") && !unet.some((n) => n.startsWith("cmc.")));
  assert.deepEqual(networkPlan(modelConfig("mme+cmc")).cmc, [3]);
});

Deno.test("model init: seeded, reproducible, He-normal scale, orthogonal recurrence, forget bias 1", () => {
  const plan = networkPlan(modelConfig(undefined, { widths: [32, 64, 64, 64] })); // the paper's widths
  const spec = (name: string) => plan.params.find((p) => p.name === name)!;
  const w = spec("enc.t1.2.conv.weight");
  assert.deepEqual(initialValues(w, { seed: 4 }), initialValues(w, { seed: 4 }));
  assert.notDeepEqual(initialValues(w, { seed: 4 }), initialValues(w, { seed: 5 }));
  const values = initialValues(w, { seed: 4 });
  const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  assert.ok(Math.abs(std / Math.sqrt(2 / (64 * 9)) - 1) < 0.05, `std ${std}`);

  const bias = initialValues(spec("lstm.bias"), { seed: 4 });
  assert.deepEqual([...bias.subarray(0, 64)], new Array(64).fill(0));
  assert.deepEqual([...bias.subarray(64, 128)], new Array(64).fill(1));
  assert.deepEqual([...bias.subarray(128)], new Array(128).fill(0));

  const rec = spec("lstm.h.weight");
  const q = initialValues(rec, { seed: 4 });
  const rows = rec.shape[0];
  const cols = q.length / rows;
  for (const [i, j] of [[0, 0], [0, 1], [17, 17], [100, 255], [255, 255]]) {
    let dot = 0;
    for (let k = 0; k < cols; k++) dot += q[i * cols + k] * q[j * cols + k];
    assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-5, `row ${i}·row ${j} = ${dot}`);
  }
  // Tall matrices get orthonormal columns.
  const tall = orthogonal(new Random(2), { rows: 6, cols: 3 });
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let k = 0; k < 6; k++) dot += tall[k * 3 + a] * tall[k * 3 + b];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-6);
    }
  }
});
