// This module is browser compatible.
/**
 * All trainable parameters of a model in ONE flat GPU buffer (with flat
 * gradient and Adam moment buffers beside it), so that zeroing gradients is
 * one clear and an optimizer step is one dispatch. Each parameter starts at a
 * 256-byte boundary so it can be bound as a storage view.
 *
 * @module
 */

import { currentDevice } from "./device.ts";
import { encoder, flush } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import {
  createFlatBuffers,
  flatBindings,
  type FlatBuffers,
  type FlatEntry,
  flatten,
  type Kind,
  KINDS,
  readFlat,
} from "./_flat_buffers.ts";

/** Floats per 256 bytes: storage binding offsets must be multiples of 256 bytes. */
export const PARAMETER_ALIGNMENT = 64;

/** Options of the {@linkcode ParameterStore} constructor. */
export interface ParameterStoreOptions {
  /** Room for this many floats, padding included (default 4 Mi floats = 16 MiB per buffer). */
  capacity?: number;
}

/** Adam's state, by parameter name, for checkpoints and `--resume`. */
export interface OptimizerState {
  /** Optimizer steps taken (drives the bias correction). */
  step: number;
  /** First moments. */
  m: Map<string, Float32Array>;
  /** Second moments. */
  v: Map<string, Float32Array>;
}

/** The four flat buffers, as bindings covering every parameter (for optimizer kernels). */
export interface FlatBindings {
  /** Parameter values. */
  param: GPUBufferBinding;
  /** Gradients. */
  grad: GPUBufferBinding;
  /** First moments. */
  m: GPUBufferBinding;
  /** Second moments. */
  v: GPUBufferBinding;
}

/**
 * Parameters packed into flat buffers: `add` returns a view (requiresGrad,
 * with `.grad` a view into the flat gradient buffer), so the tape accumulates
 * gradients in place and {@linkcode ParameterStore.zeroGrad} clears them all.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { ParameterStore } from "./parameters.ts";
 * await getDevice();
 * const store = new ParameterStore({ capacity: 1024 });
 * store.add("enc1.conv.weight", [8, 4, 3, 3], new Float32Array(288).fill(0.01));
 * const saved = await store.read();
 * console.log(store.count, saved.get("enc1.conv.weight")!.length); // 288 288
 * store.destroy();
 * ```
 */
export class ParameterStore {
  /** Adam steps taken so far (incremented by `adamStep`). */
  step = 0;
  readonly #capacity: number;
  #buffers: FlatBuffers | null = null;
  #entries = new Map<string, FlatEntry>();
  #used = 0;
  #count = 0;

  /** Creates an empty store; buffers are allocated on first use. */
  constructor(options: ParameterStoreOptions = {}) {
    const capacity = options.capacity ?? 4 * 2 ** 20;
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`ParameterStore: capacity ${capacity} must be a positive integer`);
    }
    this.#capacity = Math.ceil(capacity / PARAMETER_ALIGNMENT) * PARAMETER_ALIGNMENT;
  }

  /** Number of parameters (padding excluded). */
  get count(): number {
    return this.#count;
  }

  /** Length of the flat buffers in use, in floats (padding included; a multiple of 64). */
  get length(): number {
    return this.#used;
  }

  /** Bindings of the flat parameter, gradient and moment buffers over {@linkcode length} floats. */
  get bindings(): FlatBindings {
    return flatBindings(this.#ensure(), this.#used);
  }

  #ensure(): FlatBuffers {
    this.#buffers ??= createFlatBuffers(this.#capacity);
    return this.#buffers;
  }

  /**
   * Adds a parameter initialised to `init` and returns its view.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 1024 });
   * const bias = store.add("head.bias", [5], new Float32Array(5));
   * console.log(bias.shape, bias.requiresGrad, store.length); // [5] true 64
   * store.destroy();
   * ```
   */
  add(name: string, shape: readonly number[], init: ArrayLike<number>): Tensor {
    if (this.#entries.has(name)) throw new RangeError(`ParameterStore: "${name}" added twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (init.length !== size) {
      throw new RangeError(
        `ParameterStore: "${name}" [${shape}] needs ${size} initial values, got ${init.length}`,
      );
    }
    const start = this.#used;
    const end = start + Math.ceil(size / PARAMETER_ALIGNMENT) * PARAMETER_ALIGNMENT;
    if (end > this.#capacity) {
      throw new RangeError(
        `ParameterStore: "${name}" needs ${end - start} floats but only ` +
          `${
            this.#capacity - start
          } of the capacity ${this.#capacity} are left; pass a larger capacity`,
      );
    }
    const b = this.#ensure();
    const tensor = new Tensor(shape, b.param, { offset: start * 4, requiresGrad: true }).keep();
    tensor.grad = new Tensor(shape, b.grad, { offset: start * 4 }).keep();
    // Earlier encoded work must not see the new values out of order.
    flush();
    const data = init instanceof Float32Array ? init : Float32Array.from(init);
    currentDevice().queue.writeBuffer(b.param, start * 4, data, 0, size);
    this.#entries.set(name, { tensor, start });
    this.#used = end;
    this.#count += size;
    return tensor;
  }

  /**
   * The parameter called `name`.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [1], [0]);
   * console.log(store.get("b").shape); // [1]
   * store.destroy();
   * ```
   */
  get(name: string): Tensor {
    const entry = this.#entries.get(name);
    if (!entry) throw new RangeError(`ParameterStore: no parameter "${name}"`);
    return entry.tensor;
  }

  /**
   * Every (name, parameter) pair, in the order added.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 128 });
   * store.add("w", [2, 2], [1, 2, 3, 4]);
   * store.add("b", [2], [0, 0]);
   * for (const [name, t] of store.entries()) console.log(name, t.shape); // w [2, 2], then b [2]
   * store.destroy();
   * ```
   */
  *entries(): IterableIterator<[string, Tensor]> {
    for (const [name, e] of this.#entries) yield [name, e.tensor];
  }

  /**
   * Sets every gradient to zero (one clear, in command order) and marks
   * them `zeroed`, so the next backward copies each first gradient in.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * const b = store.add("b", [2], [0, 0]);
   * b.grad!.write([3, 4]);
   * store.zeroGrad();
   * console.log(await b.grad!.read()); // Float32Array(2) [0, 0]
   * store.destroy();
   * ```
   */
  zeroGrad(): void {
    if (this.#used === 0) return;
    encoder.commands(currentDevice()).clearBuffer(this.#ensure().grad, 0, this.#used * 4);
    for (const e of this.#entries.values()) e.tensor.grad!.zeroed = true;
  }

  async #readFlat(kind: Kind): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (this.#used === 0) return out;
    const label = `params.${kind}.readback`;
    return await readFlat(this.#ensure()[kind], (flat) => {
      for (const [name, e] of this.#entries) {
        out.set(name, flat.slice(e.start, e.start + e.tensor.size));
      }
      return out;
    }, { floats: this.#used, label });
  }

  #write(kind: Kind, flat: Float32Array): void {
    if (flat.length === 0) return;
    // Work encoded before must read the old values.
    flush();
    currentDevice().queue.writeBuffer(this.#ensure()[kind], 0, flat);
  }

  /**
   * Copies every parameter back to the CPU, by name (for checkpoints).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [2], [1, 2]);
   * console.log((await store.read()).get("b")); // Float32Array(2) [1, 2]
   * store.destroy();
   * ```
   */
  read(): Promise<Map<string, Float32Array>> {
    return this.#readFlat("param");
  }

  /**
   * Overwrites every parameter from a map by name (extra names are ignored, so
   * one checkpoint map can hold other tensors too). Throws on a missing name or
   * a size mismatch, before writing anything.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [2], [0, 0]);
   * store.load(new Map([["b", new Float32Array([3, 4])]]));
   * console.log(await store.get("b").read()); // Float32Array(2) [3, 4]
   * store.destroy();
   * ```
   */
  load(values: Map<string, ArrayLike<number>>): void {
    this.#write("param", flatten(this.#entries, values, { floats: this.#used, kind: "param" }));
  }

  /**
   * Adam's moments and step count, by parameter name (for resuming training).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [2], [1, 2]);
   * const { step, m, v } = await store.readState();
   * console.log(step, m.get("b"), v.get("b")); // 0 Float32Array(2) [0, 0] Float32Array(2) [0, 0]
   * store.destroy();
   * ```
   */
  async readState(): Promise<OptimizerState> {
    const step = this.step;
    return { step, m: await this.#readFlat("m"), v: await this.#readFlat("v") };
  }

  /**
   * Restores Adam's moments and step count saved by {@linkcode ParameterStore.readState}.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [2], [1, 2]);
   * const m = new Map([["b", new Float32Array([0.5, 0.25])]]);
   * store.loadState({ step: 10, m, v: new Map([["b", new Float32Array(2)]]) });
   * const { m: saved } = await store.readState();
   * console.log(store.step, saved.get("b")); // 10 Float32Array(2) [0.5, 0.25]
   * store.destroy();
   * ```
   */
  loadState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new RangeError(`ParameterStore: optimizer step ${state.step} is not a count`);
    }
    const m = flatten(this.#entries, state.m, { floats: this.#used, kind: "m" });
    const v = flatten(this.#entries, state.v, { floats: this.#used, kind: "v" });
    this.#write("m", m);
    this.#write("v", v);
    this.step = state.step;
  }

  /**
   * Frees the GPU buffers; the store and its views are unusable afterwards.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { ParameterStore } from "./parameters.ts";
   * await getDevice();
   * const store = new ParameterStore({ capacity: 64 });
   * store.add("b", [1], [0]);
   * store.destroy();
   * console.log(store.count); // 0
   * ```
   */
  destroy(): void {
    flush();
    for (const e of this.#entries.values()) e.tensor.release();
    if (this.#buffers) { for (const kind of KINDS) this.#buffers[kind].destroy(); }
    this.#buffers = null;
    this.#entries.clear();
    this.#used = 0;
    this.#count = 0;
  }
}
