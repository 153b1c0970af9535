// This module is browser compatible.
/**
 * The one tensor type: a shape and a span of a GPU buffer (float32), with an
 * optional gradient. Tensors made inside {@linkcode scoped} are released when
 * the scope ends unless returned or kept. A released tensor's buffer may be
 * reused by the very next op, even before the work is submitted.
 *
 * @module
 */

import { currentDevice } from "./device.ts";
import { encoder, flush } from "./kernel.ts";
import { openScopes } from "./_open_scopes.ts";

/** Options for making a tensor. */
export interface TensorOptions {
  /** Label of the GPU buffer (shows up in WebGPU errors). */
  label?: string;
  /** Whether gradients flow into this tensor during `backward()`. */
  requiresGrad?: boolean;
}

/** A float32 tensor on the GPU. */
export class Tensor {
  /** Dimensions, outermost first (NCHW for images). */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** The GPU buffer holding the data (possibly shared with other tensors). */
  readonly buffer: GPUBuffer;
  /** Byte offset of the data inside `buffer` (a multiple of 256 for views). */
  readonly offset: number;
  /** Gradient of the loss with respect to this tensor, after `backward()`. */
  grad: Tensor | null = null;
  /** Whether `backward()` computes a gradient for this tensor. */
  requiresGrad: boolean;
  /**
   * Known to hold zeros: a gradient just cleared (`ParameterStore.zeroGrad`).
   * The tape then copies the first gradient into it instead of adding, one
   * buffer copy instead of a kernel dispatch. Writes set it back to false.
   */
  zeroed = false;
  #owned: boolean;
  #released = false;

  /**
   * Wraps a span of a buffer. Prefer {@linkcode Tensor.empty}, {@linkcode Tensor.zeros}
   * and {@linkcode Tensor.from}; this constructor is for views (e.g. parameters
   * packed into one buffer), which are never returned to the pool.
   */
  constructor(
    shape: readonly number[],
    buffer: GPUBuffer,
    options: TensorOptions & { offset?: number; owned?: boolean } = {},
  ) {
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new RangeError(`Invalid tensor shape [${shape.join(", ")}]`);
    }
    this.shape = [...shape];
    this.size = shape.reduce((a, b) => a * b, 1);
    this.buffer = buffer;
    this.offset = options.offset ?? 0;
    this.requiresGrad = options.requiresGrad ?? false;
    this.#owned = options.owned ?? false;
    openScopes.at(-1)?.add(this);
  }

  /**
   * An uninitialised tensor from the buffer pool (contents are whatever was there).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const y = Tensor.empty([1, 8, 4, 4], { label: "conv.out" });
   * console.log(y.size); // 128
   * y.release();
   * ```
   */
  static empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return Tensor.#pooled(shape, options, false);
  }

  // Uploads (queue writes before the next submit) must not take a buffer released since the last submit.
  static #pooled(shape: readonly number[], options: TensorOptions, upload: boolean): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const label = options.label ?? "tensor";
    const buffer = encoder.pool.acquire(currentDevice(), size * 4, label, { upload });
    return new Tensor(shape, buffer, { ...options, owned: true });
  }

  /**
   * A tensor of zeros (cleared on the GPU, in command order).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const h = Tensor.zeros([1, 2, 2, 2]);
   * console.log(await h.read()); // Float32Array(8) [0, 0, 0, 0, 0, 0, 0, 0]
   * h.release();
   * ```
   */
  static zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = Tensor.empty(shape, options);
    t.fill0();
    return t;
  }

  /**
   * A tensor holding `data` (copied now).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const x = Tensor.from(new Float32Array([1, 2, 3, 4]), [2, 2]);
   * console.log(x.shape, await x.read()); // [2, 2] Float32Array(4) [1, 2, 3, 4]
   * x.release();
   * ```
   */
  static from(
    data: ArrayLike<number>,
    shape: readonly number[],
    options: TensorOptions = {},
  ): Tensor {
    const t = Tensor.#pooled(shape, options, true);
    if (data.length !== t.size) {
      t.release();
      throw new RangeError(`Tensor.from: ${data.length} values for shape [${shape.join(", ")}]`);
    }
    // An upload buffer was released before the last submit: no encoded command reads it, no flush needed.
    t.#upload(data);
    return t;
  }

  /** Overwrites the contents from the CPU (a queue write, ordered before the next submit). */
  write(data: ArrayLike<number>): void {
    this.zeroed = false;
    if (data.length !== this.size) {
      throw new RangeError(
        `Tensor.write: ${data.length} values for shape [${this.shape.join(", ")}]`,
      );
    }
    // Pending commands may still read this buffer: submit them first so the write lands after.
    flush();
    this.#upload(data);
  }

  #upload(data: ArrayLike<number>): void {
    if (this.size === 0) return;
    const array = data instanceof Float32Array ? data : Float32Array.from(data);
    currentDevice().queue.writeBuffer(this.buffer, this.offset, array, 0, this.size);
  }

  /**
   * Copies `source` (same size) into this tensor, in command order: a buffer
   * copy, no kernel.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const [a, b] = [Tensor.from([1, 2], [2]), Tensor.zeros([2])];
   * b.copyFrom(a);
   * console.log(await b.read()); // Float32Array(2) [1, 2]
   * a.release();
   * b.release();
   * ```
   */
  copyFrom(source: Tensor): void {
    if (source.size !== this.size) {
      throw new RangeError(`Tensor.copyFrom: ${source.size} values into ${this.size}`);
    }
    this.zeroed = false;
    if (this.size === 0) return;
    encoder.commands(currentDevice()).copyBufferToBuffer(
      source.buffer,
      source.offset,
      this.buffer,
      this.offset,
      this.size * 4,
    );
  }

  /** Sets every element to 0, in command order. */
  fill0(): void {
    const bytes = Math.ceil(this.size) * 4;
    encoder.commands(currentDevice()).clearBuffer(
      this.buffer,
      this.offset,
      Math.ceil(bytes / 4) * 4,
    );
  }

  /** The storage binding of this tensor's span. */
  binding(): GPUBufferBinding {
    if (this.#released) throw new Error(`Tensor "${this.buffer.label}" used after release`);
    return { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.size * 4) };
  }

  /**
   * Submits pending work and copies the data back to the CPU.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const x = Tensor.from([1, 2], [2]);
   * console.log(await x.read()); // Float32Array(2) [1, 2]
   * x.release();
   * ```
   */
  async read(): Promise<Float32Array> {
    const device = currentDevice();
    const bytes = Math.max(4, this.size * 4);
    const staging = device.createBuffer({
      label: "webseg.readback",
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.commands(device).copyBufferToBuffer(this.buffer, this.offset, staging, 0, staging.size);
    flush();
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0, this.size * 4));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Whether {@linkcode Tensor.release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /** Returns the buffer to the pool (views: just marks released). Also releases the gradient. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const scope of openScopes) scope.delete(this);
    if (this.#owned) encoder.pool.release(this.buffer);
    if (this.grad && this.grad !== this) {
      this.grad.release();
      this.grad = null;
    }
  }

  /** Removes this tensor from every open scope, so it outlives them. */
  keep(): this {
    for (const scope of openScopes) scope.delete(this);
    return this;
  }
}
