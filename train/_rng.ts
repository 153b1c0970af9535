/**
 * Private seeded randomness of the training loop: a counter-based hash so
 * that any draw depends only on (seed, epoch, step, ...) and a resumed run
 * draws exactly what an uninterrupted one would.
 *
 * @module
 */

/** Mixes up to four integers into a well-spread unsigned 32-bit hash. */
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

/** A small sequential PRNG (mulberry32) started from a hash of its key. */
export class KeyedRng {
  #state: number;

  /** Starts the sequence for the key (a, b, c, d). */
  constructor(a: number, b = 0, c = 0, d = 0) {
    this.#state = hash32(a, b, c, d);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
}
