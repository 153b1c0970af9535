/**
 * Reuses GPU buffers by exact byte size. Buffers released while commands are
 * still being encoded only become reusable after the next submit, so a pooled
 * buffer is never handed out while unsubmitted work may still read it.
 *
 * @module
 */

// UNIFORM too: conv kernels bind packed weight slices as uniform buffers (scalar loads on llvmpipe).
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** A pool of storage buffers keyed by byte size. */
export class BufferPool {
  #free = new Map<number, GPUBuffer[]>();
  #pending: GPUBuffer[] = [];
  #bytesLive = 0;
  #bytesPooled = 0;

  /** Bytes held by buffers handed out and not yet released. */
  get bytesLive(): number {
    return this.#bytesLive;
  }

  /** Bytes held by free buffers waiting for reuse. */
  get bytesPooled(): number {
    return this.#bytesPooled;
  }

  /** A buffer of at least `bytes` bytes (rounded up to 16), from the pool when one is free. */
  acquire(device: GPUDevice, bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const list = this.#free.get(size);
    const reused = list?.pop();
    this.#bytesLive += size;
    if (reused) {
      this.#bytesPooled -= size;
      reused.label = label;
      return reused;
    }
    return device.createBuffer({ label, size, usage: USAGE });
  }

  /** Gives a buffer back; it is reusable after the next {@linkcode BufferPool.recycle}. */
  release(buffer: GPUBuffer): void {
    this.#bytesLive -= buffer.size;
    this.#pending.push(buffer);
  }

  /** Called right after a submit: buffers released before it become reusable. */
  recycle(): void {
    for (const buffer of this.#pending) {
      const list = this.#free.get(buffer.size) ?? [];
      list.push(buffer);
      this.#free.set(buffer.size, list);
      this.#bytesPooled += buffer.size;
    }
    this.#pending = [];
  }

  /** Destroys every free buffer (e.g. between benchmark configurations). */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#bytesPooled = 0;
  }
}
