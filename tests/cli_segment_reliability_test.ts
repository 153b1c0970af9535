// `segment` when things go wrong around it: signals, a dying task runner, dead runs' temp files, odd input.
import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors } from "../model/safetensors.ts";
import { runCli } from "./_nifti_fixtures.ts";
import { listing, modelTest, writePhantomCase } from "./_cli_fixtures.ts";
import { CliProcess } from "./_spawn.ts";
import { gpuTest } from "./_gpu.ts";
import { segmentTasks } from "../cli/_segment_loop.ts";
import type { Case } from "../data/cases.ts";
import type { NetworkSliceModel } from "../model/network_slice_model.ts";
import { DEFAULT_INFERENCE } from "../pipeline/segment_case.ts";

const segment = (args: string[]) => runCli(["segment", ...args]);

modelTest(
  "Ctrl-C twice (as deno task delivers one) or the task runner's death: segment cleans up, exits 130",
  async (root, model) => {
    const input = `${root}/in`;
    await writePhantomCase(input, "big", [160, 160, 120], 8);
    const out = `${root}/out`;

    const run = new CliProcess(["segment", input, out, "--model", model]);
    await run.waitFor(/big: writing 120 slices/);
    run.child.kill("SIGINT");
    await run.waitFor(/stopping at the next safe point/);
    run.child.kill("SIGINT"); // the same Ctrl-C again, within the grace period: not "leave at once"
    const stopped = await run.finish();
    assert.equal(stopped.code, 130, stopped.text);
    assert.match(stopped.text, /Interrupted: 0 segmented/, "the summary is printed");
    assert.deepEqual(await listing(out), [], "no temporary file left");

    // kill -9 of `deno task`: the orphaned worker notices and stops instead of running on.
    const task = new CliProcess(["segment", input, out, "--model", model], { via: "task" });
    await task.waitFor(/big: writing 120 slices/);
    task.child.kill("SIGKILL");
    const orphan = await task.finish(); // the output ends when the orphan exits
    assert.match(orphan.text, /Interrupted: 0 segmented/, orphan.text);
    assert.deepEqual(await listing(out), [], "the orphan left no temporary file");
  },
);

modelTest(
  "segment sweeps dead runs' temp files and keeps live ones; an empty IN or a file as OUT is one line",
  async (root, model) => {
    const input = `${root}/in`;
    await writePhantomCase(input, "a", [32, 32, 8], 1);
    const out = `${root}/out`;
    await Deno.mkdir(out);
    const dead = [
      "a.nii.gz.tmp-999999999-0badf00d",
      ".b.nii.gz.tmp-999999998-12345678@" +
      Deno.hostname(),
    ];
    const live = `c.nii.gz.tmp-${Deno.pid}-abcdef12`; // this test's own process: alive
    const elsewhere = "d.nii.gz.tmp-999999997-abcdef12@another-host";
    for (const name of [...dead, live, elsewhere]) await Deno.writeTextFile(`${out}/${name}`, "x");
    const swept = await segment([input, out, "--model", model]);
    assert.equal(swept.code, 0, swept.stderr);
    assert.match(swept.stdout, /removed 2 temporary file\(s\)/);
    assert.deepEqual(await listing(out), ["a.nii.gz", live, elsewhere].sort());

    await Deno.mkdir(`${root}/empty`);
    const empty = await segment([`${root}/empty`, `${root}/never`, "--model", model]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /empty: no cases found/);
    assert.equal(await Deno.stat(`${root}/never`).catch(() => null), null, "no OUT made");

    await Deno.writeTextFile(`${root}/file`, "");
    const file = await segment([input, `${root}/file`, "--model", model]);
    assert.equal(file.code, 1);
    assert.match(file.stderr, /file: is a file, not a folder/);
    assert.doesNotMatch(file.stderr + empty.stderr, /\n\s+at |os error/, "no stack, no OS jargon");
  },
);

modelTest(
  "segment warns per case about a blank modality and non-axial slices; refuses NaN weights",
  async (root, model) => {
    const input = `${root}/in`;
    await writePhantomCase(input, "blank", [32, 32, 8], 1, { blank: "t1ce" });
    const sagittal = [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]];
    await writePhantomCase(input, "sag", [32, 32, 8], 2, { affine: sagittal });
    await writePhantomCase(input, "fine", [32, 32, 8], 3);
    const warned = await segment([input, `${root}/out`, "--model", model]);
    assert.equal(warned.code, 0, warned.stderr);
    const warnings = warned.stderr.split("\n").filter((l) => l.startsWith("WARNING"));
    assert.deepEqual(warnings.map((l) => l.split(":")[0]), ["WARNING blank", "WARNING sag"]);
    assert.match(warnings[0], /t1ce is empty/);
    assert.match(warnings[1], /slices are sagittal, not axial/);

    const decoded = decodeSafetensors(await Deno.readFile(model), { path: model });
    const tensors = new Map(decoded.tensors);
    const [name, first] = [...tensors][0];
    tensors.set(name, { shape: first.shape, data: first.data.map((v, i) => i === 1 ? NaN : v) });
    await Deno.writeFile(`${root}/nan.safetensors`, encodeSafetensors(tensors, decoded.metadata));
    const nan = await segment([input, `${root}/out2`, "--model", `${root}/nan.safetensors`]);
    assert.equal(nan.code, 1);
    assert.match(
      nan.stderr,
      new RegExp(`nan.safetensors: tensor "${name}" holds NaN at element 1`),
    );
  },
);

gpuTest(
  "the device sets a private XDG_RUNTIME_DIR when there is none (Mesa's warnings), else keeps it",
  async () => {
    const probe = (env: Record<string, string>) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          'import { getDevice } from "./gpu/device.ts"; await getDevice(); ' +
          'console.log(Deno.env.get("XDG_RUNTIME_DIR") ?? "unset")',
        ],
        cwd: new URL("..", import.meta.url).pathname,
        clearEnv: true,
        env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/", ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const unset = await probe({});
    const dir = new TextDecoder().decode(unset.stdout).trim();
    assert.match(dir, /webseg-runtime-/, new TextDecoder().decode(unset.stderr));
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700, "a private folder");
    const given = await probe({ XDG_RUNTIME_DIR: "/somewhere/else" });
    assert.equal(new TextDecoder().decode(given.stdout).trim(), "/somewhere/else");
  },
);

Deno.test("segment skips a case another run on the same OUT wrote after this one planned it", async () => {
  const out = await Deno.makeTempFile({ suffix: ".nii.gz" }); // "written meanwhile"
  try {
    const kase = {
      id: "x",
      dir: "",
      format: "nifti" as const,
      modalities: {} as Case["modalities"],
    };
    const task = { id: "x", path: "", kase, out, slices: 8 };
    // The model is never touched: the case is skipped before segmenting starts.
    const model = null as unknown as NetworkSliceModel;
    const result = await segmentTasks([task], { model, inference: DEFAULT_INFERENCE });
    assert.deepEqual(result, { done: 0, skipped: 1, failures: [], interrupted: false });
  } finally {
    await Deno.remove(out);
  }
});
