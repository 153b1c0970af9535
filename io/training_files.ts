/**
 * The trainer's file access on disk: checkpoints and curves written
 * atomically, and reads that resolve to null for a missing file (so that
 * `--resume` without a checkpoint says so in its own words).
 *
 * @module
 */

import type { InputError } from "../data/input_error.ts";
import { readBytes } from "./files.ts";
import { writeAtomic } from "./atomic_write.ts";

/**
 * What `train()` (train/trainer.ts) needs to touch files: spread it into its options.
 *
 * @example
 * ```ts
 * import { trainingFiles } from "./training_files.ts";
 * const dir = await Deno.makeTempDir();
 * await trainingFiles.write(`${dir}/a.bin`, new Uint8Array([1, 2]));
 * console.log(await trainingFiles.read(`${dir}/a.bin`)); // Uint8Array(2) [ 1, 2 ]
 * console.log(await trainingFiles.read(`${dir}/missing.bin`)); // null
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const trainingFiles: {
  write(path: string, bytes: Uint8Array): Promise<void>;
  read(path: string): Promise<Uint8Array | null>;
} = {
  write: async (path, bytes) => void await writeAtomic(path, bytes),
  read: (path) =>
    readBytes(path).catch((error: InputError) => {
      if (error.cause instanceof Deno.errors.NotFound) return null;
      throw error;
    }),
};
