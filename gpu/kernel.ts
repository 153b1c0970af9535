// This module is browser compatible.
/**
 * The one way to run a kernel: {@linkcode dispatch} appends a compute dispatch
 * to the command encoder being built; {@linkcode flush} submits it. Work for a
 * whole training step or inference window thus goes into one command buffer.
 *
 * Kernel conventions: when `params` are given they are bound at `@binding(0)`
 * as a uniform struct of 32-bit words (use {@linkcode f32Bits} for floats);
 * storage buffers follow at bindings 1, 2, ... in the order given. Without
 * params, storage buffers start at binding 0.
 *
 * @module
 */

import { currentDevice } from "./device.ts";
import { BufferPool } from "./buffer_pool.ts";

/** A WGSL compute kernel: a label and the source of its `main` entry point. */
export interface Kernel {
  /** Label for the pipeline and for error messages, e.g. `"conv2d.forward"`. */
  readonly name: string;
  /** WGSL source holding `@compute fn main`. */
  readonly code: string;
}

/** Something that can be bound: a storage (or uniform) buffer, or a texture view. */
export type Binding =
  | GPUBuffer
  | GPUBufferBinding
  | GPUTextureView
  | { binding(): GPUBufferBinding };

/** Options of {@linkcode dispatch}. */
export interface DispatchOptions {
  /** Workgroup counts: a number for x only, or [x, y, z]. */
  workgroups: number | readonly number[];
  /** Uniform words bound at binding 0 (at most 64 words). */
  params?: ArrayLike<number>;
}

const UNIFORM_SLOT = 256;
const UNIFORM_CHUNK = 65536;

/** Encoding state shared by all kernels of the process. */
class Encoder {
  pool = new BufferPool();
  #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #chunks: { buffer: GPUBuffer; data: Uint32Array; used: number }[] = [];
  #spare: GPUBuffer[] = [];
  #dispatches = 0;
  #submits = 0;

  /** Dispatches encoded since the process started (for tests and benchmarks). */
  get dispatchCount(): number {
    return this.#dispatches;
  }

  /** Command buffers submitted since the process started (for tests and benchmarks). */
  get submitCount(): number {
    return this.#submits;
  }

  pipeline(device: GPUDevice, kernel: Kernel): GPUComputePipeline {
    let p = this.#pipelines.get(kernel.code);
    if (!p) {
      const module = device.createShaderModule({ label: kernel.name, code: kernel.code });
      p = device.createComputePipeline({
        label: kernel.name,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(kernel.code, p);
    }
    return p;
  }

  pass(device: GPUDevice): GPUComputePassEncoder {
    if (!this.#encoder) this.#encoder = device.createCommandEncoder({ label: "webseg.step" });
    if (!this.#pass) this.#pass = this.#encoder.beginComputePass({ label: "webseg.pass" });
    return this.#pass;
  }

  /** The command encoder with no open pass, for copies and clears. */
  commands(device: GPUDevice): GPUCommandEncoder {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    if (!this.#encoder) this.#encoder = device.createCommandEncoder({ label: "webseg.step" });
    return this.#encoder;
  }

  uniform(device: GPUDevice, words: ArrayLike<number>): GPUBufferBinding {
    if (words.length * 4 > UNIFORM_SLOT) throw new RangeError("kernel params exceed 64 words");
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used + UNIFORM_SLOT > UNIFORM_CHUNK) {
      const buffer = this.#spare.pop() ?? device.createBuffer({
        label: "webseg.params",
        size: UNIFORM_CHUNK,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      chunk = { buffer, data: new Uint32Array(UNIFORM_CHUNK / 4), used: 0 };
      this.#chunks.push(chunk);
    }
    const offset = chunk.used;
    for (let i = 0; i < words.length; i++) chunk.data[offset / 4 + i] = words[i] >>> 0;
    chunk.used += UNIFORM_SLOT;
    return { buffer: chunk.buffer, offset, size: Math.max(16, Math.ceil(words.length / 4) * 16) };
  }

  count(): void {
    this.#dispatches++;
  }

  flush(device: GPUDevice): void {
    if (!this.#encoder) return;
    if (this.#pass) this.#pass.end();
    // Queue writes run before the submit that follows them, and after earlier submits.
    for (const c of this.#chunks) device.queue.writeBuffer(c.buffer, 0, c.data, 0, c.used / 4);
    device.queue.submit([this.#encoder.finish()]);
    this.#submits++;
    for (const c of this.#chunks) this.#spare.push(c.buffer);
    this.#chunks = [];
    this.#encoder = null;
    this.#pass = null;
    this.pool.recycle();
  }
}

/** The process-wide encoder. */
export const encoder: Encoder = new Encoder();

function toBinding(b: Binding): GPUBindingResource {
  if (b instanceof GPUTextureView) return b;
  if ("binding" in b && typeof b.binding === "function") return b.binding();
  if ("buffer" in b) return b as GPUBufferBinding;
  return { buffer: b as GPUBuffer };
}

/**
 * Encodes one dispatch of `kernel` over `bindings` (storage buffers, in
 * binding order). Nothing runs until {@linkcode flush} (which reading a tensor
 * does for you).
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { dispatch, gridFor, LINEAR_INDEX } from "./kernel.ts";
 * import { Tensor } from "./tensor.ts";
 * await getDevice();
 * const kernel = {
 *   name: "double",
 *   code: `struct P { n: u32 }
 * @group(0) @binding(0) var<uniform> p: P;
 * @group(0) @binding(1) var<storage, read> x: array<f32>;
 * @group(0) @binding(2) var<storage, read_write> y: array<f32>;
 * @compute @workgroup_size(64)
 * fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
 *   let i = ${LINEAR_INDEX};
 *   if (i < p.n) { y[i] = 2.0 * x[i]; }
 * }`,
 * };
 * const x = Tensor.from([1, 2, 3], [3]);
 * const y = Tensor.empty([3]);
 * dispatch(kernel, [x, y], { params: [3], workgroups: gridFor(3) });
 * console.log(await y.read()); // Float32Array(3) [2, 4, 6]
 * x.release();
 * y.release();
 * ```
 */
export function dispatch(
  kernel: Kernel,
  bindings: readonly Binding[],
  options: DispatchOptions,
): void {
  const device = currentDevice();
  const pipeline = encoder.pipeline(device, kernel);
  const entries: GPUBindGroupEntry[] = [];
  let index = 0;
  if (options.params) {
    entries.push({ binding: index++, resource: encoder.uniform(device, options.params) });
  }
  for (const b of bindings) entries.push({ binding: index++, resource: toBinding(b) });
  const group = device.createBindGroup({
    label: kernel.name,
    layout: pipeline.getBindGroupLayout(0),
    entries,
  });
  const pass = encoder.pass(device);
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  const wg = typeof options.workgroups === "number" ? [options.workgroups] : options.workgroups;
  if (wg.some((n) => n === 0)) return;
  pass.dispatchWorkgroups(wg[0], wg[1] ?? 1, wg[2] ?? 1);
  encoder.count();
}

/**
 * Submits everything encoded so far as one command buffer.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { encoder, flush } from "./kernel.ts";
 * import { Tensor } from "./tensor.ts";
 * await getDevice();
 * const x = Tensor.zeros([4]); // a clear, encoded but not yet submitted
 * const before = encoder.submitCount;
 * flush();
 * console.log(encoder.submitCount - before); // 1
 * x.release();
 * ```
 */
export function flush(): void {
  encoder.flush(currentDevice());
}

/**
 * Workgroup counts covering `n` invocations of a 1-D kernel with workgroups of
 * `size`, spread over y when x would exceed the 65535 limit. Kernels index
 * with `gid.x + gid.y * nwg.x * size` (see {@linkcode LINEAR_INDEX}).
 *
 * @example
 * ```ts
 * import { gridFor } from "./kernel.ts";
 * console.log(gridFor(100), gridFor(10_000_000)); // [2, 1] [52084, 3]
 * ```
 */
export function gridFor(n: number, size = 64): [number, number] {
  const groups = Math.ceil(n / size);
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** WGSL snippet: the linear invocation index for kernels launched with {@linkcode gridFor} (workgroup size 64). */
export const LINEAR_INDEX = "gid.x + gid.y * nwg.x * 64u";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * The bit pattern of a float as a uniform word (read back with `bitcast<f32>`).
 *
 * @example
 * ```ts
 * import { f32Bits } from "./kernel.ts";
 * console.log(f32Bits(1).toString(16)); // 3f800000
 * ```
 */
export function f32Bits(value: number): number {
  F32[0] = value;
  return U32[0];
}
