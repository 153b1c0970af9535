/**
 * `deno task synth OUT --cases N --seed S --size X,Y,Z [--labels brats2017] [--preview]`:
 * writes synthetic BraTS-style phantom cases (four int16 modalities and a
 * uint8 label volume per case folder), optionally with a preview PNG.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import { hashInts } from "../data/random.ts";
import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { writeNifti } from "../io/nifti.ts";
import { previewPng } from "../data/overlay.ts";
import { generatePhantom, type Phantom } from "../data/phantom.ts";

const USAGE =
  `usage: deno task synth OUT [--cases N] [--seed S] [--size X,Y,Z] [--labels brats2017] [--preview]

Writes N synthetic four-modality brain-tumour cases as BraTS case folders under OUT.
  --cases N        number of cases (default 1)
  --seed S         integer seed; the same seed gives the same cases (default 1)
  --size X,Y,Z     volume size in voxels (default 240,240,155)
  --labels NAME    label convention: brats2015, brats2017 (default), brats2023
                   (brats2023 also uses the 2023 file names <id>-t2f, -t1n, -t1c, -t2w, -seg)
  --preview        also write OUT/<id>/<id>_preview.png: the middle tumour slice of each modality and the labels`;

/**
 * Runs the `synth` command; returns the exit code.
 *
 * @example
 * ```ts
 * await run(["out/phantoms", "--cases", "4", "--seed", "1", "--size", "96,96,64", "--preview"]);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      cases: { type: "string", default: "1" },
      seed: { type: "string", default: "1" },
      size: { type: "string", default: "240,240,155" },
      labels: { type: "string", default: "brats2017" },
      preview: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const exit = usageExit(USAGE, { help: values.help, positionals, min: 1 });
  if (exit !== null) return exit;
  const out = positionals[0];
  const count = Number(values.cases);
  const seed = Number(values.seed);
  const size = values.size.split(",").map(Number);
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`--cases "${values.cases}" is not a positive integer`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`--seed "${values.seed}" is not an integer`);
  if (size.length !== 3 || size.some((d) => !Number.isInteger(d) || d < 8 || d > 1024)) {
    throw new RangeError(`--size "${values.size}" is not X,Y,Z with each in 8..1024`);
  }
  const convention = labelConvention(values.labels).name;
  for (let i = 0; i < count; i++) {
    const id = `phantom_s${seed}_${String(i + 1).padStart(3, "0")}`;
    const start = performance.now();
    const phantom = generatePhantom({
      size: size as [number, number, number],
      seed: hashInts(seed, i, 0x51ed),
      labels: convention,
    });
    await writeCase(`${out}/${id}`, id, phantom);
    if (values.preview) await Deno.writeFile(`${out}/${id}/${id}_preview.png`, previewPng(phantom));
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    console.log(
      `${id}: ${phantom.tumours} tumour${phantom.tumours > 1 ? "s" : ""}, ${
        phantom.hasEnhancing ? "enhancing" : "no enhancing part"
      } (${secs} s)`,
    );
  }
  return 0;
}

const NAMES: Record<LabelConvention, Record<"flair" | "t1" | "t1ce" | "t2" | "seg", string>> = {
  brats2015: { flair: "_flair", t1: "_t1", t1ce: "_t1ce", t2: "_t2", seg: "_seg" },
  brats2017: { flair: "_flair", t1: "_t1", t1ce: "_t1ce", t2: "_t2", seg: "_seg" },
  brats2023: { flair: "-t2f", t1: "-t1n", t1ce: "-t1c", t2: "-t2w", seg: "-seg" },
};

async function writeCase(dir: string, id: string, p: Phantom): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const names = NAMES[p.convention];
  const shape = [...p.shape];
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    await writeNifti(`${dir}/${id}${names[m]}.nii.gz`, p.modalities[m], {
      shape,
      datatype: "int16",
      affine: p.affine,
    });
  }
  await writeNifti(`${dir}/${id}${names.seg}.nii.gz`, p.label, {
    shape,
    datatype: "uint8",
    affine: p.affine,
  });
}
