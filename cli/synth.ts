/**
 * `deno task synth OUT --cases N --seed S --size X,Y,Z [--labels brats2017]
 * [--variety classic|rich] [variety options] [--preview]`: writes synthetic
 * BraTS-style phantom cases (four int16 modalities and a uint8 label volume
 * per case folder), optionally with a preview PNG.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import { hashInts } from "../data/random.ts";
import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { makeDir } from "../io/files.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { writeNifti } from "../io/nifti.ts";
import { previewPng } from "../data/overlay.ts";
import { generatePhantom, type Phantom, type PhantomOptions } from "../data/phantom.ts";
import {
  PHANTOM_LIMITS,
  PHANTOM_VARIETIES,
  type PhantomSpan,
  type PhantomVarietySettings,
} from "../data/phantom_settings.ts";

type VarietyKey = keyof PhantomVarietySettings;

/** Each variety flag: its option, its argument and what it means (limits and values come from the data). */
const VARIETY_FLAGS: readonly [string, VarietyKey, string, string][] = [
  ["tumours", "tumours", "N|LO-HI", "number of tumours (*)"],
  ["tumour-size", "tumourSize", "LO-HI", "core radius of the first / brain radius"],
  ["irregularity", "irregularity", "LO-HI", "boundary: 0 round .. 1 lobulated"],
  ["surface-share", "surfaceShare", "P", "share of tumours at the brain surface"],
  ["midline-share", "midlineShare", "P", "share across the midline (butterfly)"],
  ["non-enhancing-share", "nonEnhancingShare", "P", "share with no enhancing rim"],
  ["necrosis-share", "necrosisShare", "P", "share of enhancing ones with necrosis"],
  ["bias", "biasField", "LO-HI", "bias-field strength, x classic's"],
  ["noise", "noise", "LO-HI", "noise sigma, x classic's (2.8% of WM)"],
  ["scanner-contrast", "scannerContrast", "LO-HI", "modality contrast jitter and gamma"],
  ["brain-size", "brainSize", "LO-HI", "brain size, x classic's (fills BraTS's)"],
  ["voxel-size", "voxelSize", "LO-HI", "in-plane voxel size, mm (pixdim)"],
  ["slice-thickness", "sliceThickness", "LO-HI", "slice thickness, mm (pixdim)"],
];

const fmt = (v: PhantomSpan) => (typeof v === "number" ? `${v}` : `${v[0]}-${v[1]}`);

const row = (cells: string[]) =>
  `  ${cells[0].padEnd(25)}${cells[1].padEnd(41)}${cells[2].padEnd(11)}${cells[3].padEnd(11)}${
    cells[4]
  }`.trimEnd();

const USAGE = `usage: deno task synth OUT [--cases N] [--seed S] [--size X,Y,Z] [--labels brats2017]
                           [--variety classic|rich] [variety options] [--preview]

Writes N synthetic four-modality brain-tumour cases as BraTS case folders under OUT.
  --cases N        number of cases (default 1)
  --seed S         integer seed; the same seed and options give the same cases (default 1)
  --size X,Y,Z     volume size in voxels (default 240,240,155)
  --labels NAME    label convention: brats2015, brats2017 (default), brats2023
                   (brats2023 also uses the 2023 file names <id>-t2f, -t1n, -t1c, -t2w, -seg)
  --preview        also write OUT/<id>/<id>_preview.png: the middle tumour slice of each modality and the labels
  --variety NAME   classic (default): the phantoms synth has always made, byte for byte per seed;
                   rich: every setting below varies per case: 1-3 separate tumours of varied size,
                   lobulated shapes, some at the surface or across the midline, more without an
                   enhancing rim or necrosis, bias fields from none to strong, noise from low to
                   high, scanner-like contrast differences between modalities, brain size, voxel
                   size and slice thickness

Variety options override the variety's value: N or P fixes it, LO-HI draws it per case (tumour
size and irregularity per tumour, noise and bias per modality).
${row(["", "", "range", "classic", "rich"])}
${
  VARIETY_FLAGS.map(([flag, key, arg, what]) =>
    row([
      `--${flag} ${arg}`,
      what,
      ...[PHANTOM_LIMITS[key], PHANTOM_VARIETIES.classic[key], PHANTOM_VARIETIES.rich[key]].map(
        fmt,
      ),
    ])
  ).join("\n")
}
  (*) classic: one tumour, a second in 20% of cases (oedema may touch); rich: 1, 2 or 3 in 60/25/15%.
      Given as a flag, or with rich, tumours are kept apart: each is its own connected component.
  Voxel size and slice thickness keep the brain's size in mm, so larger voxels make it span fewer.`;

/**
 * Runs the `synth` command; returns the exit code.
 *
 * @example
 * ```ts
 * import { run } from "./synth.ts";
 * const out = await Deno.makeTempDir();
 * await run([out, "--cases", "1", "--size", "40,40,24", "--variety", "rich", "--noise", "0.5-1"]);
 * await Deno.remove(out, { recursive: true });
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
      variety: { type: "string", default: "classic" },
      ...Object.fromEntries(VARIETY_FLAGS.map(([flag]) => [flag, { type: "string" as const }])),
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
  const options = varietyOptions(values as Record<string, string | boolean | undefined>);
  const convention = labelConvention(values.labels).name;
  await makeDir(out);
  // The mark `train` records in checkpoints, so that a model trained on phantoms says so.
  const mark = { synthetic: true, generator: "deno task synth", args, ...options };
  await writeAtomic(`${out}/${SYNTH_MARK}`, new TextEncoder().encode(JSON.stringify(mark) + "\n"));
  for (let i = 0; i < count; i++) {
    const id = `phantom_s${seed}_${String(i + 1).padStart(3, "0")}`;
    const start = performance.now();
    const phantom = generatePhantom({
      ...options,
      size: size as [number, number, number],
      seed: hashInts(seed, i, 0x51ed),
      labels: convention,
    });
    await writeCase(`${out}/${id}`, id, phantom);
    if (values.preview) await writeAtomic(`${out}/${id}/${id}_preview.png`, previewPng(phantom));
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    const voxels = phantom.spacing.every((d) => d === 1)
      ? ""
      : `, voxels ${phantom.spacing.join("×")} mm`;
    console.log(
      `${id}: ${phantom.tumours} tumour${phantom.tumours > 1 ? "s" : ""}, ${
        phantom.hasEnhancing ? "enhancing" : "no enhancing part"
      }${voxels} (${secs} s)`,
    );
  }
  return 0;
}

/** The file `synth` leaves in its output folder: these cases are synthetic phantoms. */
export const SYNTH_MARK = "synth.json";

/** The variety flags given, as phantom options; a flag is N or LO-HI. */
function varietyOptions(values: Record<string, string | boolean | undefined>): PhantomOptions {
  const variety = values.variety as string;
  if (variety !== "classic" && variety !== "rich") {
    throw new RangeError(`--variety "${variety}" is not classic or rich`);
  }
  const options: Record<string, unknown> = { variety };
  for (const [flag, key] of VARIETY_FLAGS) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    const m = /^\s*(\d*\.?\d+)\s*(?:-\s*(\d*\.?\d+)\s*)?$/.exec(text);
    if (!m) throw new RangeError(`--${flag} "${text}" is not a number N or a range LO-HI`);
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    const [min, max] = PHANTOM_LIMITS[key];
    if (lo > hi || lo < min || hi > max) {
      throw new RangeError(`--${flag} "${text}" is outside ${min}-${max} (or LO > HI)`);
    }
    if (key === "tumours" && !(Number.isInteger(lo) && Number.isInteger(hi))) {
      throw new RangeError(`--${flag} "${text}" is not a whole number or range`);
    }
    if (key.endsWith("Share") && lo !== hi) {
      throw new RangeError(`--${flag} "${text}" is a share: one number in 0-1`);
    }
    options[key] = lo === hi ? lo : [lo, hi];
  }
  return options as PhantomOptions;
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
