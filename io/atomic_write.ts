/**
 * The one atomic writer: a whole file or nothing under its final name, even
 * after a crash or a power loss.
 *
 * @module
 */

import { fileError, pathKind } from "./files.ts";
import { releaseTempName, tempNameFor } from "./temp_files.ts";

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
}

/** Whether a flush failed only because the file system cannot flush (some FUSE and SMB mounts). */
function flushUnsupported(error: unknown): boolean {
  return error instanceof Deno.errors.NotSupported ||
    (error as { code?: string }).code === "EINVAL" ||
    (error as { code?: string }).code === "ENOTSUP";
}

/**
 * The one atomic writer: writes `data` to a temporary file beside `path`
 * (`temp_files.ts` names it after the process and host), flushes it to the
 * disk, then renames it over `path`, so neither a crash nor a power loss
 * leaves a partial file under the final name; on any failure (a stream that
 * errors or is aborted included) the temporary file is removed and `path`
 * is left as it was. With `exclusive`, an existing `path` is kept instead
 * (the temporary file is hard-linked to `path`, which fails atomically if
 * it exists; a rename where links are not supported) and false returned:
 * the first of several writers wins.
 *
 * @throws {InputError} naming `path` when the temporary file cannot be made,
 *   written, flushed or renamed; the stream's own error when the stream fails.
 * @example
 * ```ts
 * import { writeAtomic } from "./atomic_write.ts";
 * const out = await Deno.makeTempDir();
 * await writeAtomic(`${out}/a.bin`, new Uint8Array([1, 2, 3]));
 * await writeAtomic(`${out}/b.txt`, new Blob(["streamed"]).stream());
 * console.log(await Deno.readTextFile(`${out}/b.txt`)); // "streamed"
 * console.log((await Array.fromAsync(Deno.readDir(out))).length); // 2: no temporary file left
 * console.log(await writeAtomic(`${out}/a.bin`, new Uint8Array([9]), { exclusive: true })); // false
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function writeAtomic(
  path: string,
  data: Uint8Array | ReadableStream<Uint8Array>,
  options: { exclusive?: boolean } = {},
): Promise<boolean> {
  const temp = tempNameFor(path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true });
  } catch (error) {
    releaseTempName(temp);
    const translated = fileError(path, error, { writing: true });
    if (data instanceof ReadableStream) await data.cancel(translated).catch(() => {});
    throw translated;
  }
  try {
    // File-system failures are named by path; the stream's own errors pass as they are.
    const put = (bytes: Uint8Array) =>
      writeAll(file, bytes).catch((e) => Promise.reject(fileError(path, e, { writing: true })));
    await (data instanceof ReadableStream
      ? data.pipeTo(new WritableStream({ write: put }))
      : put(data));
    // Flushed before the rename: a power loss must not leave a renamed but empty file.
    await file.syncData().catch((e) =>
      flushUnsupported(e) ? undefined : Promise.reject(fileError(path, e, { writing: true }))
    );
    file.close();
    if (options.exclusive) return await linkOnce(temp, path);
    await Deno.rename(temp, path).catch((e) =>
      Promise.reject(fileError(path, e, { writing: true }))
    );
    return true;
  } catch (error) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(temp).catch(() => {});
    throw error;
  } finally {
    releaseTempName(temp);
  }
}

/** Links `temp` to `path` unless `path` exists (false then), and removes `temp`. */
async function linkOnce(temp: string, path: string): Promise<boolean> {
  try {
    await Deno.link(temp, path);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      await Deno.remove(temp).catch(() => {});
      return false;
    }
    // No hard links on this file system: a rename, after a look (not atomic, the best it allows).
    if (await pathKind(path) !== null) {
      await Deno.remove(temp).catch(() => {});
      return false;
    }
    await Deno.rename(temp, path).catch((e) =>
      Promise.reject(fileError(path, e, { writing: true }))
    );
    return true;
  }
  await Deno.remove(temp).catch(() => {});
  return true;
}
