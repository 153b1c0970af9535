/**
 * Checkpoint files: `model/checkpoint.ts`'s byte codec joined to the file
 * system, saved atomically, loaded with one-line errors naming the file.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";
import { getDevice } from "../gpu/device.ts";
import {
  type CheckpointInfo,
  decodeCheckpoint,
  encodeCheckpoint,
  networkFromCheckpoint,
  restoreCheckpoint,
} from "../model/checkpoint.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { InputError } from "../data/input_error.ts";
import { pathKind, readBytes } from "./files.ts";
import { writeAtomic } from "./atomic_write.ts";

/**
 * Writes `network` to `path` as safetensors, atomically, so a crash never
 * leaves a half-written checkpoint.
 *
 * @example
 * ```ts
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * await getDevice();
 * const run = await Deno.makeTempDir();
 * const config = modelConfig("mme+cmc+mrf+convlstm", { widths: [4, 4, 4, 4] });
 * const net = SegmentationNetwork.create(config);
 * await saveCheckpoint(`${run}/tiny.safetensors`, net, { labels: "brats2017", history: [] });
 * const { network, info } = await loadCheckpoint(`${run}/tiny.safetensors`);
 * console.log(info.labels, network.config.widths); // "brats2017" [4, 4, 4, 4]
 * [net, network].forEach((n) => n.release());
 * await Deno.remove(run, { recursive: true });
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
 * Reads a checkpoint file into a new network built from the file's config.
 *
 * @throws {InputError} one line naming the file and the problem.
 * @example
 * ```ts
 * import { loadCheckpoint } from "./checkpoint.ts";
 * import { getDevice } from "../gpu/device.ts";
 * await getDevice();
 * const { network, info } = await loadCheckpoint("models/default.safetensors");
 * console.log(info.labels, network.config.widths); // the trained model's convention and widths
 * network.release();
 * await loadCheckpoint("/no/such.safetensors").catch((e) => console.log(e.message));
 * // one line naming "/no/such.safetensors" and the problem
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
 * import { loadCheckpoint, loadCheckpointInto } from "./checkpoint.ts";
 * import { getDevice } from "../gpu/device.ts";
 * await getDevice();
 * const { network } = await loadCheckpoint("models/default.safetensors");
 * // e.g. resuming: the saved weights go into the network being trained
 * const info = await loadCheckpointInto("models/default.safetensors", network);
 * console.log(info.version, info.history.length); // the layout version, epochs recorded
 * network.release();
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

/**
 * Loads a checkpoint as the pipeline's slice model on the GPU, from a file
 * or from bytes already in memory.
 *
 * @throws {InputError} for a missing or bad checkpoint; GpuUnavailableError without an adapter.
 * @example
 * ```ts
 * import { loadModel } from "./checkpoint.ts";
 * const model = await loadModel("models/default.safetensors");
 * console.log(model.convention, model.classes); // "brats2017" 4
 * model.release();
 * ```
 */
export async function loadModel(checkpoint: string | Uint8Array): Promise<NetworkSliceModel> {
  if (typeof checkpoint !== "string") return await NetworkSliceModel.fromBytes(checkpoint);
  await getDevice(); // without an adapter, that is the error to report, not the file's
  return await NetworkSliceModel.fromBytes(await readBytes(checkpoint), { path: checkpoint });
}

/**
 * The checkpoints a `--model` value names, in order: comma-separated
 * entries, each a file, or a folder standing for its `*.safetensors` and
 * those in its `fold_*` subfolders (sorted; `*.last.safetensors`, the
 * training state for `--resume`, left out).
 *
 * @throws {InputError} for an entry that does not exist or a folder without checkpoints.
 * @example
 * ```ts
 * import { checkpointPaths } from "./checkpoint.ts";
 * const dir = await Deno.makeTempDir();
 * for (const f of ["fold_0", "fold_1"]) {
 *   await Deno.mkdir(`${dir}/${f}`);
 *   await Deno.writeTextFile(`${dir}/${f}/model.safetensors`, "");
 *   await Deno.writeTextFile(`${dir}/${f}/model.last.safetensors`, "");
 * }
 * const paths = await checkpointPaths(dir);
 * console.log(paths.map((p) => p.slice(dir.length))); // ["/fold_0/model.safetensors", "/fold_1/model.safetensors"]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkpointPaths(spec: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const kind = await pathKind(entry);
    if (kind === null) throw new InputError(entry, "no such checkpoint file or folder");
    if (kind === "file") {
      out.push(entry);
      continue;
    }
    const dir = entry.replace(/\/+$/, "");
    const found: string[] = [];
    const take = async (folder: string) => {
      for await (const e of Deno.readDir(folder)) {
        const path = `${folder}/${e.name}`;
        if (/\.safetensors$/.test(e.name) && !/\.last\.safetensors$/.test(e.name)) {
          if (await pathKind(path) === "file") found.push(path);
        } else if (
          folder === dir && /^fold_\d+$/.test(e.name) && await pathKind(path) === "folder"
        ) {
          await take(path);
        }
      }
    };
    await take(dir);
    if (found.length === 0) {
      throw new InputError(entry, "holds no checkpoints (*.safetensors, or fold_*/*.safetensors)");
    }
    out.push(...found.sort());
  }
  if (out.length === 0) throw new InputError(spec, "names no checkpoint");
  return out;
}
