// In-memory phantom cases as a TrainingSource, for the training tests (no files needed).
import { labelsToClasses } from "../data/labels.ts";
import { ZScoreAccumulator } from "../data/normalise.ts";
import { generatePhantom } from "../data/phantom.ts";
import { MedianFrequencyAccumulator } from "../train/class_weights.ts";
import type { LoadedCase, TrainingSource } from "../train/training_data.ts";

/** A loaded, normalised phantom of `size` (x and y multiples of 16). */
export function phantomCase(seed: number, size: [number, number, number]): LoadedCase {
  const p = generatePhantom({ size, seed });
  const [X, Y, Z] = size;
  const plane = X * Y;
  const image = new Float32Array(Z * 4 * plane);
  (["flair", "t1", "t1ce", "t2"] as const).forEach((m, c) => {
    const data = p.modalities[m];
    const acc = new ZScoreAccumulator();
    acc.add(data);
    const { mean, std } = acc.stats();
    for (let z = 0; z < Z; z++) {
      for (let i = 0; i < plane; i++) {
        const v = data[z * plane + i];
        image[(z * 4 + c) * plane + i] = v === 0 ? 0 : (v - mean) / std;
      }
    }
  });
  return {
    id: `phantom_${seed}`,
    width: X,
    height: Y,
    depth: Z,
    original: [X, Y],
    image,
    classes: labelsToClasses(p.label, "brats2017"),
    modalities: 4,
  };
}

/** A source of `train` + `val` phantoms; counts loads in `loads`. */
export function phantomSource(
  options: { train: number; val: number; size: [number, number, number] },
): TrainingSource & { loads: number } {
  const train = Array.from({ length: options.train }, (_, i) => phantomCase(100 + i, options.size));
  const val = Array.from({ length: options.val }, (_, i) => phantomCase(200 + i, options.size));
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
