import assert from "node:assert/strict";
import { segmentNifti } from "../mod.ts";
import { MODALITIES } from "../data/cases.ts";
import { InputError } from "../data/input_error.ts";
import { parseNifti } from "../data/nifti_reader.ts";
import { loadModel } from "../io/checkpoint.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { listing, modelTest, writePhantomCase } from "./_cli_fixtures.ts";
import { runCli } from "./_nifti_fixtures.ts";

/** The case `writePhantomCase` wrote, as the `File`s a page's file input gives. */
async function caseFiles(dir: string, id: string): Promise<Record<string, File>> {
  const entries = await Promise.all(MODALITIES.map(async (m) => {
    const name = `${id}_${m}.nii.gz`;
    return [m, new File([await Deno.readFile(`${dir}/${id}/${name}`)], name)] as const;
  }));
  return Object.fromEntries(entries);
}

modelTest(
  "segmentNifti: the bytes `deno task segment` writes, default and tiny model, TTA and windows",
  async (root, tiny) => {
    await writePhantomCase(`${root}/in`, "c1", [40, 36, 9], 3);
    const files = await caseFiles(`${root}/in`, "c1");
    const runs: [string[], Parameters<typeof segmentNifti>[1]][] = [
      [[], {}],
      [["--model", tiny, "--tta", "--window", "4,2"], {
        model: await Deno.readFile(tiny),
        tta: true,
        mode: "windowed",
        window: 4,
        overlap: 2,
      }],
      [["--model", tiny, "--stateful", "--labels", "brats2023"], {
        model: await loadModel(tiny),
        mode: "stateful",
        labels: "brats2023",
      }],
      // An ensemble: a list of models, as `--model a,b`; a list of one is that model.
      [["--model", `${tiny},models/default.safetensors`, "--largest-component"], {
        model: [await Deno.readFile(tiny), await Deno.readFile("models/default.safetensors")],
        largestComponent: true,
      }],
      [["--model", tiny], { model: [await Deno.readFile(tiny)] }],
    ];
    for (const [flags, options] of runs) {
      const cli = await runCli(["segment", `${root}/in`, `${root}/out`, "--overwrite", ...flags]);
      assert.equal(cli.code, 0, cli.stderr);
      const progress: string[] = [];
      const bytes = await segmentNifti(files as never, {
        ...options,
        onProgress: ({ slicesDone, slicesTotal }) => progress.push(`${slicesDone}/${slicesTotal}`),
      });
      assert.deepEqual(bytes, await Deno.readFile(`${root}/out/c1.nii.gz`), flags.join(" "));
      assert.equal(progress.at(-1), "9/9");
      if (options?.model instanceof NetworkSliceModel) options.model.release();
    }
    // Bytes in, bytes out: plain Uint8Arrays segment like Files.
    const raw = Object.fromEntries(
      await Promise.all(
        Object.entries(files).map(async ([m, f]) => [m, new Uint8Array(await f.arrayBuffer())]),
      ),
    );
    const labels = parseNifti(await segmentNifti(raw as never));
    assert.deepEqual(labels.header.dims.slice(1, 4), [40, 36, 9]);
    assert.equal(labels.header.datatypeName, "uint8");
  },
);

modelTest("segmentNifti: bad input rejects with the CLI's one line", async (root, tiny) => {
  await writePhantomCase(`${root}/in`, "c1", [32, 32, 8], 4);
  const files = await caseFiles(`${root}/in`, "c1");
  const model = await Deno.readFile(tiny);
  const { t1ce: _, ...three } = files;
  await assert.rejects(
    segmentNifti(three as never, { model }),
    (e) => e instanceof InputError && /missing t1ce/.test(e.message),
  );
  // A truncated T2: the page's message names the file, with the problem the CLI prints.
  const t2 = `${root}/in/c1/c1_t2.nii.gz`;
  const cut = (await Deno.readFile(t2)).slice(0, 300);
  await Deno.writeFile(t2, cut);
  const cli = await runCli(["segment", `${root}/in`, `${root}/out`, "--model", tiny]);
  assert.equal(cli.code, 1);
  const printed = cli.stderr.split("\n").find((l) => l.includes("c1_t2.nii.gz"));
  assert.ok(printed, cli.stderr);
  const error = await segmentNifti({ ...files, t2: new File([cut], "c1_t2.nii.gz") } as never, {
    model,
  }).catch((e) => e);
  assert.ok(error instanceof InputError, String(error));
  assert.match(error.message, /^c1_t2\.nii\.gz: /);
  assert.ok(printed.endsWith(error.problem), `${printed} vs ${error.message}`);
  assert.deepEqual(await listing(`${root}/out`).catch(() => []), []);
  // A file that is no checkpoint.
  await assert.rejects(
    segmentNifti(files as never, { model: new Uint8Array(100) }),
    (e) => e instanceof InputError && !e.message.includes("\n"),
  );
});
