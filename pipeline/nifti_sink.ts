/**
 * The pipeline's sink: label slices streamed into a gzipped uint8 NIfTI
 * with the FLAIR's geometry, written to a temporary name and renamed into
 * place when complete, so an interruption never leaves a partial output.
 *
 * @module
 */

import type { NiftiHeader } from "../data/nifti_header.ts";
import { openNiftiSlices } from "../data/nifti_slices.ts";
import { createNiftiWriter } from "../data/nifti_writer.ts";
import type { Relabel } from "./label_stage.ts";
import type { LabelSlice, StageTimes } from "./records.ts";

/** Options of {@linkcode NiftiSink}. */
export interface NiftiSinkOptions {
  /** Volume size [x, y, z]. */
  shape: readonly number[];
  /** Header whose pixdim, qform and sform the output copies (the FLAIR's). */
  reference?: NiftiHeader;
  /** Voxel-to-world affine when there is no reference header (MetaImage input). */
  affine?: number[][];
  /**
   * Asked once every slice has arrived: voxels to change before the file is
   * final (the small-enhancing-tumour rule). The slices then go to a hidden
   * first-pass file, and only the rare volumes needing a change are rewritten.
   */
  relabel?: () => Relabel | null;
  /** Called after each slice is written, with the number written so far. */
  onSlice?: (written: number) => void;
  /** Time spent encoding and writing is added to `times.write`. */
  times?: StageTimes;
}

const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : ".");
const basename = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** A uint8 label volume writer with the sink's shape and geometry. */
function labelWriter(
  path: string,
  options: NiftiSinkOptions,
): WritableStreamDefaultWriter<ArrayLike<number>> {
  return createNiftiWriter(path, {
    shape: [...options.shape],
    datatype: "uint8",
    reference: options.reference,
    affine: options.affine,
  }).getWriter();
}

async function rewrite(
  from: string,
  to: string,
  fix: Relabel,
  options: NiftiSinkOptions,
): Promise<void> {
  const reader = await openNiftiSlices(from);
  const writer = labelWriter(to, options);
  const area = options.shape[0] * options.shape[1];
  const indices = [...fix.indices].sort((a, b) => a - b);
  let at = 0;
  try {
    let z = 0;
    for await (const slice of reader.slices()) {
      for (; at < indices.length && indices[at] < (z + 1) * area; at++) {
        const i = indices[at] - z * area;
        if (slice[i] === fix.from) slice[i] = fix.to;
      }
      await writer.write(slice);
      z++;
    }
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  } finally {
    await reader.close();
  }
}

/**
 * A `WritableStream` of {@linkcode LabelSlice}s (in depth order) that writes
 * `path` as uint8 NIfTI (gzipped when it ends in `.gz`). Aborting it (e.g.
 * through `pipeTo`'s signal) deletes every temporary file.
 *
 * @example
 * ```ts
 * import { NiftiSink } from "./nifti_sink.ts";
 * import { readNiftiHeader } from "../data/nifti_reader.ts";
 * const reference = await readNiftiHeader("case/x_flair.nii.gz");
 * await labels.pipeTo(new NiftiSink("out/x.nii.gz", { shape: [240, 240, 155], reference }));
 * ```
 */
export class NiftiSink extends WritableStream<LabelSlice> {
  #written = 0;

  /** Makes a sink writing `path`. */
  constructor(path: string, options: NiftiSinkOptions) {
    const firstPass = options.relabel
      ? `${dirname(path)}/.${basename(path)}.pass1-${crypto.randomUUID().slice(0, 8)}` +
        (/\.gz$/i.test(path) ? ".nii.gz" : ".nii")
      : path;
    const inner = labelWriter(firstPass, options);
    const timed = async (work: () => Promise<void>) => {
      const t0 = performance.now();
      try {
        await work();
      } finally {
        if (options.times) options.times.write += performance.now() - t0;
      }
    };
    const removeFirstPass = async () => {
      if (firstPass !== path) await Deno.remove(firstPass).catch(() => {});
    };
    super({
      write: (slice) =>
        timed(async () => {
          if (slice.z !== this.#written) {
            throw new RangeError(`${path}: slice ${slice.z} arrived when ${this.#written} was due`);
          }
          await inner.write(slice.labels);
          this.#written++;
          options.onSlice?.(this.#written);
        }),
      close: () =>
        timed(async () => {
          await inner.close();
          if (firstPass === path) return;
          try {
            const fix = options.relabel!();
            if (fix) await rewrite(firstPass, path, fix, options);
            else await Deno.rename(firstPass, path);
          } finally {
            await removeFirstPass();
          }
        }),
      abort: async (reason) => {
        await inner.abort(reason).catch(() => {});
        await removeFirstPass();
      },
    });
  }

  /** Number of slices written so far. */
  get written(): number {
    return this.#written;
  }
}
