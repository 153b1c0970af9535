// This module is browser compatible.
/**
 * The augmentation's settings: nnU-Net's set of transforms, each with its
 * probability per window and the range its parameter is drawn from, as
 * presets (`nnunet`, the default; `basic`, the recipe before it: mirroring
 * and a per-modality intensity scale and shift; `none`) with per-transform
 * overrides, checked and resolved into the record a checkpoint keeps.
 *
 * @module
 */

/** A transform's chance per window and the range its parameter is drawn from (uniformly). */
export interface TransformSetting {
  /** Probability per window; 0 turns the transform off. */
  p: number;
  /** Range of the parameter, `[lo, hi]`. */
  range: readonly [number, number];
}

/** A per-modality transform that, once a window is picked, picks each modality with `perChannel`. */
export interface ChannelTransformSetting extends TransformSetting {
  /** Probability per modality of a picked window. */
  perChannel: number;
}

/** Gamma: a plain pass with probability `p` after an inverted one with probability `invert`. */
export interface GammaSetting extends TransformSetting {
  /** Probability of a gamma pass on the inverted intensities (nnU-Net's second gamma). */
  invert: number;
}

/** Elastic deformation: a smooth random displacement field of `alpha` × noise smoothed by `sigma` pixels. */
export interface ElasticSetting {
  /** Probability per window; 0 turns it off. */
  p: number;
  /** Range of the displacement magnitude (pixels × smoothed unit noise). */
  alpha: readonly [number, number];
  /** Range of the Gaussian smoothing of the noise, in pixels. */
  sigma: readonly [number, number];
}

/** Every transform's setting, resolved. Spatial ones share one resampling pass per window. */
export interface AugmentSettings {
  /** In-plane rotation, degrees. */
  rotation: TransformSetting;
  /** Scaling (zoom): objects appear this many times larger. */
  scale: TransformSetting;
  /** Elastic deformation. */
  elastic: ElasticSetting;
  /** Mirroring: each in-plane axis is flipped with probability `p`. */
  mirror: { p: number };
  /** Gamma of the brain intensities, rescaled to keep their mean and deviation. */
  gamma: GammaSetting;
  /** Multiplicative brightness factor. */
  brightness: TransformSetting;
  /** Contrast factor about the brain mean, clipped to the original range. */
  contrast: TransformSetting;
  /** Additive Gaussian noise: its variance. */
  noise: TransformSetting;
  /** Gaussian blur: its sigma in pixels. */
  blur: ChannelTransformSetting;
  /** Simulated low resolution: downsampling factor (nearest), then bilinear upsampling. */
  lowRes: ChannelTransformSetting;
  /** Additive intensity shift (z-score units); the `basic` recipe's. */
  shift: TransformSetting;
}

/** The names of the transforms, in the order they are drawn and listed. */
export const TRANSFORMS = [
  "rotation",
  "scale",
  "elastic",
  "mirror",
  "gamma",
  "brightness",
  "contrast",
  "noise",
  "blur",
  "lowRes",
  "shift",
] as const satisfies readonly (keyof AugmentSettings)[];

/** A named set of settings. */
export type AugmentPreset = "nnunet" | "basic" | "none";

/** Options of the augmentation: a preset and overrides of any part of any transform. */
export type AugmentOptions =
  & {
    /** Settings to start from. Default `nnunet`. */
    preset?: AugmentPreset;
  }
  & { [K in keyof AugmentSettings]?: Partial<AugmentSettings[K]> };

const OFF = (range: [number, number]): TransformSetting => ({ p: 0, range });

/** nnU-Net's default 2D set (elastic deformation off, as in nnU-Net). */
const NNUNET: AugmentSettings = {
  rotation: { p: 0.2, range: [-180, 180] },
  scale: { p: 0.2, range: [0.7, 1.4] },
  elastic: { p: 0, alpha: [0, 200], sigma: [9, 13] },
  mirror: { p: 0.5 },
  gamma: { p: 0.3, range: [0.7, 1.5], invert: 0.1 },
  brightness: { p: 0.15, range: [0.75, 1.25] },
  contrast: { p: 0.15, range: [0.75, 1.25] },
  noise: { p: 0.1, range: [0, 0.1] },
  blur: { p: 0.2, range: [0.5, 1], perChannel: 0.5 },
  lowRes: { p: 0.25, range: [1, 2], perChannel: 0.5 },
  shift: OFF([-0.1, 0.1]),
};

const NONE: AugmentSettings = {
  rotation: OFF(NNUNET.rotation.range as [number, number]),
  scale: OFF(NNUNET.scale.range as [number, number]),
  elastic: { ...NNUNET.elastic, p: 0 },
  mirror: { p: 0 },
  gamma: { ...NNUNET.gamma, p: 0, invert: 0 },
  brightness: OFF(NNUNET.brightness.range as [number, number]),
  contrast: OFF(NNUNET.contrast.range as [number, number]),
  noise: OFF(NNUNET.noise.range as [number, number]),
  blur: { ...NNUNET.blur, p: 0 },
  lowRes: { ...NNUNET.lowRes, p: 0 },
  shift: NNUNET.shift,
};

/** The presets: `nnunet` (default), `basic` (mirroring, intensity scale and shift ±0.1), `none`. */
export const AUGMENT_PRESETS: Readonly<Record<AugmentPreset, Readonly<AugmentSettings>>> = {
  nnunet: NNUNET,
  basic: {
    ...NONE,
    mirror: { p: 0.5 },
    brightness: { p: 1, range: [0.9, 1.1] },
    shift: { p: 1, range: [-0.1, 0.1] },
  },
  none: NONE,
};

/**
 * The settings `options` ask for: the preset with the overrides merged in, checked.
 *
 * @throws {RangeError} for an unknown preset, a probability outside 0..1, or a range that is
 *   reversed, not finite, or outside what the transform allows.
 * @example
 * ```ts
 * import { resolveAugmentation } from "./augment_settings.ts";
 * const s = resolveAugmentation({ rotation: { p: 1, range: [-90, 90] }, elastic: { p: 0.2 } });
 * [s.rotation.p, s.elastic.sigma, s.scale.range]; // [1, [9, 13], [0.7, 1.4]]
 * ```
 */
export function resolveAugmentation(options: AugmentOptions = {}): AugmentSettings {
  const name = options.preset ?? "nnunet";
  const base = AUGMENT_PRESETS[name];
  if (!base) {
    throw new RangeError(
      `augmentation preset "${name}": expected ${Object.keys(AUGMENT_PRESETS).join(", ")}`,
    );
  }
  const merged = {} as Record<string, unknown>;
  for (const t of TRANSFORMS) merged[t] = { ...base[t], ...options[t] };
  const s = merged as unknown as AugmentSettings;
  for (const t of TRANSFORMS) {
    const v = s[t] as unknown as Record<string, number | readonly number[]>;
    for (const k of ["p", "perChannel", "invert"]) {
      if (k in v) probability(v[k] as number, `${t} ${k === "p" ? "probability" : k}`);
    }
  }
  range(s.rotation.range, "rotation", -360, 360);
  range(s.scale.range, "scale", 0.05, 20);
  range(s.elastic.alpha, "elastic alpha", 0, 1e4);
  range(s.elastic.sigma, "elastic sigma", 0.5, 100);
  range(s.gamma.range, "gamma", 0.05, 20);
  range(s.brightness.range, "brightness", 0, 20);
  range(s.contrast.range, "contrast", 0, 20);
  range(s.noise.range, "noise variance", 0, 10);
  range(s.blur.range, "blur sigma", 0, 20);
  range(s.lowRes.range, "low-resolution factor", 1, 16);
  range(s.shift.range, "shift", -10, 10);
  return s;
}

/**
 * The record of `options` a checkpoint keeps: every transform's resolved
 * probability and range (JSON), or `false` for no augmentation.
 *
 * @example
 * ```ts
 * import { describeAugmentation } from "./augment_settings.ts";
 * const record = describeAugmentation({ preset: "basic" });
 * JSON.stringify(record).includes('"shift":{"p":1'); // true
 * describeAugmentation(false); // false
 * ```
 */
export function describeAugmentation(
  options: AugmentOptions | false | undefined,
): AugmentSettings | false {
  return options === false ? false : resolveAugmentation(options);
}

/**
 * One line per transform (name, probability, range) of `settings` (default
 * the `nnunet` preset), e.g. for `--help`.
 *
 * @example
 * ```ts
 * import { augmentationHelp } from "./augment_settings.ts";
 * console.log(augmentationHelp());
 * ```
 */
export function augmentationHelp(
  settings: AugmentSettings = NNUNET,
  options: { indent?: string } = {},
): string {
  const r = (x: readonly [number, number]) => `${x[0]}..${x[1]}`;
  const p = (x: number) => (x === 0 ? "0 (off)" : String(x));
  const s = settings;
  const lines: [string, string][] = [
    ["rotation", `p ${p(s.rotation.p)}, ${r(s.rotation.range)} degrees, in-plane`],
    ["scale", `p ${p(s.scale.p)}, ${r(s.scale.range)} (zoom: > 1 enlarges)`],
    [
      "elastic",
      `p ${p(s.elastic.p)}, alpha ${r(s.elastic.alpha)}, sigma ${r(s.elastic.sigma)} pixels ` +
      `(elastic=P:A0,A1:S0,S1)`,
    ],
    ["mirror", `p ${p(s.mirror.p)} per in-plane axis`],
    [
      "gamma",
      `p ${p(s.gamma.p)}, ${r(s.gamma.range)}, mean and sd kept; inverted first, p ` +
      `${p(s.gamma.invert)} (gamma-invert=P)`,
    ],
    ["brightness", `p ${p(s.brightness.p)}, factor ${r(s.brightness.range)}`],
    ["contrast", `p ${p(s.contrast.p)}, factor ${r(s.contrast.range)} about the mean`],
    ["noise", `p ${p(s.noise.p)}, Gaussian, variance ${r(s.noise.range)}`],
    [
      "blur",
      `p ${p(s.blur.p)} (each modality ${s.blur.perChannel}), sigma ${r(s.blur.range)} pixels`,
    ],
    [
      "lowres",
      `p ${p(s.lowRes.p)} (each modality ${s.lowRes.perChannel}), downsample ` +
      `${r(s.lowRes.range)}x, then upsample`,
    ],
    ["shift", `p ${p(s.shift.p)}, additive ${r(s.shift.range)}`],
  ];
  const indent = options.indent ?? "  ";
  return lines.map(([name, text]) => `${indent}${name.padEnd(11)}${text}`).join("\n");
}

function probability(v: number, what: string): void {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`augmentation ${what} ${v}: expected 0..1`);
}

function range(v: readonly number[], what: string, lo: number, hi: number): void {
  const ok = Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] <= v[1] &&
    v[0] >= lo && v[1] <= hi;
  if (!ok) {
    throw new RangeError(
      `augmentation ${what} range ${
        JSON.stringify(v)
      }: expected [lo, hi] with ${lo} <= lo <= hi <= ${hi}`,
    );
  }
}
