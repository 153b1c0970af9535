import assert from "node:assert/strict";
import { decodeSafetensors } from "../model/safetensors.ts";
import { modelConfig } from "../model/config.ts";
import { loadCheckpoint } from "../io/checkpoint.ts";
import { Tensor } from "../gpu/tensor.ts";
import { train, trainingPaths } from "../train/trainer.ts";
import { gpuTest } from "./_gpu.ts";
import { phantomSource, trainFiles } from "./_train_fixture.ts";

const source = phantomSource({ train: 3, val: 1, size: [32, 32, 12] });
const config = modelConfig("mme+cmc+mrf+convlstm", { widths: [2, 4, 4, 4] });
const base = {
  config,
  epochs: 1,
  phase2Epochs: 1,
  batch: 2,
  seq: 3,
  seed: 3,
  lr: 0.01,
  emptySkip: 0.5,
  ...trainFiles,
};

async function tensorsOf(path: string) {
  return decodeSafetensors(await Deno.readFile(path), { path }).tensors;
}

gpuTest("interrupted + resumed training ends exactly where an uninterrupted run does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const full = await train(source, { ...base, out: `${dir}/full.safetensors` });
    assert.equal(full.stopped, "done");
    assert.equal(full.history.length, 2);
    const cut = await train(source, { ...base, out: `${dir}/cut.safetensors`, stopAfterSteps: 4 });
    assert.equal(cut.stopped, "step-limit");
    const resumed = await train(source, { ...base, out: `${dir}/cut.safetensors`, resume: true });
    assert.equal(resumed.stopped, "done");
    assert.equal(resumed.steps + 4, full.steps);
    const a = await tensorsOf(trainingPaths(`${dir}/full.safetensors`).last);
    const b = await tensorsOf(trainingPaths(`${dir}/cut.safetensors`).last);
    assert.deepEqual([...a.keys()], [...b.keys()]);
    assert.ok([...a.keys()].some((k) => k.startsWith("optimizer.m.")));
    for (const [name, t] of a) {
      assert.deepEqual(b.get(name)!.data, t.data, `tensor ${name} differs`);
    }
    assert.deepEqual(resumed.history.map((r) => r.loss), full.history.map((r) => r.loss));
    // The best checkpoint is a plain model checkpoint with the training metadata.
    const { info } = await loadCheckpoint(`${dir}/full.safetensors`);
    assert.equal(info.labels, "brats2017");
    assert.equal(info.history.length > 0, true);
    const svg = await Deno.readTextFile(trainingPaths(`${dir}/full.safetensors`).curves);
    assert.match(svg, /^<svg/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest("the next step is submitted before the last one's loss is read", async () => {
  const dir = await Deno.makeTempDir();
  const read = Tensor.prototype.read;
  const events: string[] = [];
  Tensor.prototype.read = function (this: Tensor) {
    events.push("read");
    return read.call(this);
  };
  try {
    const run = await train(source, {
      ...base,
      out: `${dir}/m.safetensors`,
      stopAfterSteps: 3,
      onStep: (p) => events.push(`step ${p.step}`),
    });
    assert.equal(run.steps, 3, "the step limit counts the step in flight");
    // One loss read a step; step k is reported once step k + 1 is submitted (its loss read begun).
    assert.deepEqual(events.slice(0, 6), ["read", "read", "step 1", "read", "step 2", "step 3"]);
  } finally {
    Tensor.prototype.read = read;
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest("resume refuses a checkpoint trained with other settings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await train(source, { ...base, out: `${dir}/m.safetensors`, stopAfterSteps: 1 });
    await assert.rejects(
      train(source, { ...base, batch: 3, out: `${dir}/m.safetensors`, resume: true }),
      /different settings or data \(batch\)/,
    );
    await assert.rejects(
      train(source, { ...base, out: `${dir}/none.safetensors`, resume: true }),
      /no checkpoint to resume from/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest(
  "a time limit stops cleanly mid-epoch, validates and keeps the best checkpoint",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const t0 = performance.now();
      const result = await train(source, {
        ...base,
        epochs: 50,
        out: `${dir}/m.safetensors`,
        timeLimit: 4,
      });
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(result.stopped, "time-limit");
      assert.ok(result.steps > 0);
      assert.ok(seconds < 4 + 10, `took ${seconds} s for a 4 s limit`);
      const last = result.history.at(-1)!;
      assert.ok(Number.isFinite(last.dice.whole));
      const lastMeta =
        decodeSafetensors(await Deno.readFile(trainingPaths(`${dir}/m.safetensors`).last), {
          path: "last",
        }).metadata;
      const resume = JSON.parse(lastMeta["webseg.resume"]);
      // Stopped mid-epoch: that epoch was validated, marked partial, and the position saved.
      if (resume.step > 0) {
        assert.deepEqual([last.partial, last.epoch, last.steps], [
          true,
          resume.epoch + 1,
          resume.step,
        ]);
      } else assert.equal(last.partial, false);
      assert.ok(result.best);
      await Deno.stat(`${dir}/m.safetensors`);
      const meta =
        decodeSafetensors(await Deno.readFile(`${dir}/m.safetensors`), { path: "m" }).metadata;
      const training = JSON.parse(meta["webseg.training"]);
      assert.equal(training.seed, 3);
      assert.deepEqual(training.validation.dice, result.best!.dice);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "a time budget fits both phases into it and ends with phase 2 and a best checkpoint",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const lines: string[] = [];
      const budget = 20;
      const t0 = performance.now();
      const result = await train(source, {
        ...base,
        epochs: 3,
        phase2Epochs: 12, // the ratio 1:4; far more epochs fit in 20 s on these tiny phantoms
        out: `${dir}/m.safetensors`,
        timeBudget: budget,
        onLog: (line) => lines.push(line),
      });
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(result.stopped, "done");
      const [n1, n2] = result.plan.epochs;
      assert.ok(n1 >= 1 && n2 >= 1, `plan ${n1} + ${n2}`);
      // The first plan keeps the ratio; a re-plan (a loaded machine runs behind) may change what is left.
      const first = lines.map((l) =>
        /^plan for .*phase 1 (\d+) epochs? .*phase 2 (\d+) epochs?/.exec(l)
      )
        .find((m) => m);
      assert.ok(first, lines.join("\n"));
      const [p1, p2] = [Number(first[1]), Number(first[2])];
      assert.ok(p2 >= 2 * p1, `ratio kept roughly: ${p1} + ${p2}`);
      assert.deepEqual(result.history.map((r) => r.phase), [
        ...Array(n1).fill(1),
        ...Array(n2).fill(2),
      ]);
      assert.ok(result.history.every((r) => !r.partial));
      assert.ok(seconds < budget + 5, `took ${seconds} s for a ${budget} s budget`);
      assert.ok(
        lines.some((l) =>
          /^plan for a 20 s budget: phase 1 \d+ epochs? × \d+ windows, phase 2/.test(l)
        ),
        lines.join("\n"),
      );
      assert.ok(lines.some((l) => /expected end in/.test(l)));
      // The plan is in the metadata: the best checkpoint's as it stood then, the last's as it ended.
      const metadata = async (path: string) =>
        decodeSafetensors(await Deno.readFile(path), { path }).metadata;
      const best = await metadata(`${dir}/m.safetensors`);
      assert.equal(JSON.parse(best["webseg.training"]).schedule.budget, budget);
      const last = await metadata(trainingPaths(`${dir}/m.safetensors`).last);
      assert.deepEqual(JSON.parse(last["webseg.training"]).schedule.epochs, [n1, n2]);
      assert.deepEqual(JSON.parse(last["webseg.resume"]).plan.epochs, [n1, n2]);
      assert.ok(result.best);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest("a resumed budget run follows the plan its first run made", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options = { ...base, epochs: 2, phase2Epochs: 2, out: `${dir}/m.safetensors` };
    // The cut comes as soon as the plan is made, however fast the adapter trains.
    const stop = new AbortController();
    const onLog = (line: string) => {
      if (line.startsWith("plan for a 8 s budget")) stop.abort();
    };
    const cut = await train(source, { ...options, timeBudget: 8, signal: stop.signal, onLog });
    assert.equal(cut.stopped, "interrupted");
    const last = trainingPaths(options.out).last;
    const carried = JSON.parse(
      decodeSafetensors(await Deno.readFile(last), { path: last }).metadata["webseg.resume"],
    ).plan;
    assert.equal(carried.budget, 8);
    assert.ok(carried.windowsPerSecond > 0, "measured before the cut");
    const lines: string[] = [];
    // No budget given on resume: the carried plan (and its budget) still rules.
    const resumed = await train(source, {
      ...options,
      resume: true,
      onLog: (line) => lines.push(line),
    });
    assert.equal(resumed.stopped, "done");
    assert.equal(resumed.plan.budget, 8);
    assert.ok(lines.some((l) => l.startsWith("resumed plan for a 8 s budget")), lines.join("\n"));
    const [n1, n2] = resumed.plan.epochs;
    assert.deepEqual(resumed.history.map((r) => r.phase), [
      ...Array(n1).fill(1),
      ...Array(n2).fill(2),
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest(
  "a budget too small for whole epochs shortens them and still ends in it with phase 2",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      // Epochs of ~230 and ~370 windows: far more than a 6 s budget holds at widths 2-2-2-2 on a
      // CPU adapter (a fast llvmpipe trained ~25 windows/s here).
      const big = phantomSource({ train: 8, val: 1, size: [32, 32, 64] });
      const lines: string[] = [];
      const budget = 6;
      const t0 = performance.now();
      const result = await train(big, {
        ...base,
        config: modelConfig("mme+cmc+mrf+convlstm", { widths: [2, 2, 2, 2] }),
        epochs: 8,
        phase2Epochs: 4,
        out: `${dir}/m.safetensors`,
        timeBudget: budget,
        onLog: (line) => lines.push(line),
      });
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(result.stopped, "done");
      assert.deepEqual(result.plan.epochs, [1, 1], lines.join("\n"));
      const limits = result.plan.windowLimits!;
      const [w1, w2] = result.plan.windowsPerEpoch;
      assert.ok(limits[0] < w1 && limits[1] < w2, `${limits} of ${w1}, ${w2}`);
      assert.ok(limits[0] >= base.batch && limits[1] >= base.batch, `${limits}`);
      // Each phase trained exactly its limit's windows (whole batches of 2).
      assert.deepEqual(result.history.map((r) => r.phase), [1, 2]);
      assert.deepEqual(result.history.map((r) => r.steps * base.batch), limits);
      assert.ok(result.history.every((r) => !r.partial));
      assert.ok(seconds < budget + 5, `took ${seconds} s for a ${budget} s budget`);
      assert.ok(lines.some((l) => /^warning: .*shortened phase 1 to \d+ of \d+ windows/.test(l)));
      assert.ok(
        lines.some((l) => /phase 1 1 epoch × \d+ of \d+ windows, phase 2 1 epoch × /.test(l)),
      );
      assert.ok(result.best);
      await Deno.stat(`${dir}/m.safetensors`);
      const last = trainingPaths(`${dir}/m.safetensors`).last;
      const meta = decodeSafetensors(await Deno.readFile(last), { path: last }).metadata;
      assert.deepEqual(JSON.parse(meta["webseg.resume"]).plan.windowLimits, limits);
      assert.deepEqual(JSON.parse(meta["webseg.training"]).schedule.windowLimits, limits);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
