// This module is browser compatible.
/**
 * Reuses GPU buffers by exact byte size. A buffer released while commands are
 * still being encoded may be handed out again at once to be written by later
 * GPU commands of the same command buffer (commands run in encoding order), but
 * never for a queue write (`queue.writeBuffer` runs before the whole submit, so
 * it would overwrite data earlier encoded commands still read): uploads take
 * only buffers released before the last submit.
 *
 * @module
 */

// UNIFORM too: conv kernels bind packed weight slices as uniform buffers (scalar loads on llvmpipe).
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** Options of {@linkcode BufferPool.acquire}. */
export interface AcquireOptions {
  /**
   * The buffer will be filled by a queue write before the next submit: only buffers released
   * before the last submit (or fresh ones) qualify.
   */
  upload?: boolean;
}

function take(lists: Map<number, GPUBuffer[]>, size: number): GPUBuffer | undefined {
  return lists.get(size)?.pop();
}

function put(lists: Map<number, GPUBuffer[]>, buffer: GPUBuffer): void {
  const list = lists.get(buffer.size);
  if (list) list.push(buffer);
  else lists.set(buffer.size, [buffer]);
}

/** A pool of storage buffers keyed by byte size, and of the conv kernels' input textures by size. */
export class BufferPool {
  // Released before the last submit: safe for anything.
  #free = new Map<number, GPUBuffer[]>();
  // Released since the last submit: only for buffers written by later GPU commands.
  #recent = new Map<number, GPUBuffer[]>();
  #bytesLive = 0;
  #bytesPooled = 0;
  // Free textures by "w×h×d": only GPU commands write them, so reusable as soon as released.
  #textures = new Map<string, GPUTexture[]>();

  /** Bytes held by buffers handed out and not yet released. */
  get bytesLive(): number {
    return this.#bytesLive;
  }

  /** Bytes held by free buffers waiting for reuse. */
  get bytesPooled(): number {
    return this.#bytesPooled;
  }

  /**
   * A buffer of at least `bytes` bytes (rounded up to 16), from the pool when one is free. Its
   * contents are undefined; unless `options.upload`, it must be written by GPU commands encoded
   * after this call (not by a queue write before the next submit).
   */
  acquire(
    device: GPUDevice,
    bytes: number,
    label: string,
    options: AcquireOptions = {},
  ): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    // The most recently released buffer first: its memory is likely still in cache.
    const reused = (options.upload ? undefined : take(this.#recent, size)) ??
      take(this.#free, size);
    this.#bytesLive += size;
    if (reused) {
      this.#bytesPooled -= size;
      reused.label = label;
      return reused;
    }
    return device.createBuffer({ label, size, usage: USAGE });
  }

  /**
   * Gives a buffer back: reusable at once for GPU-written outputs, for uploads after the next
   * {@linkcode BufferPool.recycle}.
   */
  release(buffer: GPUBuffer): void {
    this.#bytesLive -= buffer.size;
    this.#bytesPooled += buffer.size;
    put(this.#recent, buffer);
  }

  /** Called right after a submit: buffers released before it become reusable for uploads too. */
  recycle(): void {
    for (const list of this.#recent.values()) for (const b of list) put(this.#free, b);
    this.#recent.clear();
  }

  /**
   * An rgba32float 3-D texture of `size` (bound for reads and storage writes), from the pool when
   * one is free; like a buffer, it must be written by GPU commands encoded after this call.
   */
  acquireTexture(device: GPUDevice, size: [number, number, number], label: string): GPUTexture {
    const bytes = size[0] * size[1] * size[2] * 16;
    this.#bytesLive += bytes;
    const reused = this.#textures.get(size.join("×"))?.pop();
    if (reused) {
      this.#bytesPooled -= bytes;
      return reused;
    }
    return device.createTexture({
      label,
      size,
      dimension: "3d",
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING,
    });
  }

  /** Gives a texture back: reusable at once by later GPU commands. */
  releaseTexture(texture: GPUTexture): void {
    const bytes = texture.width * texture.height * texture.depthOrArrayLayers * 16;
    this.#bytesLive -= bytes;
    this.#bytesPooled += bytes;
    const key = [texture.width, texture.height, texture.depthOrArrayLayers].join("×");
    const list = this.#textures.get(key);
    if (list) list.push(texture);
    else this.#textures.set(key, [texture]);
  }

  /**
   * Destroys every free buffer released before the last submit, and every free texture (e.g.
   * between benchmark configurations).
   */
  trim(): void {
    for (const list of this.#textures.values()) {
      for (const t of list) {
        this.#bytesPooled -= t.width * t.height * t.depthOrArrayLayers * 16;
        t.destroy();
      }
    }
    this.#textures.clear();
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.#bytesPooled -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }
}
