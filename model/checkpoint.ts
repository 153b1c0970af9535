// This module is browser compatible.
/**
 * Checkpoints: a network's parameters and running statistics as safetensors
 * bytes, with the model config, label convention, training history and
 * format version in `__metadata__` (JSON-encoded strings). Browser-safe:
 * bytes in, bytes out; `io/checkpoint.ts` adds the file I/O.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { LABEL_CONVENTIONS, type LabelConvention } from "../data/labels.ts";
import { describeConfig, type ModelConfig, sameConfig, validateConfig } from "./config.ts";
import { SegmentationNetwork } from "./network.ts";
import { networkPlan } from "./plan.ts";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "./safetensors.ts";

/** Version of the checkpoint layout written by this module. */
export const CHECKPOINT_VERSION = "1";

/** What a checkpoint says besides its tensors. */
export interface CheckpointInfo {
  /** The network's config. */
  readonly config: ModelConfig;
  /** Label convention of the training data (what class c means). */
  readonly labels: LabelConvention;
  /** Training history: one record per epoch/phase, as the trainer wrote it. */
  readonly history: readonly unknown[];
  /** Checkpoint layout version. */
  readonly version: string;
  /** How it was trained (`webseg.training`: command, data, seed, schedule), when recorded. */
  readonly training?: Readonly<Record<string, unknown>>;
}

/** A decoded checkpoint: its info and tensors, checked against its own config. */
export interface Checkpoint extends CheckpointInfo {
  /** Every tensor the config needs, by name. */
  readonly tensors: ReadonlyMap<string, NamedTensor>;
}

/**
 * Reads a network's tensors back from the GPU and encodes them as safetensors bytes.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "./config.ts";
 * import { encodeCheckpoint } from "./checkpoint.ts";
 * import { SegmentationNetwork } from "./network.ts";
 * await getDevice();
 * const net = SegmentationNetwork.create(modelConfig(undefined, { widths: [2, 2, 2, 2] }));
 * const bytes = await encodeCheckpoint(net, { labels: "brats2017", history: [] });
 * console.log(bytes.length > 0); // true: safetensors bytes, to save or to send
 * net.release();
 * ```
 */
export async function encodeCheckpoint(
  network: SegmentationNetwork,
  options: { labels: LabelConvention; history?: readonly unknown[] },
): Promise<Uint8Array> {
  // Parameters come back in one readback of the flat store; only running statistics are read singly.
  const params = await network.params.read();
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of network.tensors()) {
    tensors.set(name, { shape: t.shape, data: params.get(name) ?? await t.read() });
  }
  return encodeSafetensors(tensors, {
    format: "pt",
    "webseg.config": JSON.stringify(network.config),
    "webseg.labels": options.labels,
    "webseg.history": JSON.stringify(options.history ?? []),
    "webseg.version": CHECKPOINT_VERSION,
  });
}

function parseJson(text: string | undefined, what: string, path: string): unknown {
  if (text === undefined) {
    throw new InputError(path, `not a checkpoint of this program (no ${what} in __metadata__)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(path, `__metadata__ ${what} is not valid JSON`);
  }
}

/**
 * Decodes checkpoint bytes and checks that every tensor its config needs is
 * present with the right shape. `path` only names the file in errors.
 *
 * @throws {InputError} one line: not safetensors, truncated, bad config, missing or misshapen
 *   tensor, a weight that is NaN or infinite.
 * @example
 * ```ts
 * import { decodeCheckpoint } from "./checkpoint.ts";
 * const url = new URL("../models/default.safetensors", import.meta.url);
 * const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
 * const checkpoint = decodeCheckpoint(bytes, { path: "default.safetensors" });
 * const { labels, config, tensors } = checkpoint;
 * console.log(labels, config.classes, tensors.size); // brats2017 4 121
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, options: { path: string }): Checkpoint {
  const path = options.path;
  const { tensors, metadata } = decodeSafetensors(bytes, { path });
  let config: ModelConfig;
  try {
    config = validateConfig(parseJson(metadata["webseg.config"], "model config", path));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, `bad ${(error as Error).message}`);
  }
  const labels = metadata["webseg.labels"] as LabelConvention;
  if (!LABEL_CONVENTIONS.includes(labels)) {
    throw new InputError(
      path,
      `unknown label convention ${JSON.stringify(labels)} in __metadata__`,
    );
  }
  const history = parseJson(metadata["webseg.history"] ?? "[]", "history", path);
  if (!Array.isArray(history)) throw new InputError(path, "__metadata__ history is not a list");
  for (const spec of networkPlan(config).params) {
    const t = tensors.get(spec.name);
    if (!t) {
      throw new InputError(path, `missing tensor "${spec.name}" for ${describeConfig(config)}`);
    }
    if (t.shape.join() !== spec.shape.join()) {
      throw new InputError(
        path,
        `tensor "${spec.name}" has shape [${t.shape}], ${
          describeConfig(config)
        } needs [${spec.shape}]`,
      );
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new InputError(
        path,
        `tensor "${spec.name}" holds ${t.data[bad]} at element ${bad}: not a usable model ` +
          "(training diverged?)",
      );
    }
  }
  const version = metadata["webseg.version"] ?? "";
  if (version !== CHECKPOINT_VERSION) {
    throw new InputError(
      path,
      `checkpoint version ${JSON.stringify(version)}; this program reads ${CHECKPOINT_VERSION}`,
    );
  }
  const training = metadata["webseg.training"] === undefined
    ? undefined
    : parseJson(metadata["webseg.training"], "training", path) as Record<string, unknown>;
  return { config, labels, history, version, tensors, ...(training ? { training } : {}) };
}

/**
 * Whether a checkpoint says it was trained on synthetic phantoms: its data
 * is marked `synthetic` (what `train` records for `synth`'s folders), or,
 * in checkpoints from before that mark, every training case id is a
 * `synth` phantom's. Such a model is for trying the tool, not for scans.
 *
 * @example
 * ```ts
 * import { trainedOnSynthetic } from "./checkpoint.ts";
 * console.log(trainedOnSynthetic({ training: { data: { synthetic: true } } })); // true
 * console.log(trainedOnSynthetic({ training: { data: { train: ["BraTS2021_00000"] } } })); // false
 * console.log(trainedOnSynthetic({})); // false: nothing recorded
 * ```
 */
export function trainedOnSynthetic(info: Pick<CheckpointInfo, "training">): boolean {
  const data = info.training?.data as { synthetic?: unknown; train?: unknown } | undefined;
  if (data?.synthetic === true) return true;
  const ids = Array.isArray(data?.train) ? data.train : [];
  return ids.length > 0 &&
    ids.every((id) => typeof id === "string" && /^phantom_s\d+_\d+$/.test(id));
}

/**
 * Copies a decoded checkpoint's tensors into a network of the same config.
 *
 * @throws {InputError} when the checkpoint's config differs from the network's.
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "./config.ts";
 * import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from "./checkpoint.ts";
 * import { SegmentationNetwork } from "./network.ts";
 * await getDevice();
 * const config = modelConfig(undefined, { widths: [2, 2, 2, 2] });
 * const trained = SegmentationNetwork.create(config, { seed: 1 });
 * const bytes = await encodeCheckpoint(trained, { labels: "brats2017" });
 * const fresh = SegmentationNetwork.create(config, { seed: 2 });
 * const head = async (net: SegmentationNetwork) => (await net.params.read()).get("head.weight")!;
 * const want = (await head(trained)).join();
 * const before = (await head(fresh)).join();
 * const path = "model.safetensors"; // only names the bytes in errors
 * restoreCheckpoint(fresh, decodeCheckpoint(bytes, { path }), { path });
 * console.log(before === want, (await head(fresh)).join() === want); // false true
 * [trained, fresh].forEach((net) => net.release());
 * ```
 */
export function restoreCheckpoint(
  network: SegmentationNetwork,
  checkpoint: Checkpoint,
  options: { path: string },
): void {
  if (!sameConfig(network.config, checkpoint.config)) {
    throw new InputError(
      options.path,
      `checkpoint is for ${describeConfig(checkpoint.config)}, the network is ${
        describeConfig(network.config)
      }`,
    );
  }
  const values = checkpoint.tensors;
  network.params.load(new Map([...values].map(([name, t]) => [name, t.data])));
  for (const [name, t] of network.stats) t.write(values.get(name)!.data);
  network.invalidate();
}

/**
 * A network built from checkpoint bytes (config from the checkpoint), with its info.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { networkFromCheckpoint } from "./checkpoint.ts";
 * await getDevice();
 * const url = new URL("../models/default.safetensors", import.meta.url);
 * const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
 * const { network, info } = networkFromCheckpoint(bytes, { path: "default.safetensors" });
 * console.log(info.labels, network.config.widths); // brats2017 [8, 16, 32, 32]
 * network.release();
 * ```
 */
export function networkFromCheckpoint(
  bytes: Uint8Array,
  options: { path: string },
): { network: SegmentationNetwork; info: CheckpointInfo } {
  const checkpoint = decodeCheckpoint(bytes, options);
  const network = SegmentationNetwork.create(checkpoint.config);
  restoreCheckpoint(network, checkpoint, options);
  const { config, labels, history, version } = checkpoint;
  return { network, info: { config, labels, history, version } };
}
