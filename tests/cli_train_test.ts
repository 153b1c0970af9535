// `deno task train` end to end, in a subprocess: what it refuses, and Ctrl-C with an exact resume.
import assert from "node:assert/strict";
import { decodeSafetensors } from "../model/safetensors.ts";
import { runCli } from "./_nifti_fixtures.ts";
import { writePhantomCase } from "./_cli_fixtures.ts";
import { gpuTest } from "./_gpu.ts";
import { CliProcess } from "./_spawn.ts";
import { withTempDir } from "./_temp_dir.ts";

/** A small, quick training run's flags (tiny widths, no augmentation). */
const SMALL = ["--widths", "2,2,2,2", "--batch", "2", "--no-augment", "--seed", "3"];

gpuTest(
  "train refuses, in one line and exit 1, what cannot train",
  () =>
    withTempDir("train_refuse_", async (root) => {
      for (const [i, id] of ["a", "b", "c"].entries()) {
        await writePhantomCase(`${root}/data`, id, [32, 32, 8], i + 1, { label: true });
        await writePhantomCase(`${root}/blank`, id, [32, 32, 8], i + 1, {
          label: true,
          emptyLabel: true,
        });
      }
      const out = `${root}/m.safetensors`;
      const deep = await runCli(["train", `${root}/data`, "--out", out, "--seq", "40", ...SMALL]);
      assert.equal(deep.code, 1, deep.stdout);
      assert.match(deep.stderr, /--seq 40 is more slices than any training case has \(deepest 8\)/);
      const blank = await runCli(["train", `${root}/blank`, "--out", out, ...SMALL]);
      assert.equal(blank.code, 1, blank.stdout);
      assert.match(blank.stderr, /no tumour voxels in the training labels/);
      assert.equal(await Deno.stat(out).catch(() => null), null, "no checkpoint written");

      await Deno.writeTextFile(out, "an earlier run's model");
      const exists = await runCli(["train", `${root}/data`, "--out", out, ...SMALL]);
      assert.equal(exists.code, 1);
      assert.match(exists.stderr, /m\.safetensors: exists: pass --resume .* or --overwrite/);
      assert.equal(await Deno.readTextFile(out), "an earlier run's model", "left as it was");
      for (const r of [deep, blank, exists]) {
        const ours = r.stderr.split("\n").filter((l) => l && !/XDG_RUNTIME_DIR/.test(l));
        assert.equal(ours.length, 1, r.stderr);
      }
    }),
);

gpuTest(
  "Ctrl-C stops train at the next batch (exit 130); --resume ends as an uninterrupted run",
  () =>
    withTempDir("train_signal_", async (root) => {
      for (const [i, id] of ["a", "b", "c", "d"].entries()) {
        await writePhantomCase(`${root}/data`, id, [32, 32, 12], i + 1, { label: true });
      }
      await Deno.writeTextFile(`${root}/data/synth.json`, "{}"); // as `synth` marks its folders
      const flags = [`${root}/data`, ...SMALL, "--epochs", "2", "--phase2-epochs", "2"];
      const full = await runCli(["train", ...flags, "--out", `${root}/full.safetensors`]);
      assert.equal(full.code, 0, full.stderr);
      const path = `${root}/full.safetensors`;
      const best = decodeSafetensors(await Deno.readFile(path), { path });
      assert.equal(JSON.parse(best.metadata["webseg.training"]).data.synthetic, true);

      const cut = new CliProcess(["train", ...flags, "--out", `${root}/cut.safetensors`]);
      await cut.waitFor(/phase 1 epoch 1\/4 batch 1\//);
      cut.child.kill("SIGINT");
      await cut.waitFor(/stopping at the next safe point/);
      cut.child.kill("SIGTERM"); // a second signal within the grace period: still a clean stop
      const stopped = await cut.finish();
      assert.equal(stopped.code, 130, stopped.text);
      assert.match(stopped.text, /interrupted in epoch \d+ at batch \d+: continue with resume/);
      const resumed = await runCli([
        "train",
        ...flags,
        "--out",
        `${root}/cut.safetensors`,
        "--resume",
      ]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resumed from/);

      const tensors = async (name: string) => {
        const path = `${root}/${name}.last.safetensors`;
        return decodeSafetensors(await Deno.readFile(path), { path }).tensors;
      };
      const a = await tensors("full"), b = await tensors("cut");
      assert.deepEqual([...b.keys()], [...a.keys()]);
      for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs`);
    }),
);
