/**
 * `deno task train DATA --out FILE [options]`: two-phase training with
 * median-frequency balancing (paper section 4.2) on the cases under DATA,
 * with validation Dice per epoch, best and last checkpoints, `--resume`,
 * `--time-budget`, and `--ablation` to train and compare the paper's variants.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageExit } from "./_usage.ts";
import type { Case } from "../data/cases.ts";
import { caseSources, discoverCases } from "../io/cases.ts";
import { LABEL_CONVENTIONS, type LabelConvention, labelConvention } from "../data/labels.ts";
import { getDevice } from "../gpu/device.ts";
import { Random } from "../data/random.ts";
import { runAblation } from "../train/ablation.ts";
import { describeConfig, modelConfig, PRESETS } from "../model/config.ts";
import { type StepProgress, train, trainingPaths, type TrainRecord } from "../train/trainer.ts";
import { openTrainingCases } from "../train/training_cases.ts";
import { formatDuration } from "./_progress.ts";
import type { InputError } from "../data/input_error.ts";
import { makeDir, readBytes, writeAtomic } from "../io/files.ts";

/** The trainer's file access: atomic writes, and reads that resolve to null for a missing file. */
const trainFiles = {
  write: (path: string, bytes: Uint8Array) => writeAtomic(path, bytes),
  read: (path: string) =>
    readBytes(path).catch((error: InputError) => {
      if (error.cause instanceof Deno.errors.NotFound) return null;
      throw error;
    }),
};

const USAGE = `usage: deno task train DATA --out FILE [options]

Trains the segmentation network on the case folders under DATA (BraTS layout, with label
volumes) and writes the best checkpoint (by mean validation Dice) to FILE, the last one
(with optimizer state, for --resume) to FILE.last.safetensors and loss/Dice curves to
FILE.curves.svg.

model
  --preset NAME        ${Object.keys(PRESETS).join(", ")}
                       (default mme+cmc+mrf+convlstm)
  --widths A,B,C,D     channels of the four encoder stages (default 32,64,64,64)
  --labels NAME        label convention: ${LABEL_CONVENTIONS.join(", ")} (default brats2017)
data
  --val DIR            validation cases from DIR (default: hold out --val-fraction of DATA)
  --val-fraction F     fraction of DATA held out for validation (default 0.2)
  --val-mode MODE      validation inference: windowed (default; windows of --seq slices from a
                       fresh convLSTM state, as segment's default) or stateful (state carried
                       through the whole depth)
  --cache-cases N      cases kept loaded at once; windows are shuffled within groups of N (default 4)
training (paper section 4.2)
  --seq T              consecutive slices per window (default 3)
  --batch B            windows per batch (default 3)
  --epochs N           phase-1 epochs: tumour windows, median-frequency-balanced loss (default 8)
  --phase2-epochs N    phase-2 epochs: all windows, unweighted loss, --lr2 (default 4)
  --lr X               phase-1 Adam learning rate (default 0.001)
  --lr2 X              phase-2 learning rate (default lr/10)
  --empty-skip F       phase 2: fraction of all-empty windows skipped each epoch (default 0.7)
  --single-phase       one phase of --epochs over all windows with the weighted loss
  --no-augment         no random flips or intensity scale/shift
  --seed S             seed of initialisation, split, data order, augmentation (default 1)
  --data-note TEXT     recorded with the data in the checkpoint (e.g. how the data was made)
running
  --resume             continue from FILE.last.safetensors (same settings and data)
  --time-budget SEC    stop cleanly after about SEC seconds, keeping the best checkpoint
  --ablation           train every variant (each with and without two-phase training where
                       the paper has it) with these settings and budget, and print the table;
                       checkpoints go to FILE.<variant>.safetensors
  -h, --help           this text`;

/** Parsed and checked command-line settings. */
interface Settings {
  data: string;
  out: string;
  labels: LabelConvention;
  preset: string;
  widths?: [number, number, number, number];
  seed: number;
}

/**
 * Runs `train`; returns the exit code.
 *
 * @example
 * ```ts
 * await run(["phantoms", "--out", "run/model.safetensors", "--widths", "8,16,16,16", "--time-budget", "600"]);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      preset: { type: "string", default: "mme+cmc+mrf+convlstm" },
      widths: { type: "string" },
      labels: { type: "string", default: "brats2017" },
      val: { type: "string" },
      "val-fraction": { type: "string", default: "0.2" },
      "val-mode": { type: "string", default: "windowed" },
      "cache-cases": { type: "string", default: "4" },
      seq: { type: "string", default: "3" },
      batch: { type: "string", default: "3" },
      epochs: { type: "string", default: "8" },
      "phase2-epochs": { type: "string", default: "4" },
      lr: { type: "string", default: "0.001" },
      lr2: { type: "string" },
      "empty-skip": { type: "string", default: "0.7" },
      "single-phase": { type: "boolean", default: false },
      "no-augment": { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      "data-note": { type: "string" },
      resume: { type: "boolean", default: false },
      "time-budget": { type: "string" },
      ablation: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const exit = usageExit(USAGE, { help: values.help, positionals, min: 1, malformed: !values.out });
  if (exit !== null) return exit;
  const int = (name: string, min = 0) => {
    const v = Number(values[name as keyof typeof values]);
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(
        `--${name} "${values[name as keyof typeof values]}" must be a whole number >= ${min}`,
      );
    }
    return v;
  };
  const num = (name: string, lo: number, hi: number) => {
    const raw = values[name as keyof typeof values];
    const v = Number(raw);
    if (raw === undefined || raw === "" || !Number.isFinite(v) || v < lo || v > hi) {
      throw new RangeError(`--${name} "${raw}" must be a number in ${lo}..${hi}`);
    }
    return v;
  };
  const labels = labelConvention(values.labels).name;
  const classes = labelConvention(labels).labels.length;
  let widths: [number, number, number, number] | undefined;
  if (values.widths !== undefined) {
    const w = values.widths.split(",").map(Number);
    if (w.length !== 4 || !w.every((x) => Number.isInteger(x) && x > 0)) {
      throw new RangeError(
        `--widths "${values.widths}" must be four positive integers, e.g. 32,64,64,64`,
      );
    }
    widths = w as [number, number, number, number];
  }
  const config = modelConfig(values.preset, { classes, ...(widths ? { widths } : {}) });
  const settings: Settings = {
    data: positionals[0],
    out: values.out!, // usageExit refused a call without --out
    labels,
    preset: values.preset,
    widths,
    seed: int("seed"),
  };

  const { trainCases, valCases } = await split(settings, values.val, num("val-fraction", 0, 0.9));
  await getDevice();
  const command = ["deno task train", ...args].join(" ");
  const common = {
    seq: int("seq", 1),
    batch: int("batch", 1),
    epochs: int("epochs"),
    phase2Epochs: int("phase2-epochs"),
    lr: num("lr", 1e-12, 10),
    lr2: values.lr2 === undefined ? undefined : num("lr2", 1e-12, 10),
    seed: settings.seed,
    emptySkip: num("empty-skip", 0, 1),
    augment: values["no-augment"] ? false as const : {},
    singlePhase: values["single-phase"],
    timeBudget: values["time-budget"] === undefined ? undefined : num("time-budget", 1, 1e9),
    resume: values.resume,
    cacheCases: int("cache-cases", 1),
    valMode: valMode(values["val-mode"]),
    command,
    ...trainFiles,
  };
  console.log(
    `${trainCases.length} training and ${valCases.length} validation cases; ` +
      `${describeConfig(config)}; seed ${settings.seed}`,
  );
  const source = await openTrainingCases(await Promise.all(trainCases.map(caseSources)), {
    labels,
    val: await Promise.all(valCases.map(caseSources)),
    description: {
      folder: settings.data,
      valFolder: values.val ?? null,
      ...(values["data-note"] ? { note: values["data-note"] } : {}),
    },
  });
  console.log(
    `class weights (median-frequency balancing, phase 1): ${
      source.classWeights.map((w) => w.toFixed(3)).join(", ")
    }`,
  );
  const outDir = settings.out.replace(/[^/\\]*$/, "");
  if (outDir) await makeDir(outDir);
  if (values.ablation) {
    const table = await runAblation(source, {
      ...common,
      out: settings.out,
      widths: config.widths,
      classes,
      report: reporter,
    });
    console.log(table);
    return 0;
  }
  const display = reporter(describeConfig(config));
  const result = await train(source, {
    ...common,
    config,
    out: settings.out,
    ...display.callbacks,
  });
  display.done();
  const best = result.best;
  console.log(
    `${
      result.stopped === "done" ? "finished" : `stopped (${result.stopped})`
    } after ${result.steps} batches in ` +
      `${result.seconds.toFixed(0)} s; best ${
        best ? `epoch ${best.epoch}: Dice ${diceText(best)}` : "none (no validation cases)"
      }`,
  );
  console.log(
    `best: ${settings.out}\nlast: ${trainingPaths(settings.out).last}\ncurves: ${result.curves}`,
  );
  return 0;
}

/** Training and validation cases: `--val DIR`, or a seeded hold-out of DATA. */
async function split(
  settings: Settings,
  valDir: string | undefined,
  fraction: number,
): Promise<{ trainCases: Case[]; valCases: Case[] }> {
  const discover = async (dir: string) => {
    const { cases, problems } = await discoverCases(dir, { requireLabel: true });
    for (const p of problems) console.error(`skipping ${p.path}: ${p.reason}`);
    if (cases.length === 0) {
      throw new RangeError(`${dir}: no cases with four modalities and a label volume`);
    }
    return cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };
  const all = await discover(settings.data);
  if (valDir !== undefined) return { trainCases: all, valCases: await discover(valDir) };
  const order = Random.forKey(settings.seed, 0x5eed).shuffle([...all.keys()]);
  const nVal = all.length < 2 || fraction === 0
    ? 0
    : Math.max(1, Math.round(all.length * fraction));
  const val = new Set(order.slice(0, nVal));
  return {
    trainCases: all.filter((_, i) => !val.has(i)),
    valCases: all.filter((_, i) => val.has(i)),
  };
}

function valMode(value: string): "windowed" | "stateful" {
  if (value !== "windowed" && value !== "stateful") {
    throw new RangeError(`--val-mode "${value}" must be windowed or stateful`);
  }
  return value;
}

function diceText(r: TrainRecord): string {
  return `whole ${r.dice.whole.toFixed(3)}, core ${r.dice.core.toFixed(3)}, enhancing ${
    r.dice.enhancing.toFixed(3)
  }`;
}

/** Progress display: a redrawn line on a terminal, plain lines otherwise. */
function reporter(title: string) {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastPlain = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    drawn = false;
  };
  const onStep = (p: StepProgress) => {
    const text = `${title} | phase ${p.phase} epoch ${p.epoch}/${p.epochs} ` +
      `batch ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} (mean ${p.meanLoss.toFixed(4)}) ` +
      `${p.windowsPerSecond.toFixed(2)} windows/s ${formatDuration(p.seconds)}`;
    if (tty) {
      const width = 20, filled = Math.round(width * p.step / Math.max(1, p.steps));
      clear();
      Deno.stderr.writeSync(
        encoder.encode(`[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`),
      );
      drawn = true;
    } else if (p.seconds - lastPlain >= 30 || p.step === p.steps) {
      lastPlain = p.seconds;
      console.log(text);
    }
  };
  const onEpoch = (r: TrainRecord) => {
    clear();
    console.log(
      `epoch ${r.epoch} (phase ${r.phase}${r.partial ? ", partial" : ""}): loss ${
        r.loss.toFixed(4)
      }, ` +
        `validation Dice ${diceText(r)} [${formatDuration(r.seconds)}]`,
    );
  };
  const onLog = (message: string) => {
    clear();
    console.log(message);
  };
  return { callbacks: { onStep, onEpoch, onLog }, done: clear };
}
