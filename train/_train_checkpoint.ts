// This module is browser compatible.
/**
 * Private: training checkpoints. The model part is exactly what
 * `encodeCheckpoint` writes (so `segment` and Python read it); the trainer adds
 * `webseg.training` metadata (command, data, seed, validation Dice) and, in
 * the "last" checkpoint, Adam's moments (`optimizer.m.*`, `optimizer.v.*`)
 * and `webseg.resume` (position in the data order) for an exact `--resume`.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import type { LabelConvention } from "../data/labels.ts";
import type { OptimizerState } from "../gpu/parameters.ts";
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from "../model/checkpoint.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import type { SchedulePlan } from "./budget_plan.ts";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../model/safetensors.ts";

/** Where training stands, saved in the last checkpoint. */
export interface ResumeState {
  /** Global epoch index (0-based, over both phases). */
  epoch: number;
  /** Batches of that epoch already trained. */
  step: number;
  /** Sum of the losses of those batches (for the epoch's mean). */
  lossSum: number;
  /** Options that must match for a resume to be exact. */
  fingerprint: Record<string, unknown>;
  /** Best validation so far: score (mean Dice) and the epoch record it came from. */
  best: { score: number; record: unknown } | null;
  /** Seconds trained so far, over all runs. */
  seconds: number;
  /** The schedule being followed (absent in checkpoints older than the budget plan). */
  plan?: SchedulePlan;
}

/**
 * Encodes the network (with its history and training metadata) and, when
 * `optimizer`/`resume` are given, the optimizer state and resume position.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * import { encodeTrainingCheckpoint, restoreTrainingCheckpoint } from "./_train_checkpoint.ts";
 * await getDevice();
 * const network = SegmentationNetwork.create(modelConfig("unet", { widths: [2, 2, 2, 2] }));
 * const resume = { epoch: 1, step: 2, lossSum: 0.5, fingerprint: {}, best: null, seconds: 3 };
 * const bytes = await encodeTrainingCheckpoint(network, {
 *   labels: "brats2017",
 *   history: [],
 *   training: { seed: 1 },
 *   optimizer: await network.params.readState(),
 *   resume,
 * });
 * restoreTrainingCheckpoint(bytes, network, { path: "m.last.safetensors" }).resume.step; // 2
 * network.release();
 * ```
 */
export async function encodeTrainingCheckpoint(
  network: SegmentationNetwork,
  options: {
    labels: LabelConvention;
    history: readonly unknown[];
    training: Record<string, unknown>;
    optimizer?: OptimizerState;
    resume?: ResumeState;
  },
): Promise<Uint8Array> {
  const base = decodeSafetensors(
    await encodeCheckpoint(network, { labels: options.labels, history: options.history }),
    { path: "checkpoint" },
  );
  const tensors = new Map<string, NamedTensor>(base.tensors);
  const metadata: Record<string, string> = {
    ...base.metadata,
    "webseg.training": JSON.stringify(options.training),
  };
  if (options.optimizer) {
    for (const [name, t] of network.params.entries()) {
      const shape = [...t.shape];
      tensors.set(`optimizer.m.${name}`, { shape, data: options.optimizer.m.get(name)! });
      tensors.set(`optimizer.v.${name}`, { shape, data: options.optimizer.v.get(name)! });
    }
    metadata["webseg.optimizer"] = JSON.stringify({ kind: "adam", step: options.optimizer.step });
  }
  if (options.resume) metadata["webseg.resume"] = JSON.stringify(options.resume);
  return encodeSafetensors(tensors, metadata);
}

/**
 * Restores a last checkpoint's bytes into `network` (parameters, running
 * statistics, Adam state) and returns its history and resume position
 * (example: {@linkcode encodeTrainingCheckpoint}'s).
 *
 * @throws {InputError} naming `options.path` when the bytes are not a checkpoint or lack the resume data.
 */
export function restoreTrainingCheckpoint(
  bytes: Uint8Array,
  network: SegmentationNetwork,
  options: { path: string },
): { history: unknown[]; resume: ResumeState } {
  const path = options.path;
  const checkpoint = decodeCheckpoint(bytes, { path });
  restoreCheckpoint(network, checkpoint, { path });
  const { tensors, metadata } = decodeSafetensors(bytes, { path });
  const parse = (key: string) => {
    const text = metadata[key];
    if (text === undefined) {
      throw new InputError(path, `has no ${key} metadata: not a last checkpoint of train`);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new InputError(path, `${key} metadata is not valid JSON`);
    }
  };
  const resume = parse("webseg.resume") as ResumeState;
  const optimizer = parse("webseg.optimizer") as { step: number };
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const [name] of network.params.entries()) {
    const tm = tensors.get(`optimizer.m.${name}`), tv = tensors.get(`optimizer.v.${name}`);
    if (!tm || !tv) throw new InputError(path, `missing optimizer state of "${name}"`);
    m.set(name, tm.data);
    v.set(name, tv.data);
  }
  network.params.loadState({ step: optimizer.step, m, v });
  return { history: [...checkpoint.history], resume };
}
