// This module is browser compatible.
/**
 * Training windows: runs of `seq` consecutive axial slices of one case,
 * listed per epoch in a deterministic shuffled order (a function of seed and
 * epoch only, so a resumed run sees the same order), filtered by training
 * phase, and grouped into batches. Cases are shuffled, then windows are
 * shuffled within groups of a few cases, so a small cache of loaded volumes
 * serves every batch without holding the dataset. With patch training,
 * each window also gets the place of its in-plane crop ({@linkcode choosePatch}).
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

  /**
   * The epoch's windows cut into batches (the last one may be smaller);
   * with `limit`, only its first `limit` windows (a shortened epoch).
   */
  batches(epoch: number, phase: TrainingPhase, limit = Infinity): TrainingWindow[][] {
    const windows = this.windows(epoch, phase).slice(0, limit);
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

/** Share of patch crops centred on tumour by default (nnU-Net's foreground oversampling). */
export const DEFAULT_TUMOUR_SHARE = 1 / 3;

/** Patch training: random in-plane `size`×`size` crops of whole slices. */
export interface PatchOptions {
  /** Crop side P, a multiple of 16; 0 trains on whole slices. */
  size: number;
  /** Share of crops centred on a tumour voxel of the window, when it has one. Default 1/3. */
  tumourShare?: number;
}

/** Where a window's crop sits: its first column and row in the slice (negative: padding). */
export interface PatchPlace {
  /** Slice column of the crop's first column. */
  left: number;
  /** Slice row of the crop's first row. */
  top: number;
  /** Whether the crop was centred on a tumour voxel. */
  tumour: boolean;
}

/**
 * Places a window's P×P crop with draws from `key`: with probability
 * `tumourShare` centred on a tumour voxel (class not 0) picked uniformly among
 * the window's, else uniformly; always clamped inside the slice, or centred
 * when the slice is smaller than P (padded as `data/preprocess.ts` pads).
 *
 * @throws {RangeError} when the size is not a positive multiple of 16 or the share is not 0..1.
 * @example
 * ```ts
 * import { choosePatch } from "./window_sampler.ts";
 * const classes = new Uint8Array(64 * 64);
 * classes[40 * 64 + 50] = 2;
 * const place = choosePatch({ classes, width: 64, height: 64, seq: 1 }, {
 *   size: 32, tumourShare: 1, key: [1, 0, 0, 0],
 * });
 * place; // { left: 32, top: 24, tumour: true }: voxel (50, 40) inside, crop inside the slice
 * ```
 */
export function choosePatch(
  window: { classes: ArrayLike<number>; width: number; height: number; seq: number },
  options: PatchOptions & { key: readonly [number, number, number, number] },
): PatchPlace {
  const { size } = options, share = options.tumourShare ?? DEFAULT_TUMOUR_SHARE;
  checkPatch(size, share);
  const rng = Random.forKey(options.key[0], options.key[1], options.key[2], options.key[3]);
  const force = rng.next() < share, ux = rng.next(), uy = rng.next(), uv = rng.next();
  const { width: W, height: H } = window;
  const place = (n: number, u: number) =>
    n >= size ? Math.floor(u * (n - size + 1)) : -((size - n) >> 1);
  const clamp = (centre: number, n: number) =>
    n >= size ? Math.min(n - size, Math.max(0, centre - (size >> 1))) : -((size - n) >> 1);
  const voxel = force ? pickTumourVoxel(window, uv) : -1;
  if (voxel < 0) return { left: place(W, ux), top: place(H, uy), tumour: false };
  const x = voxel % W, y = Math.floor(voxel / W) % H;
  return { left: clamp(x, W), top: clamp(y, H), tumour: true };
}

/**
 * The crop size for a batch of these cases: a patch that covers every
 * case's slices whole trains them whole (no padding up to the patch).
 *
 * @example
 * ```ts
 * import { patchFor } from "./window_sampler.ts";
 * console.log(patchFor(64, [{ width: 32, height: 32 }]), patchFor(64, [{ width: 128, height: 96 }])); // 0 64
 * ```
 */
export function patchFor(
  patch: number,
  cases: readonly { width: number; height: number }[],
): number {
  return cases.every((c) => patch >= c.width && patch >= c.height) ? 0 : patch;
}

/** Checks a patch size and tumour share. */
export function checkPatch(size: number, share = DEFAULT_TUMOUR_SHARE): void {
  if (!Number.isInteger(size) || size < 0 || size % 16 !== 0) {
    throw new RangeError(`--patch ${size}: expected 0 (whole slices) or a positive multiple of 16`);
  }
  if (!(share >= 0 && share <= 1)) {
    throw new RangeError(`--patch-tumour-share ${share}: expected 0..1`);
  }
}

/** The flat index of the tumour voxel at quantile `u` of the window's, or -1 without tumour. */
function pickTumourVoxel(window: { classes: ArrayLike<number> }, u: number): number {
  const c = window.classes;
  let n = 0;
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) n++;
  if (n === 0) return -1;
  let k = Math.floor(u * n);
  for (let i = 0; i < c.length; i++) if (c[i] !== 0 && k-- === 0) return i;
  return -1;
}
