/**
 * `train`'s augmentation flags: `--augment SET` picks a preset and each
 * `--aug NAME=P[:LO,HI]` sets one transform's probability and range (for
 * elastic `elastic=P:A0,A1:S0,S1`), checked as the trainer checks them.
 *
 * @module
 */

import {
  AUGMENT_PRESETS,
  augmentationHelp,
  type AugmentOptions,
  type AugmentPreset,
  resolveAugmentation,
  TRANSFORMS,
} from "../train/augment_settings.ts";
import { TRAIN_DEFAULTS } from "../train/schedule.ts";

/** The help lines of the augmentation and patch flags. */
export const AUGMENT_USAGE =
  `augmentation (nnU-Net's set; spatial transforms share one resampling pass per window,
the same for every slice and its labels; intensity ones act per modality on brain voxels)
  --augment SET        nnunet (default: the transforms below), basic (mirroring and a per-modality
                       intensity scale and shift of ±0.1, the recipe before), none
  --aug NAME=P[:LO,HI] set a transform's probability per window (0 turns it off) and range;
                       repeatable, e.g. --aug rotation=0.5:-30,30 --aug elastic=0.2 --aug noise=0
${augmentationHelp(AUGMENT_PRESETS.nnunet, { indent: "    " })}
  --no-augment         same as --augment none
patches
  --patch P            train on random P×P in-plane crops of whole slices (P a multiple of 16;
                       slices narrower than P are padded, centred; slices P covers whole in
                       both directions train whole); 0 = whole slices (default ${TRAIN_DEFAULTS.patch}:
                       on 128² phantoms, 64² crops train 3.3x the windows per second of whole
                       slices and reached higher Dice in the same time; see the README).
                       Inference always runs on whole slices.
  --patch-tumour-share F
                       share of crops centred on a tumour voxel of the window (default 0.333)`;

/**
 * The augmentation options the flags ask for, or false for none.
 *
 * @throws {RangeError} naming the flag for an unknown preset or transform, or a bad value.
 * @example
 * ```ts
 * import { augmentFromFlags } from "./_augment_flags.ts";
 * augmentFromFlags({ preset: "nnunet", specs: ["rotation=0.5:-30,30", "elastic=0.2"] });
 * // { preset: "nnunet", rotation: { p: 0.5, range: [-30, 30] }, elastic: { p: 0.2 } }
 * ```
 */
export function augmentFromFlags(
  flags: { preset?: string; specs?: readonly string[]; off?: boolean },
): AugmentOptions | false {
  if (flags.off) return false;
  const preset = flags.preset ?? "nnunet";
  if (!(preset in AUGMENT_PRESETS)) {
    throw new RangeError(
      `--augment "${preset}" must be one of ${Object.keys(AUGMENT_PRESETS).join(", ")}`,
    );
  }
  const options: Record<string, unknown> = { preset: preset as AugmentPreset };
  for (const spec of flags.specs ?? []) {
    const [name, value] = parseSpec(spec);
    options[name] = { ...options[name] as object, ...value };
  }
  try {
    resolveAugmentation(options as AugmentOptions);
  } catch (error) {
    throw new RangeError(`--aug: ${(error as Error).message}`);
  }
  return options as AugmentOptions;
}

function parseSpec(spec: string): [string, Record<string, unknown>] {
  const bad = (why: string) =>
    new RangeError(`--aug "${spec}": ${why}; expected NAME=P[:LO,HI], e.g. rotation=0.2:-180,180`);
  const m = /^([a-z-]+)=(.*)$/i.exec(spec.trim());
  if (!m) throw bad("no NAME=");
  const key = m[1].toLowerCase();
  const name = key === "gamma-invert" ? "gamma" : TRANSFORMS.find((t) => t.toLowerCase() === key);
  if (!name) {
    throw bad(
      `unknown transform (known: ${[...TRANSFORMS, "gamma-invert"].join(", ").toLowerCase()})`,
    );
  }
  const [p, ...ranges] = m[2].split(":");
  const number = (s: string) => {
    const v = Number(s);
    if (s.trim() === "" || !Number.isFinite(v)) throw bad(`"${s}" is not a number`);
    return v;
  };
  const pair = (s: string) => {
    const v = s.split(",").map(number);
    if (v.length !== 2) throw bad(`"${s}" is not LO,HI`);
    return v as [number, number];
  };
  if (key === "gamma-invert") {
    if (ranges.length) throw bad("gamma-invert takes a probability only");
    return [name, { invert: number(p) }];
  }
  const value: Record<string, unknown> = { p: number(p) };
  const fields = name === "elastic" ? ["alpha", "sigma"] : name === "mirror" ? [] : ["range"];
  if (ranges.length > fields.length) throw bad(`too many ranges for ${name}`);
  ranges.forEach((r, i) => (value[fields[i]] = pair(r)));
  return [name, value];
}

/**
 * `--patch P`: 0 (whole slices) or a positive multiple of 16.
 *
 * @throws {RangeError} for anything else.
 * @example
 * ```ts
 * import { patchFlag } from "./_augment_flags.ts";
 * patchFlag(96); // 96
 * ```
 */
export function patchFlag(size: number): number {
  if (!Number.isInteger(size) || size < 0 || size % 16 !== 0) {
    throw new RangeError(`--patch "${size}" must be 0 (whole slices) or a positive multiple of 16`);
  }
  return size;
}
