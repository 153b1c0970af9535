// In-memory phantom cases as a TrainingSource, and checkpoint files for the trainer, for the training tests.
import { labelsToClasses } from "../data/labels.ts";
import { ZScoreAccumulator } from "../data/normalise.ts";
import { generatePhantom } from "../data/phantom.ts";
import { cropFor, preprocessSlice } from "../data/preprocess.ts";
import { MedianFrequencyAccumulator } from "../train/class_weights.ts";
import type { LoadedCase, TrainingSource, ValidationCase } from "../train/training_data.ts";

const MODALITIES = ["flair", "t1", "t1ce", "t2"] as const;

/** A held-out phantom of `size` as read: raw modalities (as float) and truth labels. */
export function phantomValidationCase(
  seed: number,
  size: [number, number, number],
): ValidationCase {
  const p = generatePhantom({ size, seed });
  return {
    id: `phantom_${seed}`,
    shape: size,
    modalities: MODALITIES.map((m) => Float32Array.from(p.modalities[m])),
    labels: p.label,
    spacing: p.spacing,
  };
}

/** A phantom of `size` preprocessed for training (normalised, padded like every other path). */
export function phantomCase(seed: number, size: [number, number, number]): LoadedCase {
  const raw = phantomValidationCase(seed, size);
  const [X, Y, Z] = size;
  const crop = cropFor(X, Y);
  const plane = crop.paddedWidth * crop.paddedHeight;
  const image = new Float32Array(Z * 4 * plane);
  raw.modalities.forEach((data, c) => {
    const acc = new ZScoreAccumulator();
    for (let z = 0; z < Z; z++) acc.add(data.subarray(z * X * Y, (z + 1) * X * Y));
    const stats = acc.stats();
    for (let z = 0; z < Z; z++) {
      preprocessSlice(data.subarray(z * X * Y, (z + 1) * X * Y), stats, crop, {
        out: image,
        offset: (z * 4 + c) * plane,
      });
    }
  });
  return {
    id: raw.id,
    width: crop.paddedWidth,
    height: crop.paddedHeight,
    depth: Z,
    crop,
    image,
    classes: labelsToClasses(raw.labels, "brats2017"),
    modalities: 4,
  };
}

/** A source of `train` + `val` phantoms (sizes multiples of 16); counts loads in `loads`. */
export function phantomSource(
  options: { train: number; val: number; size: [number, number, number] },
): TrainingSource & { loads: number } {
  const train = Array.from({ length: options.train }, (_, i) => phantomCase(100 + i, options.size));
  const val = Array.from(
    { length: options.val },
    (_, i) => phantomValidationCase(200 + i, options.size),
  );
  const mfb = new MedianFrequencyAccumulator(4);
  const plane = options.size[0] * options.size[1];
  const index = train.map((c) => {
    const tumour = new Uint8Array(c.depth);
    for (let z = 0; z < c.depth; z++) {
      const slice = c.classes.subarray(z * plane, (z + 1) * plane);
      mfb.add(slice);
      tumour[z] = slice.some((v) => v !== 0) ? 1 : 0;
    }
    return { id: c.id, depth: c.depth, tumour };
  });
  const source = {
    loads: 0,
    labels: "brats2017" as const,
    train: index,
    val: val.map((c) => c.id),
    classWeights: mfb.weights(),
    loadTrain(i: number) {
      source.loads++;
      return Promise.resolve(train[i]);
    },
    loadVal: (i: number) => Promise.resolve(val[i]),
    describe: () => ({ phantoms: options }),
  };
  return source;
}

/** The trainer's `write` and `read` on plain files (tests write into their own temporary folders). */
export const trainFiles = {
  write: (path: string, bytes: Uint8Array): Promise<void> => Deno.writeFile(path, bytes),
  read: (path: string): Promise<Uint8Array | null> =>
    Deno.readFile(path).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }),
};
