/**
 * The file system: reading files whole or as Blob-like sources, listing
 * folders, making folders, and the one translation of file-system errors
 * into an {@linkcode InputError} line (`atomic_write.ts` writes files).
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import type { NamedSource } from "../data/source.ts";

/** A file on disk as a Blob-like source: re-readable, named by its path. */
export interface FileSource extends NamedSource {
  /** The file's path. */
  readonly name: string;
  /** A file in the same folder. */
  sibling(name: string): Promise<FileSource>;
}

const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : ".");

/**
 * The one translation of a file-system failure into one line naming `path`:
 * `no such file`, `permission denied`, `is a directory`, ... An InputError
 * passes through unchanged.
 *
 * @example
 * ```ts
 * import { fileError } from "./files.ts";
 * try {
 *   await Deno.readFile("/no/such.nii");
 * } catch (error) {
 *   console.log(fileError("/no/such.nii", error).message); // "/no/such.nii: no such file"
 * }
 * ```
 */
export function fileError(
  path: string,
  error: unknown,
  options: { writing?: boolean } = {},
): InputError {
  if (error instanceof InputError) return error;
  const problem = error instanceof Deno.errors.NotFound
    ? (options.writing ? "no such folder" : "no such file")
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Deno.errors.IsADirectory
    ? "is a directory"
    : error instanceof Deno.errors.NotADirectory
    ? "a folder in the path is a file"
    : `cannot ${options.writing ? "write" : "read"} (${
      error instanceof Error ? error.message : String(error)
    })`;
  return new InputError(path, problem, { cause: error });
}

/** Runs a file-system call, rethrowing its failure through {@linkcode fileError}. */
async function withFileErrors<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw fileError(path, error);
  }
}

/** A regular file's size; InputError when it is missing or a directory. */
async function fileSize(path: string): Promise<number> {
  const info = await withFileErrors(path, () => Deno.stat(path));
  if (info.isDirectory) throw new InputError(path, "is a directory");
  return info.size;
}

/**
 * What is at `path`, following links: a `"file"`, a `"folder"`, or null
 * for nothing (or something unreadable).
 *
 * @example
 * ```ts
 * import { pathKind } from "./files.ts";
 * console.log(await pathKind("models/default.safetensors"), await pathKind("models")); // "file" "folder"
 * console.log(await pathKind("/no/such/file")); // null
 * ```
 */
export async function pathKind(path: string): Promise<"file" | "folder" | null> {
  const info = await Deno.stat(path).catch(() => undefined);
  return info?.isFile ? "file" : info?.isDirectory ? "folder" : null;
}

/**
 * Reads a whole file; a missing file is one line saying `missing`.
 *
 * @throws {InputError} naming the file when it is missing or unreadable.
 * @example
 * ```ts
 * import { readBytes } from "./files.ts";
 * const bytes = await readBytes("models/default.safetensors", "no such checkpoint");
 * console.log(bytes.length > 0); // true
 * const missing = await readBytes("/no/such.safetensors", "no such checkpoint").catch((e) => e);
 * console.log(missing.message); // "/no/such.safetensors: no such checkpoint"
 * ```
 */
export async function readBytes(path: string, missing?: string): Promise<Uint8Array> {
  try {
    await fileSize(path);
    return await withFileErrors(path, () => Deno.readFile(path));
  } catch (error) {
    const cause = (error as InputError).cause;
    if (missing !== undefined && cause instanceof Deno.errors.NotFound) {
      throw new InputError(path, missing, { cause });
    }
    throw error;
  }
}

/** A file's bytes as a stream that opens the file on the first read (errors as InputError). */
function fileStream(path: string): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        reader ??= (await Deno.open(path, { read: true })).readable.getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        throw fileError(path, error);
      }
    },
    cancel: (reason) => reader?.cancel(reason),
  }, { highWaterMark: 0 });
}

/**
 * A file as a Blob-like `{ name, size, stream() }` that codecs and the
 * pipeline read like a browser `File`; each `stream()` reads it afresh.
 *
 * @throws {InputError} when the file is missing or a directory.
 * @example
 * ```ts
 * import { fileSource } from "./files.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
 * const source = await fileSource(path);
 * console.log(source.name === path, source.size); // true 3
 * for await (const chunk of source.stream()) console.log(chunk); // Uint8Array [1, 2, 3]
 * await Deno.remove(path);
 * ```
 */
export async function fileSource(path: string): Promise<FileSource> {
  const size = await fileSize(path);
  return {
    name: path,
    size,
    stream: () => fileStream(path),
    sibling: (name: string) => fileSource(`${dirname(path)}/${name}`),
  };
}

/**
 * Opens a file now (so that a missing or unreadable file fails here) as its
 * size and a one-shot stream; cancelling the stream closes the file.
 *
 * @throws {InputError} when the file is missing, a directory or unreadable.
 * @example
 * ```ts
 * import { openFile } from "./files.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "NDims = 3\n");
 * const { size, stream } = await openFile(path);
 * console.log(size, await new Response(stream).text()); // 10 "NDims = 3\n"
 * await Deno.remove(path);
 * ```
 */
export async function openFile(
  path: string,
): Promise<{ size: number; stream: ReadableStream<Uint8Array> }> {
  const size = await fileSize(path);
  const file = await withFileErrors(path, () => Deno.open(path, { read: true }));
  return { size, stream: file.readable };
}

/**
 * Every file under `root`, recursively, as `root/.../name` paths in sorted
 * order; hidden entries are skipped, symbolic links followed, each real
 * folder at most once (a link back up the tree is not a loop).
 *
 * @throws {InputError} when `root` is not a folder.
 * @example
 * ```ts
 * import { listFiles } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/b`);
 * for (const name of ["b/x_t1.nii", "a_flair.nii", ".hidden"]) {
 *   await Deno.writeFile(`${root}/${name}`, new Uint8Array());
 * }
 * for (const path of await listFiles(root)) console.log(path.slice(root.length));
 * // "/a_flair.nii", then "/b/x_t1.nii": sorted, the hidden file skipped
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function listFiles(root: string): Promise<string[]> {
  const top = root.replace(/\/+$/, "") || "/";
  const info = await Deno.stat(top).catch(() => undefined);
  if (!info?.isDirectory) throw new InputError(root, "is not a folder");
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string) => {
    const real = await Deno.realPath(dir).catch(() => dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await withFileErrors(dir, () => Array.fromAsync(Deno.readDir(dir)));
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const path = `${dir}/${e.name}`;
      let isDir = e.isDirectory, isFile = e.isFile;
      if (e.isSymlink) {
        const s = await Deno.stat(path).catch(() => undefined);
        isDir = !!s?.isDirectory;
        isFile = !!s?.isFile;
      }
      if (isDir) await visit(path);
      else if (isFile) out.push(path);
    }
  };
  await visit(top);
  return out;
}

/**
 * Makes a folder and any missing parents (nothing if it exists).
 *
 * @example
 * ```ts
 * import { makeDir } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await makeDir(`${root}/out/pred`);
 * await makeDir(`${root}/out/pred`); // already there: nothing happens
 * console.log((await Deno.stat(`${root}/out/pred`)).isDirectory); // true
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function makeDir(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new InputError(path, "is a file, not a folder", { cause: error });
    }
    throw fileError(path, error, { writing: true });
  }
}
