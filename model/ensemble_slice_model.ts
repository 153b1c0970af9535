// This module is browser compatible.
/**
 * Several trained networks as one {@linkcode SliceModel}: each window goes
 * through every model (each with its own recurrent state) and their class
 * probabilities are averaged before the arg-max, the ensemble of the folds
 * of a cross-validation. Memory is one window of scores on top of the
 * models themselves, so it stays flat in depth and linear in models.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";
import { argmaxClasses, type LabelConvention } from "../data/labels.ts";
import type { SliceModel, SliceStepResult, SliceWindow } from "./slice_model.ts";

/** A model the ensemble can hold: the pipeline's interface, with a name for errors. */
export interface EnsembleMember<State = unknown> extends SliceModel<State> {
  /** Frees the model's GPU memory. */
  release?(): void;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The average of `models`' class probabilities as one slice model. An
 * ensemble of one passes every call through unchanged, so it gives that
 * model's output bit for bit.
 *
 * @example
 * ```ts
 * import { EnsembleSliceModel } from "./ensemble_slice_model.ts";
 * import { NetworkSliceModel } from "./network_slice_model.ts";
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const bytes = new Uint8Array(await response.arrayBuffer());
 * const models = [await NetworkSliceModel.fromBytes(bytes), await NetworkSliceModel.fromBytes(bytes)];
 * const ensemble = new EnsembleSliceModel(models, ["a", "b"]);
 * const data = new Float32Array(1 * 4 * 16 * 16).fill(1);
 * const window = { start: 0, depth: 1, valid: 1, channels: 4, height: 16, width: 16, data, settled: 1, total: 1 };
 * const { classes, state } = await ensemble.step(window, null, { want: "classes" });
 * console.log(ensemble.size, classes!.length); // 2 256
 * ensemble.releaseState(state);
 * ensemble.release();
 * ```
 */
export class EnsembleSliceModel implements SliceModel<unknown[]> {
  /** Number of output classes (the same for every model). */
  readonly classes: number;
  /** Label convention of the classes (the same for every model). */
  readonly convention: LabelConvention;
  /** Slice sizes must be multiples of this: the least common multiple of the models'. */
  readonly multiple: number;
  /** Modalities per slice (the same for every model). */
  readonly modalities: number;
  #models: EnsembleMember[];

  /**
   * Joins `models` (named by `names` in errors, e.g. their files).
   *
   * @throws {RangeError} for no models; {InputError} naming the model that
   * differs from the first in classes, label convention or modalities.
   */
  constructor(models: readonly EnsembleMember[], names: readonly string[] = []) {
    if (models.length === 0) throw new RangeError("An ensemble needs at least one model");
    const [first] = models;
    const name = (i: number) => names[i] ?? `model ${i + 1}`;
    for (const [i, m] of models.entries()) {
      // The convention first: two conventions with different class counts should be named as such.
      for (const key of ["convention", "classes", "modalities"] as const) {
        if (m[key] !== first[key]) {
          throw new InputError(
            name(i),
            `has ${key} ${m[key]} but ${name(0)} has ${first[key]}: ` +
              "the models of an ensemble must agree on classes, label convention and modalities",
          );
        }
      }
    }
    this.#models = [...models];
    this.classes = first.classes;
    this.convention = first.convention;
    this.modalities = first.modalities;
    this.multiple = models.reduce((l, m) => (l * m.multiple) / gcd(l, m.multiple), 1);
  }

  /** Number of models. */
  get size(): number {
    return this.#models.length;
  }

  /** Runs every model over `window` and averages their probabilities (or their arg-max, asked for classes). */
  async step(
    window: SliceWindow,
    state: unknown[] | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<unknown[]>> {
    const models = this.#models;
    // The array is kept (and updated) so the caller sees the same state object come back.
    const states = state ?? models.map(() => null);
    if (models.length === 1) {
      const result = await this.#stepOne(0, window, states, options.want);
      return { ...result, state: states };
    }
    const plane = window.height * window.width;
    const sum = new Float32Array(window.depth * this.classes * plane);
    for (let i = 0; i < models.length; i++) {
      const { probabilities } = await this.#stepOne(i, window, states, "probabilities");
      if (!probabilities || probabilities.length !== sum.length) {
        throw new RangeError(
          `Model ${i + 1} returned ${probabilities?.length ?? "no"} scores for ${sum.length}`,
        );
      }
      for (let k = 0; k < sum.length; k++) sum[k] += probabilities[k];
    }
    const scale = 1 / models.length;
    for (let k = 0; k < sum.length; k++) sum[k] *= scale;
    if (options.want === "probabilities") return { probabilities: sum, state: states };
    const classes = new Uint8Array(window.depth * plane);
    const block = this.classes * plane;
    for (let t = 0; t < window.depth; t++) {
      argmaxClasses(
        sum.subarray(t * block, (t + 1) * block),
        this.classes,
        plane,
        classes.subarray(t * plane, (t + 1) * plane),
      );
    }
    return { classes, state: states };
  }

  async #stepOne(
    i: number,
    window: SliceWindow,
    states: unknown[],
    want: "probabilities" | "classes",
  ): Promise<SliceStepResult<unknown>> {
    const model = this.#models[i];
    const before = states[i];
    const result = await model.step(window, before, { want });
    if (before !== null && before !== result.state) model.releaseState?.(before);
    states[i] = result.state;
    return result;
  }

  /** Frees every model's state. */
  releaseState(state: unknown[]): void {
    for (const [i, s] of state.entries()) {
      if (s !== null) this.#models[i].releaseState?.(s);
      state[i] = null;
    }
  }

  /** Frees every model. */
  release(): void {
    for (const m of this.#models) m.release?.();
  }
}
