// This module is browser compatible.
/**
 * Where codecs read bytes from: a `Uint8Array`, a `Blob` or `File`, any
 * `{ name, size, stream() }` (a file on disk, from the `io` module), or a
 * one-shot `ReadableStream`, so the same reader serves the browser and the CLI.
 *
 * @module
 */

/**
 * A Blob-like source that can be streamed more than once: a `Blob`, a
 * `File`, or a file on disk (`io`'s `fileSource`).
 */
export interface ByteSource {
  /** Names the source in error messages (a `File`'s name, a file's path). */
  readonly name?: string;
  /** Length in bytes. */
  readonly size: number;
  /** A fresh stream of the bytes from the start. */
  stream(): ReadableStream<Uint8Array>;
  /**
   * A file beside this one (MetaImage's `ElementDataFile`), where there is a
   * folder to look in.
   */
  sibling?(name: string): Promise<ByteSource>;
}

/** Bytes that can be read more than once: in memory, a `Blob`/`File`, or a file on disk. */
export type SourceInput = Uint8Array | Blob | ByteSource;

/** Anything a streaming reader takes: a re-readable source or a one-shot stream. */
export type ByteInput = SourceInput | ReadableStream<Uint8Array>;

/** A source with a name for error messages. */
export interface NamedSource extends ByteSource {
  /** Names the source in error messages. */
  readonly name: string;
}

const isStream = (input: unknown): input is ReadableStream<Uint8Array> =>
  typeof (input as ReadableStream).getReader === "function";

/**
 * Gives a source a name for error messages (its own when it has one, else
 * `fallback`) and the `ByteSource` shape.
 *
 * @example
 * ```ts
 * import { namedSource } from "./source.ts";
 * const source = namedSource(new Uint8Array([1, 2, 3]), "flair");
 * console.log(source.name, source.size); // "flair" 3
 * const file = namedSource(new File(["abcd"], "x_t1.nii.gz"), "t1");
 * console.log(file.name, file.size); // "x_t1.nii.gz" 4
 * ```
 */
export function namedSource(input: SourceInput, fallback: string): NamedSource {
  if (input instanceof Uint8Array) {
    return { name: fallback, size: input.length, stream: () => streamOf(input) };
  }
  const source = input as ByteSource;
  const name = source.name || fallback;
  if (source.name === name) return source as NamedSource;
  return {
    name,
    size: source.size,
    stream: () => source.stream(),
    ...(source.sibling ? { sibling: (file: string) => source.sibling!(file) } : {}),
  };
}

/** A one-chunk stream of `bytes`. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The bytes of any input as a stream (a fresh one for re-readable sources).
 *
 * @example
 * ```ts
 * import { toStream } from "./source.ts";
 * const stream = toStream(new Blob([new Uint8Array([1, 2])]));
 * for await (const chunk of stream) console.log(chunk); // Uint8Array [1, 2]
 * ```
 */
export function toStream(input: ByteInput): ReadableStream<Uint8Array> {
  if (input instanceof Uint8Array) return streamOf(input);
  if (isStream(input)) return input;
  return input.stream();
}

/**
 * All the bytes of any input.
 *
 * @example
 * ```ts
 * import { toBytes } from "./source.ts";
 * const bytes = await toBytes(new Blob(["NDims = 1\n"]));
 * console.log(bytes.length); // 10
 * const streamed = await toBytes(new Blob([new Uint8Array([1, 2, 3])]).stream());
 * console.log(streamed); // Uint8Array [1, 2, 3]
 * ```
 */
export async function toBytes(input: ByteInput): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of toStream(input)) {
    chunks.push(chunk);
    length += chunk.length;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * The size of an input when known without reading it (not for streams).
 *
 * @example
 * ```ts
 * import { sourceSize } from "./source.ts";
 * console.log(sourceSize(new Uint8Array(4)), sourceSize(new Blob(["abc"]))); // 4 3
 * console.log(sourceSize(new ReadableStream())); // undefined: a stream's length is unknown
 * ```
 */
export function sourceSize(input: ByteInput): number | undefined {
  if (input instanceof Uint8Array) return input.length;
  return isStream(input) ? undefined : input.size;
}

/**
 * The first `n` bytes of any input (fewer if it is shorter), reading no
 * further; a stream is cancelled after them.
 *
 * @example
 * ```ts
 * import { headBytes } from "./source.ts";
 * const head = await headBytes(new Blob(["NDims = 3\nDimSize = 2 2 1\n"]), 9);
 * console.log(new TextDecoder().decode(head)); // "NDims = 3"
 * ```
 */
export async function headBytes(input: ByteInput, n: number): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input.subarray(0, n);
  if (input instanceof Blob) return new Uint8Array(await input.slice(0, n).arrayBuffer());
  const head = new Uint8Array(n);
  let got = 0;
  const reader = toStream(input).getReader();
  try {
    while (got < n) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, n - got);
      head.set(value.subarray(0, take), got);
      got += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return head.subarray(0, got);
}
