// This module is browser compatible.
/**
 * The pipeline's sink: label slices encoded as a uint8 NIfTI with the
 * FLAIR's geometry and written to a byte stream (`io` makes that an atomic
 * file; a page can collect it in memory).
 *
 * @module
 */

import type { NiftiHeader } from "../data/nifti_header.ts";
import { NiftiEncoder } from "../data/nifti_encoder.ts";
import type { LabelSlice, StageTimes } from "./records.ts";

/** Options of {@linkcode NiftiSink}. */
export interface NiftiSinkOptions {
  /** Volume size [x, y, z]. */
  shape: readonly number[];
  /** Header whose pixdim, qform and sform the output copies (the FLAIR's). */
  reference?: NiftiHeader;
  /** Voxel-to-world affine when there is no reference header (MetaImage input). */
  affine?: number[][];
  /** Gzip the bytes (default true: `.nii.gz`). */
  gzip?: boolean;
  /** Names the output in error messages. */
  name?: string;
  /**
   * Called once every slice has arrived with the whole label volume (x
   * fastest), to change in place before it is encoded (postprocessing). The
   * volume (one byte a voxel) is then held until the stream closes.
   */
  finish?: (volume: Uint8Array) => void;
  /** Called after each slice is taken, with the number taken so far. */
  onSlice?: (written: number) => void;
  /** Time spent encoding and writing is added to `times.write`. */
  times?: StageTimes;
}

/**
 * A `WritableStream` of {@linkcode LabelSlice}s (in depth order) that
 * writes a uint8 NIfTI file's bytes to `output`. A failure or an abort
 * (e.g. through `pipeTo`'s signal) aborts `output`, so `io`'s atomic file
 * is removed.
 *
 * @example
 * ```ts
 * import { NiftiSink } from "./nifti_sink.ts";
 * import { parseNifti } from "../data/nifti_reader.ts";
 * const collected = new TransformStream<Uint8Array, Uint8Array>();
 * const bytes = new Response(collected.readable).arrayBuffer();
 * const writer = new NiftiSink(collected.writable, { shape: [4, 3, 2] }).getWriter();
 * await writer.write({ z: 0, labels: new Uint8Array(12) });
 * await writer.write({ z: 1, labels: new Uint8Array(12).fill(2) });
 * await writer.close();
 * const { shape, header, data } = parseNifti(new Uint8Array(await bytes));
 * console.log(shape, header.datatypeName, data[12]); // [4, 3, 2] "uint8" 2
 * ```
 */
export class NiftiSink extends WritableStream<LabelSlice> {
  #written = 0;

  /** Makes a sink writing to `output`. */
  constructor(output: WritableStream<Uint8Array>, options: NiftiSinkOptions) {
    const name = options.name ?? "<labels>";
    const encoder = new NiftiEncoder({
      shape: [...options.shape],
      datatype: "uint8",
      reference: options.reference,
      affine: options.affine,
      gzip: options.gzip ?? true,
      name,
    });
    const piped = encoder.readable.pipeTo(output);
    piped.catch(() => {}); // reported through the writer's calls
    const inner = encoder.writable.getWriter();
    const area = options.shape[0] * options.shape[1];
    const depth = options.shape[2] ?? 1;
    const held = options.finish ? new Uint8Array(area * depth) : null;
    const fail = async (reason: unknown) => {
      await inner.abort(reason).catch(() => {});
      await piped.catch(() => {});
    };
    // Times the work; on failure aborts the output (and waits for it) before rethrowing.
    const guarded = async (work: () => Promise<void>) => {
      const t0 = performance.now();
      try {
        await work();
      } catch (error) {
        await fail(error);
        throw error;
      } finally {
        if (options.times) options.times.write += performance.now() - t0;
      }
    };
    super({
      write: (slice) =>
        guarded(async () => {
          if (slice.z !== this.#written) {
            throw new RangeError(`${name}: slice ${slice.z} arrived when ${this.#written} was due`);
          }
          if (held && slice.labels.length !== area) {
            throw new RangeError(
              `${name}: slice ${slice.z} has ${slice.labels.length} labels, expected ${area}`,
            );
          }
          if (held) held.set(slice.labels, slice.z * area);
          else await inner.write(slice.labels);
          this.#written++;
          options.onSlice?.(this.#written);
        }),
      close: () =>
        guarded(async () => {
          if (held) {
            if (this.#written !== depth) {
              throw new RangeError(`${name}: got ${this.#written} of ${depth} slices`);
            }
            options.finish!(held);
            for (let z = 0; z < depth; z++) {
              await inner.write(held.subarray(z * area, (z + 1) * area));
            }
          }
          await inner.close();
          await piped;
        }),
      abort: (reason) => fail(reason),
    });
  }

  /** Number of slices taken so far. */
  get written(): number {
    return this.#written;
  }
}
