/**
 * The CPU cost of assembling one training batch (3 windows × 3 slices × 4
 * modalities) at 96² and 240²: no augmentation (a plain copy), nnU-Net's
 * default set (each transform at its probability), and every transform on
 * (elastic included, each at probability 1), plus 240² slices cropped to
 * 96² patches. Compare with the GPU step's time per batch to see the share
 * augmentation takes. Run: `deno bench -A bench/augment_bench.ts`.
 *
 * @module
 */

import { cropFor } from "../data/preprocess.ts";
import { Random } from "../data/random.ts";
import type { AugmentOptions } from "../train/augment_settings.ts";
import { assembleBatch, type LoadedCase } from "../train/training_data.ts";
import type { PatchOptions } from "../train/window_sampler.ts";

/** A case of n×n slices: a disk of brain with noisy intensities and a tumour in the middle. */
function brainCase(n: number, depth = 8): LoadedCase {
  const rng = new Random(n), plane = n * n, c = (n - 1) / 2;
  const image = new Float32Array(depth * 4 * plane), classes = new Uint8Array(depth * plane);
  for (let z = 0; z < depth; z++) {
    for (let i = 0; i < plane; i++) {
      const d = Math.hypot((i % n) - c, Math.floor(i / n) - c) / n;
      if (d > 0.4) continue;
      if (d < 0.1) classes[z * plane + i] = 1 + (i % 3);
      for (let m = 0; m < 4; m++) image[(z * 4 + m) * plane + i] = rng.normal();
    }
  }
  return {
    id: `brain${n}`,
    width: n,
    height: n,
    depth,
    crop: cropFor(n, n),
    image,
    classes,
    modalities: 4,
  };
}

const EVERYTHING: AugmentOptions = {
  rotation: { p: 1 },
  scale: { p: 1 },
  elastic: { p: 1 },
  mirror: { p: 0.5 },
  gamma: { p: 1, invert: 1 },
  brightness: { p: 1 },
  contrast: { p: 1 },
  noise: { p: 1 },
  blur: { p: 1, perChannel: 1 },
  lowRes: { p: 1, perChannel: 1 },
  shift: { p: 1 },
};

const WINDOWS = [0, 2, 4].map((start) => ({ caseIndex: 0, start, tumour: true }));
let step = 0;

function batch(c: LoadedCase, augment: AugmentOptions | false, patch?: PatchOptions): void {
  assembleBatch(WINDOWS, { cases: [c, c, c], seq: 3, key: [1, 0, step++], augment, patch });
}

for (const n of [96, 240]) {
  const c = brainCase(n);
  const group = `batch ${n}²`;
  Deno.bench(`${group}, no augmentation`, { group, baseline: true }, () => batch(c, false));
  Deno.bench(`${group}, nnU-Net defaults`, { group }, () => batch(c, {}));
  Deno.bench(`${group}, every transform`, { group }, () => batch(c, EVERYTHING));
  Deno.bench(
    `${group}, every transform but elastic`,
    { group },
    () => batch(c, { ...EVERYTHING, elastic: { p: 0 } }),
  );
  if (n === 240) {
    Deno.bench(
      `${group} as 96² patches, nnU-Net defaults`,
      { group },
      () => batch(c, {}, { size: 96 }),
    );
  }
}
