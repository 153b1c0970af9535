/**
 * `deno task demo [--out DIR] [--cases N] [--size X,Y,Z] [--model FILE]`:
 * synthesises a few phantom cases the shipped model has not seen, segments
 * them, scores them (the Dice table of `eval`) and writes PNG overlays of
 * prediction next to truth.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import { InputError } from "../data/input_error.ts";
import { readNifti } from "../io/nifti.ts";
import { overlayPng } from "../data/overlay.ts";
import { decodeCheckpoint } from "../model/checkpoint.ts";
import { run as evaluate } from "./eval.ts";
import { DEFAULT_MODEL, run as segment } from "./segment.ts";
import { run as synth } from "./synth.ts";

const USAGE = `usage: deno task demo [--out DIR] [--cases N] [--size X,Y,Z] [--model FILE] [--tta]

Synthesises N phantom cases (seed 9001, never used for training), segments them with
the shipped model, prints their Dice scores and writes PNG overlays (FLAIR | truth |
prediction) of each case's largest tumour slice.
  --out DIR      work folder (default: a new temporary folder, kept and printed)
  --cases N      number of cases (default 3)
  --size X,Y,Z   phantom size (default 96,96,64, the size the shipped model was trained at)
  --model FILE   checkpoint (default models/default.safetensors)
  --tta          segment with mirror test-time augmentation`;

/** The z with the most truth tumour voxels (the middle slice if none). */
function largestTumourSlice(truth: ArrayLike<number>, shape: number[]): number {
  const [x, y, z] = shape;
  let best = z >> 1, most = 0;
  for (let k = 0; k < z; k++) {
    let n = 0;
    for (let i = k * x * y; i < (k + 1) * x * y; i++) if (truth[i] !== 0) n++;
    if (n > most) (most = n, best = k);
  }
  return best;
}

/**
 * Runs the `demo` command; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await run(["--out", "demo_output", "--cases", "2"]);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      cases: { type: "string", default: "3" },
      size: { type: "string", default: "96,96,64" },
      model: { type: "string", default: DEFAULT_MODEL },
      tta: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const exit = usageExit(USAGE, { help: values.help });
  if (exit !== null) return exit;
  const started = performance.now();
  const model = values.model;
  const bytes = await Deno.readFile(model).catch(() => {
    throw new InputError(
      model,
      "no such checkpoint: train one with `deno task train` or pass --model FILE",
    );
  });
  const checkpoint = decodeCheckpoint(bytes, { path: model });
  const convention = checkpoint.labels;
  const work = (values.out ?? await Deno.makeTempDir({ prefix: "webseg_demo_" })).replace(
    /\/+$/,
    "",
  );
  const [cases, pred, overlays] = [`${work}/cases`, `${work}/pred`, `${work}/overlays`];
  await Deno.mkdir(overlays, { recursive: true });

  console.log(
    `1/4 synthesising ${values.cases} phantom cases (${values.size}, ${convention}) in ${cases}`,
  );
  let code = await synth([
    cases,
    "--cases",
    values.cases,
    "--seed",
    "9001",
    "--size",
    values.size,
    "--labels",
    convention,
  ]);
  if (code !== 0) return code;

  console.log(`\n2/4 segmenting with ${model}`);
  code = await segment([
    cases,
    pred,
    "--model",
    model,
    "--overwrite",
    ...(values.tta ? ["--tta"] : []),
  ]);
  if (code !== 0) return code;

  console.log(`\n3/4 scoring against the truth`);
  const evalCode = await evaluate([
    pred,
    cases,
    "--labels",
    convention,
    "--json",
    `${work}/scores.json`,
  ]);

  console.log(`\n4/4 writing overlays (FLAIR | truth | prediction) to ${overlays}`);
  const ids = (await Array.fromAsync(Deno.readDir(cases))).filter((e) => e.isDirectory).map((e) =>
    e.name
  );
  for (const id of ids.sort()) {
    const seg = `${cases}/${id}/${id}_seg.nii.gz`;
    const truthPath = (await Deno.stat(seg).catch(() => null))
      ? seg
      : `${cases}/${id}/${id}-seg.nii.gz`;
    const flairPath = truthPath.endsWith("-seg.nii.gz")
      ? `${cases}/${id}/${id}-t2f.nii.gz`
      : `${cases}/${id}/${id}_flair.nii.gz`;
    const [flair, truth, prediction] = await Promise.all(
      [flairPath, truthPath, `${pred}/${id}.nii.gz`].map((p) => readNifti(p)),
    );
    const [x, y] = flair.shape;
    const z = largestTumourSlice(truth.data, truth.shape);
    const slice = (d: Float32Array) => d.subarray(z * x * y, (z + 1) * x * y);
    const png = overlayPng(slice(flair.data), {
      width: x,
      height: y,
      truth: slice(truth.data),
      prediction: slice(prediction.data),
      convention,
    });
    await Deno.writeFile(`${overlays}/${id}_z${z}.png`, png);
    console.log(`  ${overlays}/${id}_z${z}.png`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nDemo finished in ${seconds.toFixed(0)} s; everything is in ${work}`);
  return evalCode;
}
