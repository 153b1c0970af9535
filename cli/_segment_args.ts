// `segment`'s flags checked into one options object; a bad value fails with one line naming it.

import { type LabelConvention, labelConvention } from "../data/labels.ts";
import { DEFAULT_INFERENCE, type InferenceOptions, windowing } from "../pipeline/segment_case.ts";
import { folderArg, integerFlag, parseCommand } from "./_usage.ts";

const USAGE = `usage: deno task segment IN OUT [options]

Segments every case under IN (BraTS NIfTI or BRATS-2015 MetaImage folders, searched
recursively) into OUT/<id>.nii.gz: uint8 labels with the FLAIR's dims and affine.
  --model FILE         checkpoint (default models/default.safetensors); several (a.safetensors,b...)
                       or a folder (its *.safetensors and fold_*/*.safetensors, e.g. a train
                       --folds run) make an ensemble: class probabilities averaged window by
                       window before the arg-max (memory grows with the models, not the depth).
                       A folder's postprocessing.json (written by deno task cv) is applied
  --tta                mirror test-time augmentation (4 passes: identity, x, y, xy flips)
  --window T[,O]       windowed inference: windows of T slices overlapping by O (default 0
                       for T = 3, else T/2), each from a fresh convLSTM state, overlapping
                       probabilities averaged. Default: --window 3,0 (scored best on held-out phantoms)
  --stateful           stateful inference instead: the convLSTM state runs through the
                       whole depth (excludes --window)
  --batch B            stateful mode: slices per GPU batch (default 4)
  --min-enhancing N    if fewer than N voxels are predicted enhancing, relabel them as core
  --largest-component  keep only the largest connected part of the whole tumour (6-connected);
                       with --min-enhancing, components are removed first
  --all-components     keep every component. These three override the --model folder's
                       postprocessing.json rule by rule
  --no-postprocessing  ignore the --model folder's postprocessing.json (the flags above
                       still apply)
  --save-probabilities also write OUT/<id>_probabilities.nii.gz: 4-D (x, y, z, class) uint8,
                       255 = probability 1 (scl_slope 1/255, so nibabel's get_fdata() gives
                       probabilities), each voxel's classes summing to exactly 255; a case
                       counts as done only when both files exist. They are the network's
                       (the ensemble's mean), before postprocessing: where a rule relabelled
                       a voxel, its label is not the arg-max of its probabilities
  --labels NAME        write labels in this convention (default: the checkpoint's)
  --shard K/N          only cases K, K+N, K+2N, ... (0 <= K < N, in sorted order), for
                       spreading a cohort over N machines (e.g. a job array index)
  --overwrite          redo cases whose output exists (default: skip them, so reruns resume)

Ctrl-C or SIGTERM abandons the case in progress (no partial file is left) and prints the
summary; a rerun resumes there. Temporary files in OUT of runs that died are removed at start.
A case with a blank or constant modality, or non-axial slices, is segmented with a WARNING line.
Exit code 0 when every case succeeded, 1 when any failed or IN holds no case, 130 when
interrupted.`;

/** Case `k` of every `n` (0 <= k < n). */
export interface Shard {
  /** This machine's index. */
  k: number;
  /** How many machines share the cohort. */
  n: number;
}

/** What `segment` was asked to do. */
export interface SegmentArgs {
  /** Folder searched for cases. */
  input: string;
  /** Folder the label volumes go to. */
  output: string;
  /** Checkpoint given with `--model` (undefined: the default model). */
  model?: string;
  /** The cases this run takes. */
  shard: Shard;
  /** Redo cases whose output exists. */
  overwrite: boolean;
  /** Also write each case's class probabilities. */
  saveProbabilities: boolean;
  /** Ignore the model folder's postprocessing file. */
  noPostprocessing: boolean;
  /** How each case is segmented. */
  inference: InferenceOptions;
}

/** Parses `K/N`. */
function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { k: 0, n: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && k >= 0 && k < n)) {
    throw new RangeError(`--shard "${text}" must be K/N with 0 <= K < N, e.g. 0/4`);
  }
  return { k, n };
}

/**
 * Parses `--window T[,O]` (and `--stateful`) into inference options.
 *
 * @throws {RangeError} naming the flag and the value.
 * @example
 * ```ts
 * import { parseWindow } from "./_segment_args.ts";
 * console.log(parseWindow("8,4", false)); // { mode: "windowed", window: 8, overlap: 4 }
 * ```
 */
export function parseWindow(text: string | undefined, stateful: boolean): InferenceOptions {
  if (stateful && text !== undefined) {
    throw new RangeError("--stateful and --window exclude each other");
  }
  if (stateful) return { mode: "stateful" };
  if (text === undefined) return { ...DEFAULT_INFERENCE };
  const parts = text.split(",");
  const window = Number(parts[0]);
  const overlap = parts.length > 1 ? Number(parts[1]) : windowing({ window }).overlap;
  if (
    parts.length > 2 || !Number.isInteger(window) || window < 1 || !Number.isInteger(overlap) ||
    overlap < 0 || overlap >= window
  ) {
    throw new RangeError(`--window "${text}" must be T or T,O with T >= 1 and 0 <= O < T`);
  }
  return { mode: "windowed", window, overlap };
}

/** `--largest-component` (true), `--all-components` (false) or neither (the folder's file decides). */
function largestComponentFlag(
  values: { "largest-component"?: boolean; "all-components"?: boolean },
): boolean | undefined {
  if (values["largest-component"] && values["all-components"]) {
    throw new RangeError("--largest-component and --all-components exclude each other");
  }
  return values["largest-component"] ? true : values["all-components"] ? false : undefined;
}

/**
 * Parses `segment`'s arguments; returns the exit code when `--help` or a
 * malformed call ends the command.
 *
 * @throws {RangeError} for a bad flag value, in one line naming it.
 * @example
 * ```ts
 * import { parseSegmentArgs } from "./_segment_args.ts";
 * const parsed = parseSegmentArgs(["cases/", "pred", "--shard", "1/4", "--tta"]);
 * if (typeof parsed !== "number") console.log(parsed.input, parsed.shard, parsed.inference.tta); // "cases" { k: 1, n: 4 } true
 * ```
 */
export function parseSegmentArgs(args: string[]): SegmentArgs | number {
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: {
      model: { type: "string" },
      tta: { type: "boolean", default: false },
      window: { type: "string" },
      stateful: { type: "boolean", default: false },
      batch: { type: "string" },
      "min-enhancing": { type: "string" },
      labels: { type: "string" },
      shard: { type: "string" },
      overwrite: { type: "boolean", default: false },
      "largest-component": { type: "boolean" },
      "all-components": { type: "boolean" },
      "no-postprocessing": { type: "boolean", default: false },
      "save-probabilities": { type: "boolean", default: false },
    },
    min: 2,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const [input, output] = positionals.map(folderArg);
  const shard = parseShard(values.shard);
  const inference: InferenceOptions = {
    ...parseWindow(values.window, values.stateful),
    batch: integerFlag("batch", values.batch, 1),
    tta: values.tta,
    minEnhancing: integerFlag("min-enhancing", values["min-enhancing"], 0),
    largestComponent: largestComponentFlag(values),
    labels: values.labels === undefined
      ? undefined
      : labelConvention(values.labels).name as LabelConvention,
  };
  return {
    input,
    output,
    model: values.model,
    shard,
    overwrite: values.overwrite,
    saveProbabilities: values["save-probabilities"],
    noPostprocessing: values["no-postprocessing"],
    inference,
  };
}
