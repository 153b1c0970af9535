// Shared fixtures of the pipeline tests: a CPU stand-in model with a recurrent state, and case writing.
import { createNiftiHeader, serializeNiftiHeader } from "../data/nifti_header_create.ts";
import type { Modality } from "../data/cases.ts";
import type { SliceModel, SliceStepResult, SliceWindow } from "../model/slice_model.ts";

/**
 * A voxel-wise stand-in for the network with a per-pixel recurrent state
 * h ← 0.5·h + t1ce, and logits [0, flair, t2 (+ x/width when `positional`), h − 1].
 * Without `positional` it commutes with mirroring, and padding never changes a voxel's result.
 */
export class FakeModel implements SliceModel<Float32Array> {
  readonly classes = 4;
  readonly convention = "brats2017" as const;
  readonly multiple = 16;
  readonly modalities = 4;
  /** Number of `step` calls and of live states, to check the stage releases them. */
  steps = 0;
  live = 0;
  #positional: boolean;

  constructor(options: { positional?: boolean } = {}) {
    this.#positional = options.positional ?? false;
  }

  step(
    window: SliceWindow,
    state: Float32Array | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<Float32Array>> {
    this.steps++;
    const { depth, height, width, data } = window;
    const plane = height * width;
    const h = state ? state.slice() : new Float32Array(plane);
    this.live++;
    const probabilities = new Float32Array(depth * 4 * plane);
    for (let k = 0; k < depth; k++) {
      const base = k * 4 * plane;
      for (let i = 0; i < plane; i++) {
        h[i] = 0.5 * h[i] + data[base + 2 * plane + i];
        const logits = [
          0,
          data[base + i],
          data[base + 3 * plane + i] + (this.#positional ? (i % width) / width : 0),
          h[i] - 1,
        ];
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const s = e[0] + e[1] + e[2] + e[3];
        for (let c = 0; c < 4; c++) probabilities[base + c * plane + i] = e[c] / s;
      }
    }
    if (options.want === "probabilities") return Promise.resolve({ probabilities, state: h });
    const classes = new Uint8Array(depth * plane);
    for (let k = 0; k < depth; k++) {
      for (let i = 0; i < plane; i++) {
        let best = 0;
        for (let c = 1; c < 4; c++) {
          if (
            probabilities[k * 4 * plane + c * plane + i] >
              probabilities[k * 4 * plane + best * plane + i]
          ) best = c;
        }
        classes[k * plane + i] = best;
      }
    }
    return Promise.resolve({ classes, state: h });
  }

  releaseState(_state: Float32Array): void {
    this.live--;
  }
}

/** A small random-ish case: four float32 volumes with a zero background border. */
export function makeVolumes(
  shape: [number, number, number],
  seed = 1,
): Record<Modality, Float32Array> {
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const [x, y, z] = shape;
  const make = (scale: number) => {
    const v = new Float32Array(x * y * z);
    for (let k = 0; k < z; k++) {
      for (let j = 0; j < y; j++) {
        for (let i = 0; i < x; i++) {
          const inside = i > 1 && j > 1 && i < x - 2 && j < y - 2;
          v[(k * y + j) * x + i] = inside ? scale * (1 + rand() + 0.5 * Math.sin(i / 3 + k)) : 0;
        }
      }
    }
    return v;
  };
  return { flair: make(100), t1: make(300), t1ce: make(50), t2: make(1000) };
}

/** Writes a case `<dir>/<id>_<modality>.nii` (float32, uncompressed) and returns the paths. */
export async function writeCase(
  dir: string,
  id: string,
  volumes: Record<Modality, Float32Array>,
  shape: [number, number, number],
): Promise<Record<Modality, string>> {
  await Deno.mkdir(dir, { recursive: true });
  const paths = {} as Record<Modality, string>;
  const header = serializeNiftiHeader(createNiftiHeader({
    shape: [...shape],
    datatype: "float32",
    affine: [[-1, 0, 0, 10], [0, -1, 0, 20], [0, 0, 2, -5], [0, 0, 0, 1]],
  }));
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    const path = `${dir}/${id}_${m}.nii`;
    const bytes = new Uint8Array(header.length + volumes[m].byteLength);
    bytes.set(header);
    bytes.set(
      new Uint8Array(volumes[m].buffer, volumes[m].byteOffset, volumes[m].byteLength),
      header.length,
    );
    await Deno.writeFile(path, bytes);
    paths[m] = path;
  }
  return paths;
}

/** Z-score over the non-zero voxels, background kept 0 (the design's normalisation, computed directly). */
export function zScore(v: Float32Array): Float32Array {
  let n = 0, sum = 0;
  for (const x of v) if (x !== 0) (n++, sum += x);
  const mean = sum / n;
  let ss = 0;
  for (const x of v) if (x !== 0) ss += (x - mean) ** 2;
  const std = Math.sqrt(ss / n);
  return v.map((x) => (x === 0 ? 0 : (x - mean) / std));
}

/**
 * The fake model's labels (brats2017) computed directly over the unpadded
 * volume, with the state carried through the whole depth.
 */
export function expectedStatefulLabels(
  volumes: Record<Modality, Float32Array>,
  shape: [number, number, number],
): Uint8Array {
  const [x, y, z] = shape;
  const plane = x * y;
  const [f, , c, t2] = [volumes.flair, volumes.t1, volumes.t1ce, volumes.t2].map(zScore);
  const h = new Float32Array(plane);
  const out = new Uint8Array(x * y * z);
  const labels = [0, 1, 2, 4];
  for (let k = 0; k < z; k++) {
    for (let i = 0; i < plane; i++) {
      const v = k * plane + i;
      h[i] = 0.5 * h[i] + c[v];
      const logits = [0, f[v], t2[v], h[i] - 1];
      let best = 0;
      for (let q = 1; q < 4; q++) if (logits[q] > logits[best]) best = q;
      out[v] = labels[best];
    }
  }
  return out;
}
