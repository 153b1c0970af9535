/**
 * Training windows: runs of `seq` consecutive axial slices of one case,
 * listed per epoch in a deterministic shuffled order (a function of seed and
 * epoch only, so a resumed run sees the same order), filtered by training
 * phase, and grouped into batches. Cases are shuffled, then windows are
 * shuffled within groups of a few cases, so a small cache of loaded volumes
 * serves every batch without holding the dataset.
 *
 * @module
 */

import { hash32, Random } from "../data/random.ts";

/** Which slices of a case hold tumour: all the sampler needs to know of it. */
export interface CaseSliceIndex {
  /** Case identifier (for messages). */
  id: string;
  /** Number of axial slices. */
  depth: number;
  /** `tumour[z]` is 1 when slice `z` holds any tumour label. */
  tumour: Uint8Array;
}

/** One window: slices `start .. start+seq-1` of case `caseIndex`. */
export interface TrainingWindow {
  /** Index of the case in the sampler's case list. */
  caseIndex: number;
  /** First slice. */
  start: number;
  /** Whether any slice of the window holds tumour. */
  tumour: boolean;
}

/** Phase 2's default fraction of all-empty windows skipped per epoch (see the README's recipe). */
export const DEFAULT_EMPTY_SKIP = 0.7;

/** Options of {@link WindowSampler}. */
export interface WindowSamplerOptions {
  /** Slices per window (the convLSTM sequence length). Default 3. */
  seq?: number;
  /** Windows per batch. Default 3. */
  batch?: number;
  /** Seed of the shuffles. Default 1. */
  seed?: number;
  /** Phase 2: fraction of all-empty windows skipped each epoch (0 keeps all). Default {@linkcode DEFAULT_EMPTY_SKIP}. */
  emptySkip?: number;
  /** Cases whose windows are shuffled together (match the case cache size). Default 4. */
  groupCases?: number;
}

/** Training phase: 1 = only windows with tumour; 2 = all windows (empty ones thinned). */
export type TrainingPhase = 1 | 2;

/**
 * Lists the windows and batches of each epoch.
 *
 * @example
 * ```ts
 * const sampler = new WindowSampler(
 *   [{ id: "a", depth: 5, tumour: new Uint8Array([0, 0, 1, 1, 0]) }],
 *   { seq: 3, batch: 2, seed: 7 },
 * );
 * sampler.windows(0, 1).length; // 3: every window touching slices 2-3
 * sampler.batches(0, 2); // all windows of epoch 0, in pairs
 * ```
 */
export class WindowSampler {
  /** The cases, in the order `TrainingWindow.caseIndex` refers to. */
  readonly cases: readonly CaseSliceIndex[];
  readonly #seq: number;
  readonly #batch: number;
  readonly #seed: number;
  readonly #emptySkip: number;
  readonly #groupCases: number;

  /** Indexes the cases; throws if `seq`/`batch`/`emptySkip` are out of range. */
  constructor(cases: readonly CaseSliceIndex[], options: WindowSamplerOptions = {}) {
    this.cases = cases;
    this.#seq = options.seq ?? 3;
    this.#batch = options.batch ?? 3;
    this.#seed = options.seed ?? 1;
    this.#emptySkip = options.emptySkip ?? DEFAULT_EMPTY_SKIP;
    this.#groupCases = options.groupCases ?? 4;
    if (!Number.isInteger(this.#seq) || this.#seq < 1) {
      throw new RangeError(`seq ${this.#seq}: expected an integer >= 1`);
    }
    if (!Number.isInteger(this.#batch) || this.#batch < 1) {
      throw new RangeError(`batch ${this.#batch}: expected an integer >= 1`);
    }
    if (!(this.#emptySkip >= 0 && this.#emptySkip <= 1)) {
      throw new RangeError(`empty-window skip rate ${this.#emptySkip}: expected 0..1`);
    }
    if (!Number.isInteger(this.#groupCases) || this.#groupCases < 1) {
      throw new RangeError(`groupCases ${this.#groupCases}: expected an integer >= 1`);
    }
  }

  /** Every window of case `caseIndex` with its tumour flag, in slice order. */
  caseWindows(caseIndex: number): TrainingWindow[] {
    const c = this.cases[caseIndex];
    const out: TrainingWindow[] = [];
    for (let start = 0; start + this.#seq <= c.depth; start++) {
      let tumour = false;
      for (let z = start; z < start + this.#seq; z++) tumour ||= c.tumour[z] === 1;
      out.push({ caseIndex, start, tumour });
    }
    return out;
  }

  /**
   * The windows of an epoch in training order. Phase 1 keeps only windows
   * with tumour; phase 2 keeps all, skipping each all-empty window with
   * probability `emptySkip` (drawn afresh per epoch).
   */
  windows(epoch: number, phase: TrainingPhase): TrainingWindow[] {
    const order = Random.forKey(this.#seed, epoch, 1).shuffle([...this.cases.keys()]);
    const out: TrainingWindow[] = [];
    for (let g = 0; g < order.length; g += this.#groupCases) {
      const group: TrainingWindow[] = [];
      for (const caseIndex of order.slice(g, g + this.#groupCases)) {
        for (const w of this.caseWindows(caseIndex)) {
          if (phase === 1 && !w.tumour) continue;
          if (phase === 2 && !w.tumour && this.#skipped(epoch, w)) continue;
          group.push(w);
        }
      }
      out.push(...Random.forKey(this.#seed, epoch, 2, g).shuffle(group));
    }
    return out;
  }

  /** The epoch's windows cut into batches (the last one may be smaller). */
  batches(epoch: number, phase: TrainingPhase): TrainingWindow[][] {
    const windows = this.windows(epoch, phase);
    const out: TrainingWindow[][] = [];
    for (let i = 0; i < windows.length; i += this.#batch) {
      out.push(windows.slice(i, i + this.#batch));
    }
    return out;
  }

  #skipped(epoch: number, w: TrainingWindow): boolean {
    if (this.#emptySkip === 0) return false;
    return hash32(this.#seed, epoch, w.caseIndex, w.start + 0x40000) / 4294967296 <
      this.#emptySkip;
  }
}

/**
 * A least-recently-used cache of loaded cases: `get` loads on a miss and
 * evicts the oldest entry beyond `capacity`. Concurrent gets of one key share
 * a single load.
 *
 * @example
 * ```ts
 * import { CaseCache } from "./window_sampler.ts";
 * const cache = new CaseCache((i: number) => Promise.resolve(`case ${i}`), { capacity: 4 });
 * await cache.get(0); // "case 0", loaded once
 * await cache.get(0);
 * cache.loads; // 1
 * ```
 */
export class CaseCache<T> {
  readonly #load: (key: number) => Promise<T>;
  readonly #capacity: number;
  readonly #entries = new Map<number, Promise<T>>();
  /** Loads done so far (misses), for tests and progress output. */
  loads = 0;

  /** Wraps `load`; at most `capacity` (default 4) cases are kept. */
  constructor(load: (key: number) => Promise<T>, options: { capacity?: number } = {}) {
    this.#load = load;
    this.#capacity = Math.max(1, options.capacity ?? 4);
  }

  /** The case `key`, loading it if it is not cached. */
  get(key: number): Promise<T> {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // re-insert to mark as most recent
    } else {
      this.loads++;
      entry = this.#load(key);
      entry.catch(() => this.#entries.delete(key));
    }
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }

  /** Number of cases held. */
  get size(): number {
    return this.#entries.size;
  }
}
