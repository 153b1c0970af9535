// This module is browser compatible.
/**
 * The paper's ablation (Tables 1, 3 and 4) on one split: every variant
 * trained with the same settings and time budget, with and without two-phase
 * training where the paper has both, then scored on the held-out cases.
 *
 * @module
 */

import { labelConvention, REGIONS } from "../data/labels.ts";
import type { CaseScores } from "../data/metrics.ts";
import { summariseScores } from "../data/score_summary.ts";
import { networkFromCheckpoint } from "../model/checkpoint.ts";
import { modelConfig, type PresetName } from "../model/config.ts";
import { train, type TrainOptions, type TrainRecord } from "./trainer.ts";
import { TRAIN_DEFAULTS } from "./schedule.ts";
import type { TrainingSource } from "./training_data.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { trainerValidation, validate } from "./validate.ts";

/** One row of the ablation: a preset, trained with or without two phases. */
export interface AblationVariant {
  /** Row name, as in the paper's tables. */
  name: string;
  /** Model preset. */
  preset: PresetName;
  /** Two-phase training (else one phase with the weighted loss over all windows). */
  twoPhase: boolean;
}

/** The rows of Tables 1 and 3, in the paper's order. */
export const ABLATION_VARIANTS: readonly AblationVariant[] = [
  { name: "U-Net", preset: "unet", twoPhase: false },
  { name: "U-Net + two-phase", preset: "unet", twoPhase: true },
  { name: "Encoder-Decoder", preset: "encoder-decoder", twoPhase: false },
  { name: "MME + CMC", preset: "mme+cmc", twoPhase: false },
  { name: "Encoder-Decoder + MRF", preset: "encoder-decoder+mrf", twoPhase: false },
  { name: "MME + CMC + MRF", preset: "mme+cmc+mrf", twoPhase: false },
  { name: "MME + CMC + MRF + two-phase", preset: "mme+cmc+mrf", twoPhase: true },
  { name: "MME + CMC + MRF + convLSTM", preset: "mme+cmc+mrf+convlstm", twoPhase: false },
  {
    name: "MME + CMC + MRF + convLSTM + two-phase",
    preset: "mme+cmc+mrf+convlstm",
    twoPhase: true,
  },
];

/** Options of {@link runAblation}: the trainer's, minus the model and callbacks, plus widths. */
export interface AblationOptions
  extends Omit<TrainOptions, "config" | "onStep" | "onEpoch" | "onLog" | "singlePhase"> {
  /** Encoder widths of every variant. */
  widths: readonly [number, number, number, number];
  /** Number of classes. */
  classes: number;
  /** Which rows to run (default all). */
  variants?: readonly AblationVariant[];
  /** Makes progress callbacks for a row (e.g. a progress display). */
  report?: (title: string) => {
    callbacks: Pick<TrainOptions, "onStep" | "onEpoch" | "onLog">;
    done: () => void;
  };
}

/** Scores of one trained row. */
export interface AblationRow {
  /** The variant. */
  variant: AblationVariant;
  /** Best validation epoch of its training. */
  best: TrainRecord | null;
  /** Scores of the held-out cases. */
  scores: CaseScores[];
}

/**
 * Trains and scores every variant; returns the table as text (and the rows
 * through `onRow`). Checkpoints go to `<out stem>.<preset>[.two-phase].safetensors`.
 *
 * @example
 * ```ts
 * import { encodeNifti } from "../data/nifti_encoder.ts";
 * import { generatePhantom } from "../data/phantom.ts";
 * import { getDevice } from "../gpu/device.ts";
 * import { ABLATION_VARIANTS, runAblation } from "./ablation.ts";
 * import { openTrainingCases } from "./training_cases.ts";
 * // Three tiny phantom cases as NIfTI bytes: two to train on, one held out.
 * const phantomCase = (seed: number) => {
 *   const p = generatePhantom({ size: [32, 32, 8], seed });
 *   const nifti = (data: Int16Array | Uint8Array, datatype: "int16" | "uint8") =>
 *     encodeNifti(data, { shape: p.shape, datatype, affine: p.affine });
 *   const { flair, t1, t1ce, t2 } = p.modalities;
 *   const modalities = {
 *     flair: nifti(flair, "int16"), t1: nifti(t1, "int16"),
 *     t1ce: nifti(t1ce, "int16"), t2: nifti(t2, "int16"),
 *   };
 *   const label = nifti(p.label, "uint8");
 *   return { id: `p${seed}`, dir: "", format: "nifti" as const, modalities, label };
 * };
 * const source = await openTrainingCases([phantomCase(1), phantomCase(2)], {
 *   labels: "brats2017",
 *   val: [phantomCase(3)],
 * });
 * await getDevice();
 * const files = new Map<string, Uint8Array>();
 * const table = await runAblation(source, {
 *   out: "run/ablation.safetensors", widths: [2, 2, 2, 2], classes: 4, epochs: 1, phase2Epochs: 1,
 *   variants: ABLATION_VARIANTS.slice(0, 2), // U-Net, with and without two-phase training
 *   write: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
 * });
 * console.log(table); // a Markdown table: IoU per label, MeanIU, Dice / sensitivity / PPV per region
 * ```
 */
export async function runAblation(
  source: TrainingSource,
  options: AblationOptions & { onRow?: (row: AblationRow) => void },
): Promise<string> {
  const rows: AblationRow[] = [];
  const stem = options.out.replace(/\.safetensors$/i, "");
  for (const variant of options.variants ?? ABLATION_VARIANTS) {
    const out = `${stem}.${variant.preset}${variant.twoPhase ? ".two-phase" : ""}.safetensors`;
    const config = modelConfig(variant.preset, {
      widths: [...options.widths] as [number, number, number, number],
      classes: options.classes,
    });
    const display = options.report?.(variant.name);
    let best: Uint8Array | null = null; // the best checkpoint's bytes, scored below without reading them back
    // Equal budgets: one-phase rows train as many epochs as both phases together.
    const result = await train(source, {
      ...options,
      config,
      out,
      write: (path, bytes) => {
        if (path === out) best = bytes;
        return options.write(path, bytes);
      },
      singlePhase: !variant.twoPhase,
      epochs: variant.twoPhase ? options.epochs : (options.epochs ?? TRAIN_DEFAULTS.epochs) +
        (options.phase2Epochs ?? TRAIN_DEFAULTS.phase2Epochs),
      ...display?.callbacks,
    });
    display?.done();
    const scores = best ? await scoreCheckpoint(best, out, source, options) : [];
    const row = { variant, best: result.best, scores };
    rows.push(row);
    options.onRow?.(row);
    if (result.stopped === "interrupted") break;
  }
  return ablationTable(rows, source.labels);
}

/** Scores a checkpoint's bytes on every validation case of `source`, as the trainer validates. */
async function scoreCheckpoint(
  bytes: Uint8Array,
  path: string,
  source: TrainingSource,
  options: Pick<TrainOptions, "valMode" | "seq">,
): Promise<CaseScores[]> {
  const { network, info } = networkFromCheckpoint(bytes, { path });
  const model = new NetworkSliceModel(network, info);
  try {
    return (await validate(model, source, trainerValidation(options))).cases.map((c) => c.scores);
  } finally {
    model.release();
  }
}

/**
 * The ablation table: per-label IoU and MeanIU (pooled over all held-out
 * voxels), then mean Dice / sensitivity / PPV per region, in percent.
 *
 * @example
 * ```ts
 * import { ablationTable } from "./ablation.ts";
 * console.log(ablationTable([], "brats2017")); // the header rows of an empty table
 * ```
 */
export function ablationTable(
  rows: readonly AblationRow[],
  convention: TrainingSource["labels"],
): string {
  const labels = labelConvention(convention).labels;
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : "-");
  const head = [
    "Method",
    ...labels.map((l) => `IoU ${l}`),
    "MeanIU",
    ...["whole", "core", "enh"].flatMap((r) => [`Dice ${r}`, `Sens ${r}`, `PPV ${r}`]),
  ];
  const body = rows.map((row) => {
    const s = summariseScores(row.scores, { convention });
    const regions = REGIONS.flatMap((r) => [
      pct(s.mean.dice[r]),
      pct(s.mean.sensitivity[r]),
      pct(s.mean.ppv[r]),
    ]);
    return [
      row.variant.name,
      ...labels.map((l) => pct(s.pooled.iou[String(l)] ?? NaN)),
      pct(s.pooled.meanIoU),
      ...regions,
    ];
  });
  const lines = [head, head.map(() => "---"), ...body].map((r) => `| ${r.join(" | ")} |`);
  return lines.join("\n");
}
