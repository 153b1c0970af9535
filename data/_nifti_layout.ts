// This module is browser compatible.
/**
 * Where a NIfTI file's voxels lie (slice and volume sizes), reading a header
 * off a byte queue, and checking that the file can hold what the dims promise
 * before anything is allocated from them. Private to `data/`.
 *
 * @module
 */

import { InputError } from "./input_error.ts";
import { datatypeByCode, type DatatypeInfo } from "./_datatypes.ts";
import { type ByteQueue, type ByteReader, MAX_DEFLATE_RATIO } from "./_byte_queue.ts";
import {
  type NiftiHeader,
  niftiShape,
  parseNiftiHeader,
  sniffNiftiHeader,
} from "./nifti_header.ts";

/** Sizes derived from a validated header. */
export interface NiftiLayout {
  shape: number[];
  nx: number;
  ny: number;
  nz: number;
  /** Number of 3-D volumes (product of dims 4..7). */
  volumes: number;
  sliceVoxels: number;
  sliceBytes: number;
  volumeBytes: number;
  /** Bytes of voxel data the dims promise. */
  dataBytes: number;
  type: DatatypeInfo;
  littleEndian: boolean;
  /** Scaling to apply, or undefined when slope is 0 or NaN (no scaling). */
  scaling?: { slope: number; inter: number };
}

/** Computes the layout of a header that `parseNiftiHeader` accepted. */
export function niftiLayout(header: NiftiHeader): NiftiLayout {
  const shape = niftiShape(header);
  const type = datatypeByCode(header.datatype)!;
  const [nx, ny = 1, nz = 1] = shape;
  const volumes = shape.slice(3).reduce((a, b) => a * b, 1);
  const sliceVoxels = nx * ny;
  const slope = header.sclSlope;
  return {
    shape,
    nx,
    ny,
    nz,
    volumes,
    sliceVoxels,
    sliceBytes: sliceVoxels * type.bytes,
    volumeBytes: sliceVoxels * nz * type.bytes,
    dataBytes: sliceVoxels * nz * volumes * type.bytes,
    type,
    littleEndian: header.littleEndian,
    scaling: slope !== 0 && Number.isFinite(slope) ? { slope, inter: header.sclInter } : undefined,
  };
}

/** "50×60×70 int32". */
export function describeDims(layout: NiftiLayout): string {
  return `${layout.shape.join("×")} ${layout.type.name}`;
}

/** Human byte counts: "840 bytes", "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const units = ["kB", "MB", "GB", "TB", "PB", "EB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * Rejects dims that promise more data than the file can hold: exactly for a
 * plain file, by deflate's largest ratio for gzip (the rest is found while reading).
 */
export function checkDataFits(
  path: string,
  header: NiftiHeader,
  layout: NiftiLayout,
  file: { size: number; gzip: boolean },
): void {
  const need = header.voxOffset + layout.dataBytes;
  if (!file.gzip) {
    if (header.voxOffset > file.size) {
      throw new InputError(
        path,
        `vox_offset ${header.voxOffset} is past the end of the file (${file.size} bytes)`,
      );
    }
    if (need > file.size) {
      throw new InputError(
        path,
        `dims ${describeDims(layout)} need ${formatBytes(layout.dataBytes)} of data after ` +
          `vox_offset ${header.voxOffset}, but the file holds ${
            formatBytes(file.size - header.voxOffset)
          }`,
      );
    }
  } else if (need > file.size * MAX_DEFLATE_RATIO + 1024) {
    throw new InputError(
      path,
      `dims ${describeDims(layout)} promise ${formatBytes(layout.dataBytes)} of data, more than ` +
        `a ${formatBytes(file.size)} gzip file can hold`,
    );
  }
}

/** The error for data that ends before the dims say it should. */
export function dataEndsEarly(path: string, layout: NiftiLayout, got: number): InputError {
  return new InputError(
    path,
    `data ends after ${formatBytes(got)}, but dims ${describeDims(layout)} need ${
      formatBytes(layout.dataBytes)
    }`,
  );
}

function voxOffsetPastEnd(path: string, header: NiftiHeader, size: number): InputError {
  return new InputError(
    path,
    `vox_offset ${header.voxOffset} is past the end of the data (${size} bytes)`,
  );
}

/** Reads and validates the header from a queue holding the whole file, leaving it at the data. */
export function readHeaderSync(queue: ByteQueue): NiftiHeader {
  const path = queue.name;
  queue.fillAll(4);
  const { size } = sniffNiftiHeader(queue.peek(Math.min(4, queue.available)), path);
  queue.fillAll(size + 4);
  const header = parseNiftiHeader(queue.peek(Math.min(size + 4, queue.available)), { path });
  if (!queue.fillAll(header.voxOffset)) throw voxOffsetPastEnd(path, header, queue.produced);
  queue.drop(header.voxOffset);
  return header;
}

/** Reads and validates the header from a streaming reader; `checkFits` runs before skipping to the data. */
export async function readHeaderAsync(
  reader: ByteReader,
  checkFits: (header: NiftiHeader, layout: NiftiLayout) => void,
): Promise<NiftiHeader> {
  const queue = reader.queue;
  const path = queue.name;
  await reader.fill(4);
  const { size } = sniffNiftiHeader(queue.peek(Math.min(4, queue.available)), path);
  await reader.fill(size + 4);
  const header = parseNiftiHeader(queue.peek(Math.min(size + 4, queue.available)), { path });
  checkFits(header, niftiLayout(header));
  if (!(await reader.skip(header.voxOffset))) throw voxOffsetPastEnd(path, header, queue.produced);
  return header;
}
