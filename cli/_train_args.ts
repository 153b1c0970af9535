// `train`'s flags checked into the trainer's options; a bad value fails with one line naming it.

import { LABEL_CONVENTIONS, type LabelConvention, labelConvention } from "../data/labels.ts";
import { DEFAULT_CONFIG, type ModelConfig, modelConfig, PRESETS } from "../model/config.ts";
import { TRAIN_DEFAULTS as D } from "../train/schedule.ts";
import type { TrainOptions } from "../train/trainer.ts";
import { integerFlag, numberFlag, parseCommand } from "./_usage.ts";
import { AUGMENT_USAGE, augmentFromFlags, patchFlag } from "./_augment_flags.ts";
import { DEFAULT_TUMOUR_SHARE } from "../train/window_sampler.ts";

const USAGE = `usage: deno task train DATA --out FILE [options]

Trains the segmentation network on the case folders under DATA (BraTS layout, with label
volumes) and writes the best checkpoint (by mean validation Dice) to FILE, the last one
(with optimizer state, for --resume) to FILE.last.safetensors and loss/Dice curves to
FILE.curves.svg.

model
  --preset NAME        ${Object.keys(PRESETS).join(", ")}
                       (default mme+cmc+mrf+convlstm)
  --widths A,B,C,D     channels of the four encoder stages (default ${DEFAULT_CONFIG.widths}: on a
                       CPU adapter the paper's 32,64,64,64 trains too few windows in a 30-minute
                       budget to converge; see the README's "Training defaults")
  --labels NAME        label convention: ${LABEL_CONVENTIONS.join(", ")} (default brats2017)
data
  --val DIR            validation cases from DIR (default: hold out --val-fraction of DATA)
  --val-fraction F     fraction of DATA held out for validation (default 0.2)
  --val-mode MODE      validation inference: windowed (default; windows of --seq slices from a
                       fresh convLSTM state, as segment's default) or stateful (state carried
                       through the whole depth)
  --folds N            cross-validation: split DATA by case into N folds (deterministic from the
                       sorted ids and --seed, stratified by whether a case has enhancing tumour);
                       fold K trains on the others, validates on fold K, and writes to
                       DIR/fold_K/ (FILE = DIR/NAME.safetensors: DIR/fold_K/NAME.safetensors,
                       its validation cases' predictions in DIR/fold_K/val/<id>.nii.gz, and
                       DIR/fold_K/fold.json once done). The split is kept in DIR/splits.json;
                       a later run that would split differently (other data, --folds or --seed)
                       is refused. Without --fold, the folds one after another; a finished fold
                       (fold.json there) is skipped, so a rerun with --resume continues where
                       the last one stopped. Score with deno task cv DIR
  --fold K             train only fold K (0 <= K < N), e.g. one job of a scheduler's array
  --cache-cases N      cases kept loaded at once; windows are shuffled within groups of N (default ${D.cacheCases})
training (paper section 4.2)
  --seq T              consecutive slices per window (default ${D.seq})
  --batch B            windows per batch (default ${D.batch})
  --epochs N           phase-1 epochs: tumour windows, median-frequency-balanced loss (default ${D.epochs})
  --phase2-epochs N    phase-2 epochs: all windows, unweighted loss, --lr2 (default ${D.phase2Epochs})
  --dice W             weight of the soft Dice term beside the cross-entropy, both phases
                       (default ${D.dice}; 0: cross-entropy alone, the paper's loss). Dice weighs
                       each region's overlap, so small regions count as much as large ones
  --lr X               phase-1 Adam learning rate (default ${D.lr})
  --lr2 X              phase-2 learning rate (default lr × ${D.lr2Share})
  --lr-schedule NAME   learning rate within each phase: cosine (default: decays to a tenth of
                       the phase's rate over the phase) or constant
  --empty-skip F       phase 2: fraction of all-empty windows skipped each epoch (default 0.7)
  --single-phase       one phase of --epochs over all windows with the weighted loss
  --seed S             seed of initialisation, split, data order, augmentation (default ${D.seed})
  --data-note TEXT     recorded with the data in the checkpoint (e.g. how the data was made)
${AUGMENT_USAGE}
running
  --resume             continue from FILE.last.safetensors (same settings and data; the plan
                       of a --time-budget run is carried on). Ctrl-C or SIGTERM (a scheduler's
                       preemption) stops at the next batch and writes FILE.last.safetensors,
                       exit 130, so --resume then continues exactly
  --overwrite          replace an existing FILE and FILE.last.safetensors (without it, or
                       --resume, train refuses to start over them)
  --time-budget SEC    fit the schedule into about SEC seconds of training: throughput is measured
                       over the first 20 batches (or 5% of SEC, if sooner), then phases 1 and 2 get
                       as many epochs as fit in the ratio --epochs:--phase2-epochs (a ratio, not a
                       cap; phase 1 at least 3, or --epochs if fewer, where 3 fit beside one of
                       phase 2), each with its learning-rate decay; re-planned with the first
                       validation's time, once if throughput moves by more than 25%, and if behind.
                       Ends with a completed phase 2 and its best checkpoint; the plan (windows per
                       epoch, epochs per phase, expected end) is printed and kept in the checkpoint.
                       Too small for one whole epoch of each phase: one epoch of each, shortened
                       to the first windows of its shuffled order (the two in the ratio of the
                       phases' planned work, at least one batch each) so that both, with their
                       validations, fit (re-plans may only shrink them); a warning says by how
                       much. Too small even for one batch of each: that, with a warning
  --max-epochs N       with --time-budget: at most N epochs of both phases together
  --time-limit SEC     hard stop: end cleanly mid-epoch after about SEC seconds, validating that
                       epoch and keeping the best checkpoint (resume with --resume)
  --ablation           train every variant (each with and without two-phase training where
                       the paper has it) with these settings and budget, and print the table;
                       checkpoints go to FILE.<variant>.safetensors
  -h, --help           this text`;

const OPTIONS = {
  out: { type: "string" },
  preset: { type: "string", default: "mme+cmc+mrf+convlstm" },
  widths: { type: "string" },
  labels: { type: "string", default: "brats2017" },
  val: { type: "string" },
  "val-fraction": { type: "string", default: "0.2" },
  "val-mode": { type: "string", default: "windowed" },
  "cache-cases": { type: "string", default: String(D.cacheCases) },
  folds: { type: "string" },
  fold: { type: "string" },
  seq: { type: "string", default: String(D.seq) },
  batch: { type: "string", default: String(D.batch) },
  epochs: { type: "string", default: String(D.epochs) },
  "phase2-epochs": { type: "string", default: String(D.phase2Epochs) },
  lr: { type: "string", default: String(D.lr) },
  dice: { type: "string", default: String(D.dice) },
  lr2: { type: "string" },
  "empty-skip": { type: "string", default: "0.7" },
  "single-phase": { type: "boolean", default: false },
  "no-augment": { type: "boolean", default: false },
  augment: { type: "string", default: "nnunet" },
  aug: { type: "string", multiple: true },
  patch: { type: "string", default: String(D.patch) },
  "patch-tumour-share": { type: "string", default: String(DEFAULT_TUMOUR_SHARE) },
  seed: { type: "string", default: String(D.seed) },
  "data-note": { type: "string" },
  resume: { type: "boolean", default: false },
  overwrite: { type: "boolean", default: false },
  "time-budget": { type: "string" },
  "max-epochs": { type: "string" },
  "time-limit": { type: "string" },
  "lr-schedule": { type: "string", default: "cosine" },
  ablation: { type: "boolean", default: false },
} as const;

/** The trainer's options that come from flags (the run adds the model, files and callbacks). */
export type TrainerFlags = Omit<
  TrainOptions,
  "config" | "out" | "write" | "read" | "onStep" | "onEpoch" | "onLog"
>;

/** What `train` was asked to do. */
export interface TrainArgs {
  /** Folder of training cases. */
  data: string;
  /** Path of the best checkpoint. */
  out: string;
  /** Folder of validation cases (`--val`), else a hold-out of `data`. */
  valDir?: string;
  /** Fraction of `data` held out when there is no `valDir`. */
  valFraction: number;
  /** Cross-validation: the number of folds and the one to train (all, one after another, when undefined). */
  folds?: { n: number; k?: number };
  /** `--data-note`, recorded in the checkpoint. */
  dataNote?: string;
  /** Train and compare every variant instead of one network. */
  ablation: boolean;
  /** Start over an existing FILE (else refused unless resuming). */
  overwrite: boolean;
  /** Label convention of the cases. */
  labels: LabelConvention;
  /** Number of classes of that convention. */
  classes: number;
  /** The network to train. */
  config: ModelConfig;
  /** The trainer's settings. */
  trainer: TrainerFlags & { seed: number };
}

/**
 * `--widths A,B,C,D` (undefined when not given).
 *
 * @throws {RangeError} naming the flag and the value.
 * @example
 * ```ts
 * import { parseWidths } from "./_train_args.ts";
 * console.log(parseWidths("8,16,32,32")); // [8, 16, 32, 32]
 * ```
 */
export function parseWidths(
  text: string | undefined,
): [number, number, number, number] | undefined {
  if (text === undefined) return undefined;
  const w = text.split(",").map(Number);
  if (w.length !== 4 || !w.every((x) => Number.isInteger(x) && x > 0)) {
    throw new RangeError(`--widths "${text}" must be four positive integers, e.g. 32,64,64,64`);
  }
  return w as [number, number, number, number];
}

function lrSchedule(value: string): "cosine" | "constant" {
  if (value !== "cosine" && value !== "constant") {
    throw new RangeError(`--lr-schedule "${value}" must be cosine or constant`);
  }
  return value;
}

function valMode(value: string): "windowed" | "stateful" {
  if (value !== "windowed" && value !== "stateful") {
    throw new RangeError(`--val-mode "${value}" must be windowed or stateful`);
  }
  return value;
}

/** `--folds N [--fold K]`, checked against each other and the flags they exclude. */
function foldsFlags(
  folds: string | undefined,
  fold: string | undefined,
  other: { val?: string; ablation: boolean },
): TrainArgs["folds"] {
  if (folds === undefined) {
    if (fold !== undefined) throw new RangeError("--fold K needs --folds N");
    return undefined;
  }
  const n = integerFlag("folds", folds, 2, "a whole number") as number;
  const k = integerFlag("fold", fold, 0, "a whole number");
  if (k !== undefined && k >= n) throw new RangeError(`--fold ${k} must be below --folds ${n}`);
  if (other.val !== undefined) throw new RangeError("--folds and --val exclude each other");
  if (other.ablation) throw new RangeError("--folds and --ablation exclude each other");
  return k === undefined ? { n } : { n, k };
}

/**
 * Parses `train`'s arguments; returns the exit code when `--help` or a
 * malformed call (no DATA, no `--out`) ends the command.
 *
 * @throws {RangeError} for a bad flag value, in one line naming it.
 * @example
 * ```ts
 * import { parseTrainArgs } from "./_train_args.ts";
 * const parsed = parseTrainArgs(["cases", "--out", "m.safetensors", "--widths", "2,2,2,2"]);
 * if (typeof parsed !== "number") console.log(parsed.config.widths, parsed.trainer.epochs); // [2, 2, 2, 2] 8
 * ```
 */
export function parseTrainArgs(args: string[]): TrainArgs | number {
  const parsed = parseCommand(args, { usage: USAGE, options: OPTIONS, min: 1, required: ["out"] });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const int = (name: keyof typeof OPTIONS, min = 0) =>
    integerFlag(name, values[name] as string, min, "a whole number") as number;
  const num = (name: keyof typeof OPTIONS, lo: number, hi: number) =>
    numberFlag(name, values[name] as string | undefined, lo, hi);
  const labels = labelConvention(values.labels).name;
  const classes = labelConvention(labels).labels.length;
  const widths = parseWidths(values.widths);
  const config = modelConfig(values.preset, { classes, ...(widths ? { widths } : {}) });
  const seed = int("seed");
  const valFraction = num("val-fraction", 0, 0.9);
  const folds = foldsFlags(values.folds, values.fold, {
    val: values.val,
    ablation: values.ablation,
  });
  return {
    data: positionals[0],
    out: values.out!, // parseCommand refused a call without --out
    valDir: values.val,
    valFraction,
    ...(folds ? { folds } : {}),
    dataNote: values["data-note"],
    ablation: values.ablation,
    overwrite: values.overwrite,
    labels,
    classes,
    config,
    trainer: {
      seed,
      seq: int("seq", 1),
      batch: int("batch", 1),
      epochs: int("epochs"),
      phase2Epochs: int("phase2-epochs"),
      lr: num("lr", 1e-12, 10),
      dice: num("dice", 0, 100),
      lr2: values.lr2 === undefined ? undefined : num("lr2", 1e-12, 10),
      emptySkip: num("empty-skip", 0, 1),
      augment: augmentFromFlags({
        preset: values.augment,
        specs: values.aug,
        off: values["no-augment"],
      }),
      patch: patchFlag(int("patch")),
      patchTumourShare: num("patch-tumour-share", 0, 1),
      singlePhase: values["single-phase"],
      lrSchedule: lrSchedule(values["lr-schedule"]),
      timeBudget: values["time-budget"] === undefined ? undefined : num("time-budget", 1, 1e9),
      maxEpochs: values["max-epochs"] === undefined ? undefined : int("max-epochs", 1),
      timeLimit: values["time-limit"] === undefined ? undefined : num("time-limit", 1, 1e9),
      resume: values.resume,
      cacheCases: int("cache-cases", 1),
      valMode: valMode(values["val-mode"]),
      command: ["deno task train", ...args].join(" "),
    },
  };
}
