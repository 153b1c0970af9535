/**
 * `deno task info FILE... [--json]`: a NIfTI file's header and statistics of
 * its scaled voxels, like FSL's `fslinfo` plus nibabel's view of the affine.
 * `deno task info --gpu` describes the WebGPU adapter instead.
 *
 * @module
 */

import { parseCommand } from "./_usage.ts";
import { InputError } from "../data/input_error.ts";
import type { NiftiHeader } from "../data/nifti_header.ts";
import { openNiftiSlices } from "../io/nifti.ts";

const USAGE = `usage: deno task info FILE... [--json]
       deno task info --gpu

Prints each NIfTI file's header (dims, datatype, pixdim, units, qform/sform
codes, affine) and statistics of its scaled voxels (all volumes).

  --json   one JSON object per file (version, shape, datatype, pixdim, sclSlope,
           sclInter, qformCode, sformCode, affine, stats, nonFinite)
  --gpu    describe the WebGPU adapter this machine offers
  -h, --help  this text

Exit code 1 if any file could not be read.`;

/** What `info --json` prints for one file. */
export interface NiftiInfo {
  version: 1 | 2;
  shape: number[];
  datatype: string;
  pixdim: number[];
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  affine: number[][];
  /** Over finite scaled values; min, max and mean are null when there are none. */
  stats: { sum: number; min: number | null; max: number | null; mean: number | null };
  nonFinite: number;
}

/**
 * Reads a NIfTI file slice by slice (all volumes) and summarises it; the
 * statistics are accumulated in float64 over the scaled values.
 *
 * @example
 * ```ts
 * import { describeNifti } from "./info.ts";
 * import { writeNifti } from "../io/nifti.ts";
 * const path = `${await Deno.makeTempDir()}/flair.nii.gz`;
 * await writeNifti(path, new Uint8Array([1, 2, 3, 4]), { shape: [2, 2, 1], datatype: "uint8" });
 * const { info } = await describeNifti(path);
 * console.log(info.shape, info.stats.mean); // [2, 2, 1] 2.5
 * ```
 */
export async function describeNifti(
  path: string,
): Promise<{ info: NiftiInfo; header: NiftiHeader; voxels: number }> {
  const reader = await openNiftiSlices(path, { volume: "all" });
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let finite = 0;
  let nonFinite = 0;
  for await (const slice of reader.slices64()) {
    for (let i = 0; i < slice.length; i++) {
      const v = slice[i];
      if (Number.isFinite(v)) {
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
        finite++;
      } else {
        nonFinite++;
      }
    }
  }
  const h = reader.header;
  const info: NiftiInfo = {
    version: h.version,
    shape: reader.shape,
    datatype: h.datatypeName,
    pixdim: h.pixdim,
    sclSlope: h.sclSlope,
    sclInter: h.sclInter,
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    affine: h.affine,
    stats: {
      sum,
      min: finite ? min : null,
      max: finite ? max : null,
      mean: finite ? sum / finite : null,
    },
    nonFinite,
  };
  return { info, header: h, voxels: finite + nonFinite };
}

const XFORM_NAMES = ["unknown", "scanner", "aligned", "talairach", "mni", "template"];
const SPACE_UNITS: Record<number, string> = { 0: "unknown", 1: "m", 2: "mm", 3: "µm" };
const TIME_UNITS: Record<number, string> = {
  0: "unknown",
  8: "s",
  16: "ms",
  24: "µs",
  32: "Hz",
  40: "ppm",
  48: "rad/s",
};

function num(v: number | null): string {
  if (v === null) return "n/a";
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(7)));
}

function xform(code: number): string {
  return `${code} (${XFORM_NAMES[code] ?? "invalid"})`;
}

/** The human-readable report for one file. */
function formatInfo(path: string, info: NiftiInfo, h: NiftiHeader, voxels: number): string {
  const space = SPACE_UNITS[h.xyztUnits & 0x07] ?? "invalid";
  const time = TIME_UNITS[h.xyztUnits & 0x38] ?? "invalid";
  const source = h.sformCode !== 0 ? "sform" : h.qformCode !== 0 ? "qform" : "pixdim, centred";
  const cells = info.affine.map((row) => row.map((v) => v.toFixed(4).replace(/^-(0\.0+)$/, "$1")));
  const width = Math.max(...cells.flat().map((c) => c.length));
  const rows = cells.map((row) => "  " + row.map((c) => c.padStart(width)).join("  "));
  const { stats } = info;
  const lines: [string, string][] = [
    ["file", path],
    ["format", `NIfTI-${h.version}, ${h.littleEndian ? "little" : "big"}-endian`],
    ["data_type", `${h.datatypeName} (code ${h.datatype}, ${h.bitpix} bits)`],
    ["dim", `[${h.dims.join(", ")}]`],
    ["shape", info.shape.join(" × ")],
    ["pixdim", `[${h.pixdim.map(num).join(", ")}]`],
    ["voxel size", `${h.pixdim.slice(1, 4).map(num).join(" × ")} ${space}`],
    ["units", `${space}, ${time} (xyzt_units ${h.xyztUnits})`],
    ["scl_slope", num(h.sclSlope)],
    ["scl_inter", num(h.sclInter)],
    ["vox_offset", String(h.voxOffset)],
    ["qform_code", xform(h.qformCode)],
    ["sform_code", xform(h.sformCode)],
    ["descrip", h.descrip],
    ["affine", `(from ${source})`],
  ];
  const head = lines.map(([k, v]) => `${k.padEnd(12)}${v}`.trimEnd());
  return [
    ...head,
    ...rows,
    `${"stats".padEnd(12)}min ${num(stats.min)}  max ${num(stats.max)}  mean ${
      num(stats.mean)
    }  sum ${num(stats.sum)}`,
    `${"voxels".padEnd(12)}${voxels} (${info.nonFinite} non-finite)`,
  ].join("\n");
}

/**
 * Runs `info`; returns the exit code (0, 1 if a file was bad, 2 for misuse).
 *
 * @example
 * ```ts
 * import { run } from "./info.ts";
 * const code = await run(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function run(args: string[]): Promise<number> {
  if (args.includes("--gpu")) {
    const { describeAdapter } = await import("../gpu/device.ts");
    console.log(await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") }));
    return 0;
  }
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: { json: { type: "boolean" } },
    min: 1,
    max: Infinity,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  let failed = false;
  for (const [i, path] of positionals.entries()) {
    try {
      const { info, header, voxels } = await describeNifti(path);
      if (values.json) console.log(JSON.stringify(info));
      else console.log((i > 0 ? "\n" : "") + formatInfo(path, info, header, voxels));
    } catch (error) {
      // A bad file is reported in one line and the others still get their report.
      if (!(error instanceof InputError)) throw error;
      console.error(error.message);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
