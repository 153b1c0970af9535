// This module is browser compatible.
/**
 * Median-frequency balancing of class weights (Eigen & Fergus; Tseng et al.
 * section 4.2), computed slice by slice over the training labels so the
 * label volumes never need to be held together.
 *
 * `freq(c)` = pixels of class `c` / total pixels of the images (axial slices)
 * in which `c` is present; `α_c = median_freq / freq(c)`.
 *
 * @module
 */

/** Counts gathered by {@link MedianFrequencyAccumulator}. */
export interface ClassFrequencyCounts {
  /** Pixels of each class over all slices seen. */
  pixels: number[];
  /** Total pixels of the slices in which each class is present. */
  presentPixels: number[];
  /** Number of slices in which each class is present. */
  presentSlices: number[];
}

/**
 * Streams class-index slices (values `0..classes-1`) and turns their counts
 * into median-frequency-balanced weights.
 *
 * @example
 * ```ts
 * const acc = new MedianFrequencyAccumulator(3);
 * acc.add(new Uint8Array([0, 0, 0, 1])); // slice 1: classes 0 and 1
 * acc.add(new Uint8Array([0, 0, 2, 2])); // slice 2: classes 0 and 2
 * acc.frequencies(); // [5/8, 1/4, 2/4]
 * acc.weights(); // median 1/2 -> [0.8, 2, 1]
 * ```
 */
export class MedianFrequencyAccumulator {
  readonly #classes: number;
  readonly #pixels: number[];
  readonly #presentPixels: number[];
  readonly #presentSlices: number[];
  readonly #sliceCounts: Uint32Array;

  /** Makes an empty accumulator for `classes` classes. */
  constructor(classes: number) {
    if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
      throw new RangeError(`Class count ${classes}: expected an integer in 1..256`);
    }
    this.#classes = classes;
    this.#pixels = new Array(classes).fill(0);
    this.#presentPixels = new Array(classes).fill(0);
    this.#presentSlices = new Array(classes).fill(0);
    this.#sliceCounts = new Uint32Array(256);
  }

  /**
   * Adds one slice of class indices. Every value must be below the class
   * count; `path` names the file in the error otherwise.
   */
  add(slice: ArrayLike<number>, options: { path?: string } = {}): void {
    const counts = this.#sliceCounts;
    counts.fill(0);
    for (let i = 0; i < slice.length; i++) counts[slice[i] & 255]++;
    let seen = 0;
    for (let c = 0; c < this.#classes; c++) seen += counts[c];
    if (seen !== slice.length) {
      const where = options.path ? `${options.path}: ` : "";
      throw new RangeError(`${where}class index outside 0..${this.#classes - 1} in a label slice`);
    }
    for (let c = 0; c < this.#classes; c++) {
      if (counts[c] === 0) continue;
      this.#pixels[c] += counts[c];
      this.#presentPixels[c] += slice.length;
      this.#presentSlices[c]++;
    }
  }

  /** The raw counts so far (copies). */
  counts(): ClassFrequencyCounts {
    return {
      pixels: [...this.#pixels],
      presentPixels: [...this.#presentPixels],
      presentSlices: [...this.#presentSlices],
    };
  }

  /** `freq(c)` of each class; 0 for a class never seen. */
  frequencies(): number[] {
    return this.#pixels.map((n, c) => n > 0 ? n / this.#presentPixels[c] : 0);
  }

  /**
   * `α_c = median_freq / freq(c)`, the median taken over the classes that
   * occur. A class that never occurs gets weight 1 (it never enters the
   * loss, so the value only matters if later data holds it).
   */
  weights(): number[] {
    const freq = this.frequencies();
    const present = freq.filter((f) => f > 0).sort((a, b) => a - b);
    if (present.length === 0) return freq.map(() => 1);
    const mid = present.length >> 1;
    const median = present.length % 2 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
    return freq.map((f) => f > 0 ? median / f : 1);
  }
}

/**
 * Median-frequency-balanced weights of label volumes streamed as slices of
 * class indices (e.g. from every training case, in turn).
 *
 * @example
 * ```ts
 * async function* slices() {
 *   yield new Uint8Array([0, 0, 0, 1]);
 *   yield new Uint8Array([0, 0, 2, 2]);
 * }
 * await medianFrequencyWeights(slices(), { classes: 3 }); // [0.8, 2, 1]
 * ```
 */
export async function medianFrequencyWeights(
  slices: AsyncIterable<ArrayLike<number>> | Iterable<ArrayLike<number>>,
  options: { classes: number },
): Promise<number[]> {
  const acc = new MedianFrequencyAccumulator(options.classes);
  for await (const slice of slices) acc.add(slice);
  return acc.weights();
}
