// This module is browser compatible.
// The four flat GPU buffers behind ParameterStore (private to gpu/): values, gradients and Adam's
// two moments, allocated together and read back through a staging copy.
import { currentDevice } from "./device.ts";
import { encoder, flush } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

/** The flat buffers, in binding order of the optimizer kernels. */
export const KINDS = ["param", "grad", "m", "v"] as const;

/** One of the flat buffers. */
export type Kind = (typeof KINDS)[number];

/** The four buffers by kind. */
export type FlatBuffers = Record<Kind, GPUBuffer>;

/** Where one named parameter lives: its view and its offset in floats. */
export interface FlatEntry {
  /** The parameter's view into the flat value buffer. */
  tensor: Tensor;
  /** Offset in floats. */
  start: number;
}

/**
 * Four zero-filled storage buffers of `capacity` floats each (so padding and moments start at 0).
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { createFlatBuffers } from "./_flat_buffers.ts";
 * await getDevice();
 * const buffers = createFlatBuffers(1024);
 * console.log(buffers.param.size, buffers.v.size); // 4096 4096
 * for (const b of Object.values(buffers)) b.destroy();
 * ```
 */
export function createFlatBuffers(capacity: number): FlatBuffers {
  const device = currentDevice();
  const make = (kind: string) =>
    device.createBuffer({
      label: `params.${kind}`,
      size: capacity * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  // New buffers are zero-filled, so padding and moments start at 0.
  return { param: make("param"), grad: make("grad"), m: make("m"), v: make("v") };
}

/**
 * Bindings covering the first `floats` floats of each buffer (at least 16 bytes, as WebGPU needs).
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { createFlatBuffers, flatBindings } from "./_flat_buffers.ts";
 * await getDevice();
 * const buffers = createFlatBuffers(64);
 * const { param, grad } = flatBindings(buffers, 2);
 * console.log(param.size, grad.offset); // 16 0
 * for (const b of Object.values(buffers)) b.destroy();
 * ```
 */
export function flatBindings(buffers: FlatBuffers, floats: number): Record<Kind, GPUBufferBinding> {
  const b = buffers;
  const size = Math.max(16, floats * 4);
  return {
    param: { buffer: b.param, offset: 0, size },
    grad: { buffer: b.grad, offset: 0, size },
    m: { buffer: b.m, offset: 0, size },
    v: { buffer: b.v, offset: 0, size },
  };
}

/**
 * Copies the first `options.floats` floats of `buffer` to the CPU (submitting the work encoded so far)
 * and hands them to `read` while mapped; `read` must copy what it keeps.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { createFlatBuffers, readFlat } from "./_flat_buffers.ts";
 * await getDevice();
 * const buffers = createFlatBuffers(64);
 * const first = await readFlat(buffers.param, (f) => f[0], { floats: 64, label: "readback" });
 * console.log(first); // 0
 * for (const b of Object.values(buffers)) b.destroy();
 * ```
 */
export async function readFlat<T>(
  buffer: GPUBuffer,
  read: (flat: Float32Array) => T,
  options: { floats: number; label: string },
): Promise<T> {
  const device = currentDevice();
  const staging = device.createBuffer({
    label: options.label,
    size: options.floats * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  encoder.commands(device).copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
  flush();
  await staging.mapAsync(GPUMapMode.READ);
  const result = read(new Float32Array(staging.getMappedRange()));
  staging.unmap();
  staging.destroy();
  return result;
}

/**
 * Lays out `values` (by parameter name) as one flat array of `floats`; throws, naming the
 * parameter, on a missing name or a size mismatch (extra names are ignored).
 *
 * @example
 * ```ts
 * import { flatten } from "./_flat_buffers.ts";
 * const flat = flatten(new Map(), new Map(), { floats: 64, kind: "m" });
 * console.log(flat.length); // 64
 * ```
 */
export function flatten(
  entries: ReadonlyMap<string, FlatEntry>,
  values: Map<string, ArrayLike<number>>,
  options: { floats: number; kind: Kind },
): Float32Array {
  const { kind } = options;
  const flat = new Float32Array(options.floats);
  for (const [name, e] of entries) {
    const v = values.get(name);
    if (!v) throw new RangeError(`ParameterStore: no values for "${name}" (${kind})`);
    if (v.length !== e.tensor.size) {
      throw new RangeError(
        `ParameterStore: "${name}" (${kind}) has ${v.length} values, expected ${e.tensor.size} ` +
          `for shape [${e.tensor.shape}]`,
      );
    }
    flat.set(v, e.start);
  }
  return flat;
}
