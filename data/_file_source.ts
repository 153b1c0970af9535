/**
 * Opening files for the NIfTI readers, with file-system errors turned into
 * one-line InputErrors. Private to `data/`; Deno only.
 *
 * @module
 */

import { InputError } from "./input_error.ts";

/** Why a file cannot be opened, in a few words. */
function describeFsError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory, not a NIfTI file";
  return `cannot read (${error instanceof Error ? error.message : String(error)})`;
}

/** Runs a file-system call, rethrowing its failure as an InputError naming `path`. */
export async function withFsErrors<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, describeFsError(error), { cause: error });
  }
}

/** A regular file's size, or InputError when it is missing or not a file. */
export async function fileSize(path: string): Promise<number> {
  const info = await withFsErrors(path, () => Deno.stat(path));
  if (info.isDirectory) throw new InputError(path, "is a directory, not a NIfTI file");
  return info.size;
}

/** Opens a file as a stream of chunks, with its size. Cancelling the stream closes the file. */
export async function openFileStream(
  path: string,
): Promise<{ size: number; stream: ReadableStream<Uint8Array<ArrayBuffer>> }> {
  const size = await fileSize(path);
  const file = await withFsErrors(path, () => Deno.open(path, { read: true }));
  return { size, stream: file.readable };
}

/** Reads a whole file, or InputError. */
export async function readWholeFile(path: string): Promise<Uint8Array> {
  await fileSize(path);
  return await withFsErrors(path, () => Deno.readFile(path));
}
