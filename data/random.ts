// This module is browser compatible.
/**
 * The project's one seeded random-number module: a mulberry32 generator and
 * the integer hashes that seed it. It sits in `data/`, the base layer, so
 * every other layer (phantoms, model initialisation, the trainer's sampler
 * and augmentation, tests) may import it. Each user seeds it its own way
 * through a named factory, which keeps every stream it drew before this
 * module existed bit-identical.
 *
 * @module
 */

/**
 * Mixes three integers into a well-spread 32-bit hash (signed): the phantoms'
 * and `synth`'s per-case seeds.
 *
 * @example
 * ```ts
 * import { hashInts } from "./random.ts";
 * console.log(hashInts(9001, 1, 0x51ed)); // 1640746571: synth's seed of case 2 for --seed 9001
 * ```
 */
export function hashInts(a: number, b: number, c: number): number {
  let h = a ^ Math.imul(b, 0x27d4eb2d) ^ Math.imul(c, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Mixes up to four integers into a well-spread unsigned 32-bit hash: the
 * training loop's counter-based draws, so any draw depends only on its key
 * (seed, epoch, step, ...) and a resumed run draws what an uninterrupted one would.
 *
 * @example
 * ```ts
 * import { hash32 } from "./random.ts";
 * console.log(hash32(1, 0, 2, 3)); // 2552770429: the same for the same key, every run
 * console.log(hash32(1, 0, 2, 3) / 4294967296); // 0.594…: uniform in [0, 1)
 * ```
 */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = (a | 0) ^ 0x9e3779b9;
  for (const v of [b, c, d]) {
    h = Math.imul(h ^ (v | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/**
 * FNV-1a of `name` mixed with `seed` (unsigned 32-bit): one stream per
 * parameter name, so adding a layer leaves the others' initial values alone.
 *
 * @example
 * ```ts
 * import { hashName } from "./random.ts";
 * console.log(hashName(42, "enc.flair.0.conv.weight")); // 1096860789
 * console.log(hashName(42, "enc.t1.0.conv.weight")); // 2852433002: another name, another stream
 * ```
 */
export function hashName(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A seeded generator (mulberry32): uniform numbers, ranges, integers,
 * shuffles and standard normals. `new Random(state)` starts from a raw
 * 32-bit state; the static factories are the seedings its users rely on.
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * import assert from "node:assert/strict";
 * const r = new Random(7);
 * console.log(r.next(), r.range(-1, 1)); // 0.0117… -0.876…: uniform in [0, 1), then in [-1, 1)
 * console.log(r.shuffle([1, 2, 3]), r.below(10)); // [1, 2, 3] 5
 * assert.equal(new Random(7).next(), new Random(7).next()); // one seed, one stream
 * ```
 */
export class Random {
  #state: number;
  #spare: number | null = null;

  /** Starts the sequence from a raw 32-bit state (any integer; taken modulo 2³²). */
  constructor(state: number) {
    this.#state = state >>> 0;
  }

  /**
   * The phantoms' seeding: the state is {@linkcode hashInts}`(seed, 0x5bd1e995, 7)`.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(Random.forPhantom(1).range(0.93, 1.07)); // 0.9407…
   * ```
   */
  static forPhantom(seed: number): Random {
    return new Random(hashInts(seed | 0, 0x5bd1e995, 7));
  }

  /**
   * The trainer's seeding: the state is {@linkcode hash32} of the key.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * // Epoch 0's case order for seed 1:
   * console.log(Random.forKey(1, 0, 1).shuffle([0, 1, 2, 3])); // [0, 2, 1, 3]
   * ```
   */
  static forKey(a: number, b = 0, c = 0, d = 0): Random {
    return new Random(hash32(a, b, c, d));
  }

  /**
   * Model initialisation's seeding: the state is {@linkcode hashName}`(seed, name)`.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(Random.forName(42, "enc.flair.0.conv.weight").normal()); // 1.149…
   * ```
   */
  static forName(seed: number, name: string): Random {
    return new Random(hashName(seed, name));
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A signed 32-bit integer, e.g. to seed a noise field. */
  int(): number {
    return (this.next() * 4294967296) | 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    const u = 1 - this.next(); // (0, 1]: log stays finite
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * `n` numbers uniform in [lo, hi) (default [-1, 1)), e.g. test inputs.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(1).uniforms(4, 0, 3)); // Float64Array [1.88…, 0.008…, 1.58…, 2.94…]
   * ```
   */
  uniforms(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.range(lo, hi);
    return out;
  }
}
