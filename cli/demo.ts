/**
 * `deno task demo [--out DIR] [--cases N] [--size X,Y,Z] [--model FILE]`:
 * synthesises a few phantom cases the shipped model has not seen, segments
 * them, scores them (the Dice table of `eval`) and writes PNG overlays of
 * prediction next to truth.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";
import { overlayPng } from "../data/overlay.ts";
import { discoverCases } from "../io/cases.ts";
import { makeDir, readBytes } from "../io/files.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { readNifti } from "../io/nifti.ts";
import { decodeCheckpoint } from "../model/checkpoint.ts";
import { folderArg, parseCommand } from "./_usage.ts";
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

/** Writes `OUT/<id>_z<z>.png` for every case under `cases` (FLAIR | truth | prediction). */
async function writeOverlays(
  dirs: { cases: string; pred: string; overlays: string },
  convention: LabelConvention,
): Promise<void> {
  const { cases } = await discoverCases(dirs.cases, { requireLabel: true });
  for (const { id, modalities, label } of cases) {
    const [flair, truth, prediction] = await Promise.all(
      [modalities.flair, label!, `${dirs.pred}/${id}.nii.gz`].map((p) => readNifti(p)),
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
    await writeAtomic(`${dirs.overlays}/${id}_z${z}.png`, png);
    console.log(`  ${dirs.overlays}/${id}_z${z}.png`);
  }
}

/**
 * Runs the `demo` command; returns the exit code (that of its scoring step,
 * or of the first step that failed).
 *
 * @example
 * ```ts
 * import { run } from "./demo.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: {
      out: { type: "string" },
      cases: { type: "string", default: "3" },
      size: { type: "string", default: "96,96,64" },
      model: { type: "string", default: DEFAULT_MODEL },
      tta: { type: "boolean", default: false },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const started = performance.now();
  const model = values.model;
  const missing = "no such checkpoint: train one with `deno task train` or pass --model FILE";
  const convention = decodeCheckpoint(await readBytes(model, missing), { path: model }).labels;
  const work = folderArg(values.out ?? await Deno.makeTempDir({ prefix: "webseg_demo_" }));
  const [cases, pred, overlays] = [`${work}/cases`, `${work}/pred`, `${work}/overlays`];
  await makeDir(overlays);

  console.log(
    `1/4 synthesising ${values.cases} phantom cases (${values.size}, ${convention}) in ${cases}`,
  );
  const seeded = ["--cases", values.cases, "--seed", "9001", "--size", values.size];
  let code = await synth([cases, ...seeded, "--labels", convention]);
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
  const json = `${work}/scores.json`;
  const evalCode = await evaluate([pred, cases, "--labels", convention, "--json", json]);

  console.log(`\n4/4 writing overlays (FLAIR | truth | prediction) to ${overlays}`);
  await writeOverlays({ cases, pred, overlays }, convention);
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nDemo finished in ${seconds.toFixed(0)} s; everything is in ${work}`);
  return evalCode;
}
