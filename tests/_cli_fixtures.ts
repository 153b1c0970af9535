// Shared fixtures of the CLI tests: phantom cases on disk, a tiny checkpoint, a GPU test with both.
import { writeNifti } from "../io/nifti.ts";
import { generatePhantom } from "../data/phantom.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { gpuTest } from "./_gpu.ts";
import { withTempDir } from "./_temp_dir.ts";

/** How {@linkcode writePhantomCase} departs from a plain phantom. */
export interface PhantomCaseOptions {
  /** Also write `<id>_seg.nii.gz`. */
  label?: boolean;
  /** Write every label voxel as 0 (with `label`). */
  emptyLabel?: boolean;
  /** Write this modality as all zeros. */
  blank?: "flair" | "t1" | "t1ce" | "t2";
  /** The affine of every volume (default the phantom's, axial). */
  affine?: number[][];
}

/** Writes a phantom case `dir/<id>/<id>_<modality>.nii.gz` (int16). */
export async function writePhantomCase(
  dir: string,
  id: string,
  size: [number, number, number],
  seed: number,
  options: PhantomCaseOptions = {},
): Promise<void> {
  const p = generatePhantom({ size, seed });
  await Deno.mkdir(`${dir}/${id}`, { recursive: true });
  const affine = options.affine ?? p.affine;
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    const data = options.blank === m ? new Int16Array(p.modalities[m].length) : p.modalities[m];
    await writeNifti(`${dir}/${id}/${id}_${m}.nii.gz`, data, {
      shape: [...size],
      datatype: "int16",
      affine,
    });
  }
  if (options.label) {
    const label = options.emptyLabel ? new Uint8Array(p.label.length) : p.label;
    await writeNifti(`${dir}/${id}/${id}_seg.nii.gz`, label, {
      shape: [...size],
      datatype: "uint8",
      affine,
    });
  }
}

/** A tiny random-weight checkpoint in `dir`; returns its path. */
export async function writeTinyModel(dir: string): Promise<string> {
  const path = `${dir}/tiny.safetensors`;
  const net = SegmentationNetwork.create({ ...DEFAULT_CONFIG, widths: [4, 4, 4, 4] }, { seed: 5 });
  try {
    await saveCheckpoint(path, net, { labels: "brats2017" });
  } finally {
    net.release();
  }
  return path;
}

/** The sorted names in a folder. */
export async function listing(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/** A GPU test given a fresh folder (removed afterwards) that holds the tiny checkpoint. */
export function modelTest(name: string, fn: (root: string, model: string) => Promise<void>): void {
  gpuTest(
    name,
    () => withTempDir("cli_test_", async (root) => fn(root, await writeTinyModel(root))),
  );
}
