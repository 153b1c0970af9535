// This module is browser compatible.
/**
 * The trainer's checkpoints: the best one at `out` (a plain model checkpoint
 * with training metadata), the last one beside it (with Adam's state and
 * the position in the data order, for an exact resume) and the curves SVG,
 * all written through the caller's `write`, so training itself touches no
 * file system (the CLI passes an atomic file writer; a browser could keep
 * the bytes).
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { type Region, REGIONS } from "../data/labels.ts";
import { describeConfig } from "../model/config.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import { curvesSvg } from "./curves_svg.ts";
import { fingerprintOf, type ResolvedTrainOptions } from "./schedule.ts";
import type { TrainingSource } from "./training_data.ts";
import type { TrainRecord } from "./train_options.ts";
import {
  encodeTrainingCheckpoint,
  restoreTrainingCheckpoint,
  type ResumeState,
} from "./_train_checkpoint.ts";

/**
 * The last checkpoint and curves paths beside a best-checkpoint path.
 *
 * @example
 * ```ts
 * import { trainingPaths } from "./checkpointing.ts";
 * trainingPaths("run/model.safetensors");
 * // { last: "run/model.last.safetensors", curves: "run/model.curves.svg" }
 * ```
 */
export function trainingPaths(out: string): { last: string; curves: string } {
  const stem = out.replace(/\.safetensors$/i, "");
  return { last: `${stem}.last.safetensors`, curves: `${stem}.curves.svg` };
}

/**
 * Mean of the three regions' Dice: the score the best checkpoint is chosen by.
 *
 * @example
 * ```ts
 * import { meanDice } from "./checkpointing.ts";
 * meanDice({ whole: 0.9, core: 0.6, enhancing: 0.6 }); // 0.7
 * ```
 */
export function meanDice(dice: Record<Region, number>): number {
  return REGIONS.reduce((s, r) => s + dice[r], 0) / REGIONS.length;
}

/** Where a run stands: what its checkpoints record. */
export interface RunProgress {
  /** Position in the data order, and the fingerprint a resume must match. */
  state: ResumeState;
  /** Every epoch record so far, over all runs. */
  history: TrainRecord[];
  /** The best validated epoch so far. */
  best: TrainRecord | null;
  /** Seconds of this run so far. */
  elapsed(): number;
}

/**
 * Writes a run's checkpoints and curves through `options.write`, and reads
 * the last checkpoint back through `options.read` to resume.
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { modelConfig } from "../model/config.ts";
 * import { SegmentationNetwork } from "../model/network.ts";
 * import { TrainingCheckpoints } from "./checkpointing.ts";
 * import { resolveTrainOptions } from "./schedule.ts";
 * import type { TrainingSource } from "./training_data.ts";
 * await getDevice();
 * const config = modelConfig("unet", { widths: [2, 2, 2, 2] });
 * const network = SegmentationNetwork.create(config);
 * const source: TrainingSource = {
 *   labels: "brats2017",
 *   train: [{ id: "a", depth: 3, tumour: new Uint8Array(3) }],
 *   val: [],
 *   classWeights: [1, 1, 1, 1],
 *   loadTrain: () => Promise.reject(new Error("not needed here")),
 *   loadVal: () => Promise.reject(new Error("not needed here")),
 *   describe: () => ({}),
 * };
 * const files = new Map<string, Uint8Array>();
 * const write = (path: string, bytes: Uint8Array) => Promise.resolve(void files.set(path, bytes));
 * const o = resolveTrainOptions({ config, out: "run/m.safetensors", write });
 * const checkpoints = new TrainingCheckpoints(network, source, o);
 * const state = { epoch: 0, step: 0, lossSum: 0, fingerprint: checkpoints.fingerprint, best: null, seconds: 0 };
 * await checkpoints.saveLast({ state, history: [], best: null, elapsed: () => 0 });
 * console.log([...files.keys()]); // ["run/m.last.safetensors", "run/m.curves.svg"]
 * network.release();
 * ```
 */
export class TrainingCheckpoints {
  /** The last checkpoint and curves paths. */
  readonly paths: { last: string; curves: string };
  /** The settings and data a resume must match ({@linkcode fingerprintOf}). */
  readonly fingerprint: Record<string, unknown>;
  readonly #network: SegmentationNetwork;
  readonly #source: TrainingSource;
  readonly #o: ResolvedTrainOptions;

  /** Checkpoints of `network` trained on `source` with the resolved options `o`. */
  constructor(network: SegmentationNetwork, source: TrainingSource, o: ResolvedTrainOptions) {
    this.#network = network;
    this.#source = source;
    this.#o = o;
    this.paths = trainingPaths(o.out);
    this.fingerprint = fingerprintOf(o, source);
  }

  /**
   * Restores the last checkpoint into the network and returns its history
   * and position.
   *
   * @throws {InputError} when there is none or it is not a last checkpoint;
   *   {RangeError} when it was trained with other settings or data.
   */
  async resume(): Promise<{ history: TrainRecord[]; state: ResumeState }> {
    const fingerprint = this.fingerprint;
    const path = this.paths.last;
    if (!this.#o.read) throw new RangeError("resume needs a `read` option to read checkpoints");
    const bytes = await this.#o.read(path);
    if (!bytes) {
      throw new InputError(path, "no checkpoint to resume from (run without --resume first)");
    }
    const restored = restoreTrainingCheckpoint(bytes, this.#network, { path });
    if (JSON.stringify(restored.resume.fingerprint) !== JSON.stringify(fingerprint)) {
      throw new RangeError(
        `${path}: was trained with different settings or data (${
          diffKeys(restored.resume.fingerprint, fingerprint).join(", ")
        }); resume needs the same ones`,
      );
    }
    return { history: restored.history as TrainRecord[], state: restored.resume };
  }

  /** Writes the last checkpoint (with optimizer state and position) and the curves. */
  async saveLast(run: RunProgress): Promise<void> {
    const { state, history, best } = run;
    const bytes = await encodeTrainingCheckpoint(this.#network, {
      labels: this.#source.labels,
      history,
      training: this.#metadata(run, best),
      optimizer: await this.#network.params.readState(),
      resume: {
        ...state,
        seconds: state.seconds + run.elapsed(),
        best: best && { score: meanDice(best.dice), record: best },
      },
    });
    await this.#o.write(this.paths.last, bytes);
    const svg = curvesSvg(history, { title: describeConfig(this.#o.config) });
    await this.#o.write(this.paths.curves, new TextEncoder().encode(svg));
  }

  /** Writes the best checkpoint at `out`, recording `record`'s validation. */
  async saveBest(run: RunProgress, record: TrainRecord): Promise<void> {
    const bytes = await encodeTrainingCheckpoint(this.#network, {
      labels: this.#source.labels,
      history: run.history,
      training: this.#metadata(run, record),
    });
    await this.#o.write(this.#o.out, bytes);
  }

  /** The `webseg.training` metadata: how the network was trained, and on what. */
  #metadata(run: RunProgress, record: TrainRecord | null): Record<string, unknown> {
    const o = this.#o, source = this.#source;
    return {
      command: o.command,
      data: source.describe(),
      seed: o.seed,
      model: describeConfig(o.config),
      options: {
        ...this.fingerprint,
        train: undefined,
        epochs: o.epochs,
        phase2Epochs: o.phase2Epochs,
        lr: o.lr,
        lr2: o.lr2,
        timeBudget: o.timeBudget ?? null,
        maxEpochs: o.maxEpochs ?? null,
      },
      // The epochs per phase actually followed, and the throughput they were sized from.
      schedule: run.state.plan ?? null,
      classWeights: source.classWeights,
      validation: record
        ? { epoch: record.epoch, dice: record.dice, cases: source.val.length }
        : null,
      seconds: run.state.seconds + run.elapsed(),
    };
  }
}

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
