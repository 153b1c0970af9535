// This module is browser compatible.
/**
 * A queue of file bytes that transparently gunzips (fflate's streaming
 * `Gunzip`), fed in small pieces so the decompressed bytes held at any time
 * stay bounded by what the caller asks for. Private to `data/`.
 *
 * @module
 */

import { Gunzip } from "fflate";
import { InputError } from "./input_error.ts";

/**
 * Compressed bytes inflated per step adapt to the recent expansion ratio so
 * that each step yields about TARGET_OUTPUT bytes: big steps keep fflate's
 * per-step copies (its 32 kB window) few, small ones keep the output bounded
 * in highly compressed stretches (deflate expands at most ~1032×).
 */
const TARGET_OUTPUT = 256 * 1024;
const MIN_PIECE = 1024;
const MAX_PIECE = 32 * 1024;
/** Deflate's largest possible expansion ratio, used to bound what a gzip file can hold. */
export const MAX_DEFLATE_RATIO = 1032;

const EMPTY = new Uint8Array(0);

/** Synchronous core: the caller supplies file bytes, then takes decompressed bytes. */
export class ByteQueue {
  /** The file name used in error messages. */
  readonly name: string;
  #expectGzip: boolean;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #available = 0;
  #input: Uint8Array = EMPTY;
  #inputPos = 0;
  #mode: "unknown" | "raw" | "gzip" = "unknown";
  #gunzip: Gunzip | null = null;
  #piece = MIN_PIECE * 4;
  #fileBytes = 0;
  #produced = 0;
  #ended = false;

  /** `expectGzip`: the name says `.gz`, so plain bytes are an error. */
  constructor(name: string, options: { expectGzip?: boolean } = {}) {
    this.name = name;
    this.#expectGzip = options.expectGzip ?? /\.gz$/i.test(name);
  }

  /** Decompressed bytes ready to take. */
  get available(): number {
    return this.#available;
  }

  /** True when all supplied input has been consumed. */
  get needsInput(): boolean {
    return this.#inputPos >= this.#input.length && !this.#ended;
  }

  /** True once `end()` was called and the decompressor flushed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the content is gzip (known after the first bytes). */
  get gzip(): boolean {
    return this.#mode === "gzip";
  }

  /** File bytes supplied so far. */
  get fileBytes(): number {
    return this.#fileBytes;
  }

  /** Decompressed bytes produced so far. */
  get produced(): number {
    return this.#produced;
  }

  /** Hands over the next file bytes; the previous ones must be consumed. */
  supply(bytes: Uint8Array): void {
    if (!this.needsInput) throw new Error("ByteQueue.supply: previous input not consumed");
    this.#input = bytes;
    this.#inputPos = 0;
    this.#fileBytes += bytes.length;
    if (this.#mode === "unknown" && bytes.length > 0) this.#sniff(bytes);
  }

  /** Marks the end of the file: flushes the decompressor (throws InputError if gzip is cut short). */
  end(): void {
    if (this.#ended) return;
    while (this.#step());
    this.#ended = true;
    if (this.#mode === "unknown") throw new InputError(this.name, "empty file");
    if (this.#gunzip) this.#push(EMPTY, true);
  }

  /** Consumes input until `n` bytes are available or the input runs out; returns whether they are. */
  fill(n: number): boolean {
    while (this.#available < n) {
      if (!this.#step()) return false;
    }
    return true;
  }

  /** Takes exactly `n` bytes (which must be available): a view when they lie in one chunk. */
  take(n: number): Uint8Array {
    if (n > this.#available) throw new RangeError(`ByteQueue.take(${n}) with ${this.#available}`);
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      const count = Math.min(n - filled, chunk.length - this.#head);
      out.set(chunk.subarray(this.#head, this.#head + count), filled);
      filled += count;
      this.#advance(count);
    }
    return out;
  }

  /** The first `n` available bytes without consuming them. */
  peek(n: number): Uint8Array {
    if (n > this.#available) throw new RangeError(`ByteQueue.peek(${n}) with ${this.#available}`);
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0, at = this.#head; filled < n; i++, at = 0) {
      const chunk = this.#chunks[i];
      const count = Math.min(n - filled, chunk.length - at);
      out.set(chunk.subarray(at, at + count), filled);
      filled += count;
    }
    return out;
  }

  /** For callers that supplied the whole file: fills `n` bytes, ending the input if needed. */
  fillAll(n: number): boolean {
    if (this.fill(n)) return true;
    this.end();
    return this.#available >= n;
  }

  /** Drops `n` available bytes. */
  drop(n: number): void {
    if (n > this.#available) throw new RangeError(`ByteQueue.drop(${n}) with ${this.#available}`);
    while (n > 0) {
      const count = Math.min(n, this.#chunks[0].length - this.#head);
      this.#advance(count);
      n -= count;
    }
  }

  #advance(count: number): void {
    this.#head += count;
    this.#available -= count;
    if (this.#head === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  #sniff(bytes: Uint8Array): void {
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      this.#mode = "gzip";
      this.#gunzip = new Gunzip((data) => this.#enqueue(data));
    } else if (this.#expectGzip) {
      throw new InputError(this.name, "not a gzip file, although named .gz");
    } else {
      this.#mode = "raw";
    }
  }

  #enqueue(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#available += data.length;
    this.#produced += data.length;
  }

  /** Consumes one piece of input; false when none is left. */
  #step(): boolean {
    if (this.#inputPos >= this.#input.length) return false;
    if (this.#gunzip) {
      const end = Math.min(this.#inputPos + this.#piece, this.#input.length);
      const piece = this.#input.subarray(this.#inputPos, end);
      this.#inputPos = end;
      const before = this.#produced;
      this.#push(piece, false);
      const ratio = Math.max(1, (this.#produced - before) / piece.length);
      this.#piece = Math.min(MAX_PIECE, Math.max(MIN_PIECE, Math.round(TARGET_OUTPUT / ratio)));
    } else {
      this.#enqueue(this.#input.subarray(this.#inputPos));
      this.#inputPos = this.#input.length;
    }
    if (this.#inputPos >= this.#input.length) this.#input = EMPTY;
    return true;
  }

  #push(piece: Uint8Array, final: boolean): void {
    try {
      this.#gunzip!.push(piece, final);
    } catch (error) {
      const code = (error as { code?: number }).code;
      const problem = code === 0
        ? `truncated gzip stream: it ends after ${this.#produced} decompressed bytes`
        : `corrupt gzip data (${error instanceof Error ? error.message : error})`;
      throw new InputError(this.name, problem, { cause: error });
    }
  }
}

/** Asynchronous wrapper that pulls file bytes from a stream as the queue needs them. */
export class ByteReader {
  /** The decompressing queue. */
  readonly queue: ByteQueue;
  #source: AsyncIterator<Uint8Array>;

  /** Reads from `source` (file chunks); `name` is used in errors. */
  constructor(
    source: AsyncIterable<Uint8Array>,
    name: string,
    options: { expectGzip?: boolean } = {},
  ) {
    this.queue = new ByteQueue(name, options);
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Makes `n` bytes available; returns false when the file ends first. */
  async fill(n: number): Promise<boolean> {
    const q = this.queue;
    while (!q.fill(n)) {
      if (q.ended) return false;
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.#source.next();
      } catch (error) {
        if (error instanceof InputError) throw error; // a source's own one-line error (e.g. io's)
        const message = error instanceof Error ? error.message : String(error);
        throw new InputError(q.name, `read failed (${message})`, { cause: error });
      }
      if (next.done) q.end();
      else q.supply(next.value);
    }
    return true;
  }

  /** Drops `n` bytes in bounded steps; returns false when the file ends first. */
  async skip(n: number): Promise<boolean> {
    const STEP = 1 << 20;
    while (n > 0) {
      const count = Math.min(n, STEP);
      if (!(await this.fill(count))) return false;
      this.queue.drop(count);
      n -= count;
    }
    return true;
  }

  /** Stops reading the source early (closes the underlying file). */
  async close(): Promise<void> {
    await this.#source.return?.();
  }
}
