/**
 * Test fixtures for the NIfTI tests: the shared reference files, NIfTI bytes
 * built with nifti-reader-js's own serialiser (an encoder independent of
 * ours), gzip, temporary folders and running the CLI.
 *
 * @module
 */

import { NIFTI1, NIFTI2 } from "nifti-reader-js";
import { gzipSync } from "fflate";

/** The shared folder of real NIfTI files and nibabel's reference readings. */
export const NIFTI_DIR: string = new URL("../../shared/nifti/", import.meta.url).pathname;
/** Malformed files that every reader must reject. */
export const BAD_DIR: string = `${NIFTI_DIR}bad/`;
/** The project root, for running `cli.ts`. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** One file's entry in reference.json (the fields the tests use). */
export interface ReferenceEntry {
  file: string;
  gz: boolean;
  nifti_version: 1 | 2;
  endianness: "little" | "big";
  dim: number[];
  shape: number[];
  datatype: number;
  datatype_name: string;
  bitpix: number;
  pixdim: number[];
  scl_slope: number;
  scl_inter: number;
  qform_code: number;
  sform_code: number;
  vox_offset: number;
  xyzt_units: number;
  n_extensions_nibabel: number;
  affine: number[][];
  qform_affine: number[][];
  sform_affine: number[][];
  sum: number;
  min: number;
  max: number;
  mean: number;
  n_nonfinite: number;
  n_voxels: number;
  voxel_indices: number[][];
  voxel_values: number[];
}

/** Every entry of reference.json. */
export function referenceEntries(): ReferenceEntry[] {
  return JSON.parse(Deno.readTextFileSync(`${NIFTI_DIR}reference.json`)).files;
}

/** Names of the files in bad/ (bad.json excluded). */
export function badFiles(): string[] {
  return [...Deno.readDirSync(BAD_DIR)].map((e) => e.name).filter((n) => n !== "bad.json").sort();
}

const SETTERS: Record<number, [number, (v: DataView, at: number, x: number, le: boolean) => void]> =
  {
    2: [1, (v, at, x) => v.setUint8(at, x)],
    256: [1, (v, at, x) => v.setInt8(at, x)],
    4: [2, (v, at, x, le) => v.setInt16(at, x, le)],
    512: [2, (v, at, x, le) => v.setUint16(at, x, le)],
    8: [4, (v, at, x, le) => v.setInt32(at, x, le)],
    768: [4, (v, at, x, le) => v.setUint32(at, x, le)],
    16: [4, (v, at, x, le) => v.setFloat32(at, x, le)],
    64: [8, (v, at, x, le) => v.setFloat64(at, x, le)],
  };

/** What `buildNifti` writes. */
export interface FixtureSpec {
  version?: 1 | 2;
  littleEndian?: boolean;
  /** Datatype code (default 4, int16). */
  datatype?: number;
  shape: number[];
  /** Stored (unscaled) values, x fastest; default 0, 1, 2, ... */
  values?: ArrayLike<number>;
  pixdim?: number[];
  slope?: number;
  inter?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: number[][];
  xyztUnits?: number;
  /** Bytes of header extension to insert (a multiple of 16), pushing vox_offset back. */
  extensionBytes?: number;
}

/** NIfTI file bytes encoded with nifti-reader-js's serialiser and DataView setters. */
export function buildNifti(spec: FixtureSpec): Uint8Array {
  const version = spec.version ?? 1;
  const le = spec.littleEndian ?? true;
  const code = spec.datatype ?? 4;
  const [size, set] = SETTERS[code] ?? [2, SETTERS[4][1]];
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const ext = spec.extensionBytes ?? 0;
  const base = version === 1 ? 352 : 544;
  const h = version === 1 ? new NIFTI1() : new NIFTI2();
  h.littleEndian = le;
  h.magic = version === 1 ? "n+1" : "n+2\0\r\n\x1a\n";
  h.dims = [spec.shape.length, ...spec.shape, ...Array(7 - spec.shape.length).fill(1)];
  h.datatypeCode = code;
  h.numBitsPerVoxel = size * 8;
  h.pixDims = spec.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1];
  h.vox_offset = base + ext;
  h.scl_slope = spec.slope ?? 1;
  h.scl_inter = spec.inter ?? 0;
  h.qform_code = spec.qformCode ?? 0;
  h.sform_code = spec.sformCode ?? 0;
  [h.quatern_b, h.quatern_c, h.quatern_d] = spec.quatern ?? [0, 0, 0];
  [h.qoffset_x, h.qoffset_y, h.qoffset_z] = spec.qoffset ?? [0, 0, 0];
  h.affine = [...(spec.srow ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]), [0, 0, 0, 1]];
  h.xyzt_units = spec.xyztUnits ?? 10;
  const header = new Uint8Array(h.toArrayBuffer());
  const out = new Uint8Array(base + ext + count * size);
  out.set(header.subarray(0, base));
  if (ext > 0) {
    const view = new DataView(out.buffer);
    out[base - 4] = 1;
    view.setInt32(base, ext, le);
    view.setInt32(base + 4, 6, le);
    out.set(new TextEncoder().encode("comment skipped by readers"), base + 8);
  }
  const view = new DataView(out.buffer, base + ext);
  for (let i = 0; i < count; i++) set(view, i * size, spec.values ? spec.values[i] : i, le);
  return out;
}

/** Gzips bytes (fflate, one member). */
export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

/** A fresh temporary folder, removed by the returned `dispose`. */
export async function tempDir(): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "nifti_test_" });
  return { dir, dispose: () => Deno.remove(dir, { recursive: true }) };
}

/** Runs `deno run -A cli.ts ARGS` from the project root. */
export async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** |a - b| ≤ rtol · max(|a|, |b|) (or both tiny). */
export function closeRel(a: number, b: number, rtol: number, atol = 1e-12): boolean {
  return Math.abs(a - b) <= Math.max(atol, rtol * Math.max(Math.abs(a), Math.abs(b)));
}
