// This module is browser compatible.
/**
 * The one configuration object of the network and of all its ablation
 * variants (paper Tables 1 and 3), with named presets and validation.
 *
 * @module
 */

/** How the modalities enter the network. */
export type EncoderKind = "multimodal" | "stacked";
/** How the decoder combines encoder maps of the same resolution (MRF). */
export type FusionKind = "multiply" | "concat" | "none";
/** Whether a convLSTM runs over consecutive slices on the deepest map. */
export type SequenceKind = "convlstm" | "none";

/** Everything that decides the network's shape. */
export interface ModelConfig {
  /**
   * `multimodal`: one encoder per modality (MME) mixed after every stage by a
   * cross-modality convolution (CMC); `stacked`: one encoder taking the
   * modalities as input channels.
   */
  readonly encoder: EncoderKind;
  /**
   * `multiply`: the up-sampled decoder map is multiplied element-wise by the
   * encoder map of the same resolution (MRF); `concat`: concatenated (U-Net);
   * `none`: no skip connections.
   */
  readonly fusion: FusionKind;
  /** `convlstm`: a convLSTM over the slices on the deepest map; `none`: slices are independent. */
  readonly sequence: SequenceKind;
  /** Channels of encoder stages 1-4 (`C1..C4`); stage k halves the resolution. */
  readonly widths: readonly [number, number, number, number];
  /** Number of output classes (4 for brats2017/brats2023, 5 for brats2015). */
  readonly classes: number;
  /** Number of input modalities (channel order FLAIR, T1, T1c, T2 for 4). */
  readonly modalities: number;
}

/** Names of the ablation presets. */
export type PresetName =
  | "unet"
  | "encoder-decoder"
  | "encoder-decoder+mrf"
  | "mme+cmc"
  | "mme+cmc+mrf"
  | "mme+cmc+mrf+convlstm";

const BASE = { widths: [8, 16, 32, 32], classes: 4, modalities: 4 } as const;

/**
 * The paper's variants by name. `unet` is the stacked-input network with
 * concatenated skips and batch norm before every non-linearity (which every
 * variant here has); the default is `mme+cmc+mrf+convlstm`.
 */
export const PRESETS: Readonly<Record<PresetName, ModelConfig>> = {
  "unet": { ...BASE, encoder: "stacked", fusion: "concat", sequence: "none" },
  "encoder-decoder": { ...BASE, encoder: "stacked", fusion: "none", sequence: "none" },
  "encoder-decoder+mrf": { ...BASE, encoder: "stacked", fusion: "multiply", sequence: "none" },
  "mme+cmc": { ...BASE, encoder: "multimodal", fusion: "none", sequence: "none" },
  "mme+cmc+mrf": { ...BASE, encoder: "multimodal", fusion: "multiply", sequence: "none" },
  "mme+cmc+mrf+convlstm": {
    ...BASE,
    encoder: "multimodal",
    fusion: "multiply",
    sequence: "convlstm",
  },
};

/**
 * The default variant: MME + CMC + MRF + convLSTM, widths 8-16-32-32 (the
 * paper's are 32-64-64-64: a quarter of the channels trains ~6x faster on a
 * CPU adapter, see the README's "Training defaults"), 4 classes.
 */
export const DEFAULT_CONFIG: ModelConfig = PRESETS["mme+cmc+mrf+convlstm"];

const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * Modality names used in parameter names (`enc.flair.0.conv.weight`):
 * FLAIR, T1, T1c, T2 for four modalities, `m0`, `m1`, ... otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG, modalityNames, modelConfig } from "./config.ts";
 * console.log(modalityNames(DEFAULT_CONFIG)); // ["flair", "t1", "t1c", "t2"]
 * console.log(modalityNames(modelConfig(undefined, { modalities: 2 }))); // ["m0", "m1"]
 * ```
 */
export function modalityNames(config: ModelConfig): string[] {
  if (config.modalities === 4) return ["flair", "t1", "t1c", "t2"];
  return Array.from({ length: config.modalities }, (_, m) => `m${m}`);
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new RangeError(
      `model config: ${field} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, ` +
        `got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

function positiveInt(value: unknown, field: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `model config: ${field} must be an integer in 1..${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks an untrusted value (e.g. parsed from a checkpoint) and returns it as
 * a config; unknown fields are rejected so that typos do not pass silently.
 *
 * @throws {RangeError | TypeError} naming the offending field and value.
 * @example
 * ```ts
 * import { validateConfig } from "./config.ts";
 * const config = validateConfig(JSON.parse('{"encoder":"stacked","fusion":"concat",' +
 *   '"sequence":"none","widths":[8,8,8,8],"classes":4,"modalities":4}'));
 * console.log(config.widths); // [8, 8, 8, 8]
 * ```
 */
export function validateConfig(value: unknown): ModelConfig {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`model config must be an object, got ${JSON.stringify(value)}`);
  }
  const v = value as Record<string, unknown>;
  const known = ["encoder", "fusion", "sequence", "widths", "classes", "modalities"];
  const unknown = Object.keys(v).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new RangeError(`model config: unknown field(s) ${unknown.join(", ")}`);
  }
  for (const k of known) {
    if (!(k in v)) throw new RangeError(`model config: missing field ${k}`);
  }
  const widths = v.widths;
  if (!Array.isArray(widths) || widths.length !== 4) {
    throw new RangeError(
      `model config: widths must be 4 channel counts [C1, C2, C3, C4], got ${
        JSON.stringify(widths)
      }`,
    );
  }
  return {
    encoder: oneOf(v.encoder, "encoder", ["multimodal", "stacked"] as const),
    fusion: oneOf(v.fusion, "fusion", ["multiply", "concat", "none"] as const),
    sequence: oneOf(v.sequence, "sequence", ["convlstm", "none"] as const),
    widths: widths.map((w, k) => positiveInt(w, `widths[${k}]`, 1024)) as unknown as [
      number,
      number,
      number,
      number,
    ],
    classes: (() => {
      const c = positiveInt(v.classes, "classes", 256);
      if (c < 2) throw new RangeError("model config: classes must be at least 2, got 1");
      return c;
    })(),
    modalities: positiveInt(v.modalities, "modalities", 16),
  };
}

/**
 * A validated config: a preset (default `mme+cmc+mrf+convlstm`) with fields overridden.
 *
 * @throws {RangeError} for an unknown preset (listing the known ones) or a bad field.
 * @example
 * ```ts
 * import { describeConfig, modelConfig } from "./config.ts";
 * const unet = modelConfig("unet", { widths: [16, 32, 64, 64], classes: 5 });
 * const tiny = modelConfig(undefined, { widths: [4, 4, 4, 4] });
 * console.log(describeConfig(unet)); // unet 16-32-64-64, 5 classes
 * console.log(describeConfig(tiny)); // mme+cmc+mrf+convlstm 4-4-4-4, 4 classes
 * ```
 */
export function modelConfig(
  preset: PresetName | string = "mme+cmc+mrf+convlstm",
  overrides: Partial<ModelConfig> = {},
): ModelConfig {
  if (!(PRESET_NAMES as string[]).includes(preset)) {
    throw new RangeError(
      `Unknown model preset "${preset}"; known presets: ${PRESET_NAMES.join(", ")}`,
    );
  }
  return validateConfig({ ...PRESETS[preset as PresetName], ...overrides });
}

/**
 * Whether two configs describe the same network.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG, sameConfig } from "./config.ts";
 * console.log(sameConfig(DEFAULT_CONFIG, { ...DEFAULT_CONFIG })); // true
 * console.log(sameConfig(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, classes: 5 })); // false
 * ```
 */
export function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  return a.encoder === b.encoder && a.fusion === b.fusion && a.sequence === b.sequence &&
    a.classes === b.classes && a.modalities === b.modalities &&
    a.widths.every((w, k) => w === b.widths[k]);
}

/**
 * One line describing a config, e.g. `mme+cmc+mrf+convlstm 8-16-32-32, 4 classes`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG, describeConfig } from "./config.ts";
 * console.log(describeConfig(DEFAULT_CONFIG)); // mme+cmc+mrf+convlstm 8-16-32-32, 4 classes
 * ```
 */
export function describeConfig(config: ModelConfig): string {
  const preset = PRESET_NAMES.find((n) => {
    const p = PRESETS[n];
    return p.encoder === config.encoder && p.fusion === config.fusion &&
      p.sequence === config.sequence;
  });
  const kind = preset ??
    `${config.encoder}/${config.fusion}/${config.sequence}`;
  return `${kind} ${config.widths.join("-")}, ${config.classes} classes`;
}
