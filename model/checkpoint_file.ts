/**
 * Checkpoint files (Deno): atomic save (temporary file + rename) and load
 * with one-line errors naming the file.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import type { LabelConvention } from "../data/labels.ts";
import {
  type CheckpointInfo,
  decodeCheckpoint,
  encodeCheckpoint,
  networkFromCheckpoint,
  restoreCheckpoint,
} from "./checkpoint.ts";
import type { SegmentationNetwork } from "./network.ts";

/**
 * Writes `network` to `path` as safetensors: to a temporary file beside it,
 * then renamed over `path`, so a crash never leaves a half-written checkpoint.
 *
 * @example
 * ```ts
 * import { saveCheckpoint } from "./checkpoint_file.ts";
 * await saveCheckpoint("models/default.safetensors", net, { labels: "brats2017", history });
 * ```
 */
export async function saveCheckpoint(
  path: string,
  network: SegmentationNetwork,
  options: { labels: LabelConvention; history?: readonly unknown[] },
): Promise<void> {
  await writeAtomic(path, await encodeCheckpoint(network, options));
}

/**
 * Reads a file's bytes; a missing file is one line saying `missing`.
 *
 * @throws {InputError} naming the file when it is missing or unreadable.
 */
export async function readBytes(path: string, missing = "no such file"): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new InputError(path, missing);
    throw new InputError(path, `cannot read (${(error as Error).message})`);
  }
}

/**
 * Writes bytes to a temporary file beside `path`, then renames it over `path`
 * (removing the temporary file if either step fails).
 */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Reads a checkpoint file into a new network built from the file's config.
 *
 * @throws {InputError} one line naming the file and the problem.
 * @example
 * ```ts
 * import { loadCheckpoint } from "./checkpoint_file.ts";
 * const { network, info } = await loadCheckpoint("models/default.safetensors");
 * ```
 */
export async function loadCheckpoint(
  path: string,
): Promise<{ network: SegmentationNetwork; info: CheckpointInfo }> {
  return networkFromCheckpoint(await readBytes(path), { path });
}

/**
 * Reads a checkpoint file into an existing network (e.g. to resume training).
 *
 * @throws {InputError} when the file is bad or its config differs from the network's.
 * @example
 * ```ts
 * import { loadCheckpointInto } from "./checkpoint_file.ts";
 * const info = await loadCheckpointInto("run/last.safetensors", net);
 * ```
 */
export async function loadCheckpointInto(
  path: string,
  network: SegmentationNetwork,
): Promise<CheckpointInfo> {
  const checkpoint = decodeCheckpoint(await readBytes(path), { path });
  restoreCheckpoint(network, checkpoint, { path });
  const { config, labels, history, version } = checkpoint;
  return { config, labels, history, version };
}
