// This module is browser compatible.
/**
 * The model stage: runs the network over each window of slices and emits
 * per-slice class scores in depth order. Stateful mode carries the
 * convLSTM state across the whole depth; windowed mode starts every window
 * afresh and averages the probabilities of overlapping windows. Mirror
 * test-time augmentation averages the probabilities of the in-plane
 * mirrorings of the input (each with its own recurrent state).
 *
 * @module
 */

import { mirrorPlanes, MIRRORS } from "./_geometry.ts";
import type { SliceModel, SliceStepResult, SliceWindow } from "../model/slice_model.ts";
import type { ScoreSlice, StageTimes } from "./records.ts";

/** How the recurrent state flows through the depth. */
export type InferenceMode = "stateful" | "windowed";

/** Options of {@linkcode ModelStage}. */
export interface ModelStageOptions {
  /**
   * `stateful` (default): windows must not overlap and the state of each
   * window's last slice starts the next. `windowed`: each window starts from
   * a fresh state; overlapping windows' probabilities are averaged. Windowed
   * windows that need arg-max only are submitted one ahead of their read-back.
   */
  mode?: InferenceMode;
  /** Average over the identity and the x, y and xy mirrorings of every window. */
  tta?: boolean;
  /** Emit probabilities for every slice, never only arg-max classes (to keep them). */
  probabilities?: boolean;
  /** Time spent here is added to `times.model`. */
  times?: StageTimes;
}

interface Pending {
  sum: Float32Array;
  count: number;
}

/** A window's arg-max step, submitted but not read back yet. */
interface InFlight<State> {
  window: SliceWindow;
  result: Promise<SliceStepResult<State>>;
}

/**
 * A `TransformStream` from {@linkcode SliceWindow}s (depth-ordered) to one
 * {@linkcode ScoreSlice} per slice (depth-ordered). Where each slice gets
 * one score (no TTA, no overlap) it asks the model for arg-max classes
 * only; otherwise for probabilities, which it averages.
 *
 * @example
 * ```ts
 * import { ModelStage } from "./model_stage.ts";
 * import { VolumeSource } from "./volume_source.ts";
 * import { NetworkSliceModel } from "../model/network_slice_model.ts";
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const model = await NetworkSliceModel.fromBytes(new Uint8Array(await response.arrayBuffer()));
 * const volume = Float32Array.from({ length: 16 * 16 * 2 }, (_, i) => i % 7); // 16×16×2
 * const source = await VolumeSource.fromArrays([volume, volume, volume, volume], [16, 16, 2], {
 *   depth: 2,
 * });
 * const scores = source.pipeThrough(new ModelStage(model, { tta: true }));
 * for await (const s of scores) console.log(s.z, s.classes, s.probabilities?.length);
 * // 0 4 1024, then 1 4 1024: four mirrorings' probabilities averaged, [classes, 16, 16]
 * model.release();
 * ```
 */
export class ModelStage<State> extends TransformStream<SliceWindow, ScoreSlice> {
  #model: SliceModel<State>;
  #mode: InferenceMode;
  #states: (State | null)[];
  #pending = new Map<number, Pending>();
  #keepProbabilities: boolean;
  #next = 0;
  #inFlight: InFlight<State> | null = null;

  /** Makes the stage for `model`. */
  constructor(model: SliceModel<State>, options: ModelStageOptions = {}) {
    const mode = options.mode ?? "stateful";
    if (mode !== "stateful" && mode !== "windowed") {
      throw new RangeError(`Inference mode must be "stateful" or "windowed", got "${mode}"`);
    }
    const mirrors = options.tta ? MIRRORS : MIRRORS.slice(0, 1);
    const times = options.times;
    // `cancel` is in the Streams standard but not yet in TypeScript's DOM types.
    const transformer: Transformer<SliceWindow, ScoreSlice> & { cancel?: () => void } = {
      transform: async (window, controller) => {
        const t0 = performance.now();
        try {
          await this.#window(window, mirrors, (s) => controller.enqueue(s));
        } catch (error) {
          // Neither flush nor cancel follows a failed transform: free what is held now.
          this.#releaseAll();
          throw error;
        } finally {
          if (times) times.model += performance.now() - t0;
        }
      },
      flush: async (controller) => {
        const t0 = performance.now();
        try {
          await this.#land((s) => controller.enqueue(s));
        } finally {
          this.#releaseAll();
          if (times) times.model += performance.now() - t0;
        }
      },
      cancel: () => this.#releaseAll(),
    };
    super(transformer);
    this.#model = model;
    this.#mode = mode;
    this.#keepProbabilities = options.probabilities === true;
    this.#states = mirrors.map(() => null);
  }

  #releaseStates(): void {
    for (let i = 0; i < this.#states.length; i++) {
      const s = this.#states[i];
      if (s !== null) this.#model.releaseState?.(s);
      this.#states[i] = null;
    }
  }

  /** Frees everything held (the window in flight once it settles, the carried states). */
  #releaseAll(): void {
    this.#abandon();
    this.#releaseStates();
  }

  /** Reads the window in flight back, if any, and emits its slices. */
  async #land(emit: (slice: ScoreSlice) => void): Promise<void> {
    const flight = this.#inFlight;
    if (!flight) return;
    this.#inFlight = null;
    await this.#landFlight(flight, emit);
  }

  async #landFlight(flight: InFlight<State>, emit: (slice: ScoreSlice) => void): Promise<void> {
    const result = await flight.result;
    if (result.state !== null) this.#model.releaseState?.(result.state);
    this.#emitClasses(flight.window, result, emit);
  }

  /** Drops the window in flight (an error or a cancel): its state is freed once it settles. */
  #abandon(): void {
    const flight = this.#inFlight;
    this.#inFlight = null;
    flight?.result.then((r) => {
      if (r.state !== null) this.#model.releaseState?.(r.state);
    }, () => {});
  }

  #emitClasses(
    window: SliceWindow,
    result: SliceStepResult<State>,
    emit: (slice: ScoreSlice) => void,
  ): void {
    const { height: h, width: w, depth, valid, start } = window;
    const argmax = result.classes;
    if (!argmax || argmax.length !== depth * h * w) {
      throw new RangeError(
        `Model returned ${argmax?.length ?? "no"} classes for ${depth * h * w} voxels`,
      );
    }
    const base = { height: h, width: w, classes: this.#model.classes };
    for (let k = 0; k < valid; k++) {
      emit({ ...base, z: start + k, argmax: argmax.slice(k * h * w, (k + 1) * h * w) });
    }
    this.#next = window.settled;
  }

  async #window(
    window: SliceWindow,
    mirrors: readonly { x: boolean; y: boolean }[],
    emit: (slice: ScoreSlice) => void,
  ): Promise<void> {
    const model = this.#model;
    const stateful = this.#mode === "stateful";
    if (window.channels !== model.modalities) {
      throw new RangeError(
        `Window has ${window.channels} modalities; the model takes ${model.modalities}`,
      );
    }
    if (window.height % model.multiple || window.width % model.multiple) {
      throw new RangeError(
        `Window ${window.width}×${window.height} is not a multiple of the model's ${model.multiple}`,
      );
    }
    if (
      stateful && (window.start !== this.#next || window.settled !== window.start + window.valid &&
          window.settled !== window.total)
    ) {
      throw new RangeError("Stateful inference needs consecutive windows without overlap");
    }
    if (!stateful) this.#releaseStates();
    const { height: h, width: w, depth, valid, start } = window;
    const classes = model.classes;
    const base = { height: h, width: w, classes };
    // A slice seen by one pass of one window needs no averaging: arg-max on the device.
    const once = !this.#keepProbabilities && mirrors.length === 1 && this.#pending.size === 0 &&
      window.settled >= start + valid;
    if (once && !stateful) {
      // Windows from a fresh state are independent: this one is submitted before the last one is
      // read back, so the device is not idle while a read-back resolves (~11 ms each in Deno).
      const result = model.step(window, null, { want: "classes" });
      result.catch(() => {}); // reported when landed
      const before = this.#inFlight;
      this.#inFlight = { window, result };
      if (before) await this.#landFlight(before, emit);
      return;
    }
    await this.#land(emit);
    if (once) {
      this.#emitClasses(window, await this.#step(0, window, "classes"), emit);
      return;
    }
    const plane = classes * h * w;
    for (let v = 0; v < mirrors.length; v++) {
      const input = { ...window, data: mirrorPlanes(window.data, h, w, mirrors[v]) };
      const result = await this.#step(v, input, "probabilities");
      if (!result.probabilities || result.probabilities.length !== depth * plane) {
        throw new RangeError(
          `Model returned ${result.probabilities?.length ?? "no"} scores for ${depth * plane}`,
        );
      }
      const probabilities = mirrorPlanes(result.probabilities, h, w, mirrors[v]);
      for (let k = 0; k < valid; k++) {
        const z = start + k;
        let pending = this.#pending.get(z);
        if (!pending) this.#pending.set(z, pending = { sum: new Float32Array(plane), count: 0 });
        const src = probabilities.subarray(k * plane, (k + 1) * plane);
        const sum = pending.sum;
        for (let i = 0; i < plane; i++) sum[i] += src[i];
        pending.count++;
      }
    }
    if (!stateful) this.#releaseStates();
    for (; this.#next < window.settled; this.#next++) {
      const pending = this.#pending.get(this.#next);
      if (!pending) throw new RangeError(`No window covered slice ${this.#next}`);
      this.#pending.delete(this.#next);
      const scale = 1 / pending.count;
      const sum = pending.sum;
      for (let i = 0; i < plane; i++) sum[i] *= scale;
      emit({ ...base, z: this.#next, probabilities: sum });
    }
  }

  async #step(
    variant: number,
    window: SliceWindow,
    want: "probabilities" | "classes",
  ) {
    const before = this.#states[variant];
    const result = await this.#model.step(window, before, { want });
    if (before !== null && before !== result.state) this.#model.releaseState?.(before);
    this.#states[variant] = result.state;
    return result;
  }
}
