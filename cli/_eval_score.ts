// `eval`'s scoring of one case, slice by slice; a missing, misshapen or bad prediction scores as empty.

import { InputError } from "../data/input_error.ts";
import type { LabelConvention } from "../data/labels.ts";
import { CaseScorer, type CaseScores } from "../data/metrics.ts";
import { readMha } from "../io/mha.ts";
import { openNiftiSlices } from "../io/nifti.ts";
import { messageOf } from "./_usage.ts";

/** A label volume opened for reading slice by slice. */
interface Volume {
  shape: number[];
  spacing: number[];
  /** Voxel-to-world matrix (rows). */
  affine: number[][];
  slices: AsyncIterator<ArrayLike<number>>;
  close(): Promise<void>;
}

async function openVolume(path: string): Promise<Volume> {
  if (/\.mh[ad]$/i.test(path)) {
    const vol = await readMha(path);
    const [X, Y = 1, Z = 1] = vol.shape;
    const n = X * Y;
    const gen = async function* () {
      for (let z = 0; z < Z; z++) yield vol.data.subarray(z * n, z * n + n);
    };
    return {
      shape: [X, Y, Z],
      spacing: [...vol.header.spacing, 1, 1].slice(0, 3),
      affine: vol.header.affine,
      slices: gen(),
      close: async () => {},
    };
  }
  const reader = await openNiftiSlices(path);
  const [X, Y = 1, Z = 1] = reader.shape;
  return {
    shape: [X, Y, Z, ...reader.shape.slice(3)],
    spacing: reader.header.pixdim.slice(1, 4).map(Math.abs),
    affine: reader.header.affine,
    slices: reader.slices(),
    close: () => reader.close(),
  };
}

/**
 * How far apart two volumes lie in world space: the largest distance, in
 * mm, between where they put one of the truth's corner voxels.
 */
function worldOffset(a: number[][], b: number[][], shape: number[]): number {
  let worst = 0;
  for (const corner of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const ijk = [0, 1, 2].map((d) => (corner >> d & 1) * Math.max(0, (shape[d] ?? 1) - 1));
    const world = (m: number[][], row: number) =>
      m[row][0] * ijk[0] + m[row][1] * ijk[1] + m[row][2] * ijk[2] + m[row][3];
    const d = Math.hypot(...[0, 1, 2].map((row) => world(a, row) - world(b, row)));
    worst = Math.max(worst, d);
  }
  return worst;
}

/** The prediction, or undefined (the reason added to `problems`) when it cannot be scored. */
async function openPrediction(
  predPath: string,
  truth: Volume,
  problems: string[],
  warnings: string[],
): Promise<Volume | undefined> {
  try {
    const pred = await openVolume(predPath);
    if (
      pred.shape.slice(0, 3).join() !== truth.shape.slice(0, 3).join() ||
      pred.shape.slice(3).some((d) => d !== 1)
    ) {
      problems.push(
        `${predPath}: shape ${pred.shape.join("×")} differs from the truth's ${
          truth.shape.slice(0, 3).join("×")
        }; scored as empty`,
      );
      await pred.close();
      return undefined;
    }
    const offset = worldOffset(pred.affine, truth.affine, truth.shape);
    // Half the smallest voxel: less than that is rounding in the headers, not another place.
    if (offset > 0.5 * Math.min(...truth.spacing.map((s) => s || 1))) {
      warnings.push(
        `${predPath}: its affine puts voxels up to ${offset.toFixed(1)} mm from where the ` +
          "truth's puts them (another space or a resampled volume?); scored voxel by voxel anyway",
      );
    }
    return pred;
  } catch (e) {
    problems.push(`${messageOf(e)}; scored as empty`);
    return undefined;
  }
}

/** Feeds every slice pair to a scorer; a prediction that ends early throws naming it. */
async function scoreSlices(
  truth: Volume,
  pred: Volume | undefined,
  paths: { truth: string; pred?: string; convention: LabelConvention },
): Promise<CaseScores> {
  const [X, Y, Z] = truth.shape;
  const scorer = new CaseScorer([X, Y, Z], {
    convention: paths.convention,
    spacing: truth.spacing as [number, number, number],
  });
  const empty = new Uint8Array(X * Y);
  for (let z = 0; z < Z; z++) {
    const t = await truth.slices.next();
    if (t.done) throw new InputError(paths.truth, `ended after ${z} of ${Z} slices`);
    let p: ArrayLike<number> = empty;
    if (pred) {
      const r = await pred.slices.next();
      if (r.done) throw new InputError(paths.pred!, `ended after ${z} of ${Z} slices`);
      p = r.value;
    }
    scorer.addSlice(p, t.value);
  }
  return scorer.finish();
}

/**
 * Scores one case; a missing, misshapen or invalid prediction is reported in
 * `problems` and scored as empty.
 *
 * @throws {InputError} naming the truth file when it is unreadable or not 3-D.
 * @example
 * ```ts
 * import { scoreCase } from "./_eval_score.ts";
 * import { writeNifti } from "../io/nifti.ts";
 * const dir = await Deno.makeTempDir();
 * const labels = new Uint8Array([0, 1, 2, 4, 0, 0, 1, 1]);
 * await writeNifti(`${dir}/a_seg.nii.gz`, labels, { shape: [2, 2, 2], datatype: "uint8" });
 * const problems: string[] = [];
 * const scores = await scoreCase(undefined, `${dir}/a_seg.nii.gz`, { convention: "brats2017", problems });
 * console.log(scores.dice.whole, problems); // 0 []
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function scoreCase(
  predPath: string | undefined,
  truthPath: string,
  options: { convention: LabelConvention; problems: string[]; warnings?: string[] },
): Promise<CaseScores> {
  const { convention, problems, warnings = [] } = options;
  for (let attempt = 0; attempt < 2; attempt++) {
    const truth = await openVolume(truthPath);
    if (truth.shape.length > 3 && truth.shape.slice(3).some((d) => d !== 1)) {
      await truth.close();
      throw new InputError(truthPath, `label volume is ${truth.shape.join("×")}, not 3-D`);
    }
    const pred = predPath && attempt === 0
      ? await openPrediction(predPath, truth, problems, warnings)
      : undefined;
    try {
      return await scoreSlices(truth, pred, { truth: truthPath, pred: predPath, convention });
    } catch (e) {
      const message = messageOf(e);
      if (pred && !(e instanceof InputError && e.path === truthPath) && !/^truth /.test(message)) {
        // The prediction was at fault: report it and score the case again as empty.
        problems.push(
          `${message.startsWith(predPath!) ? message : `${predPath}: ${message}`}; scored as empty`,
        );
        continue;
      }
      throw e instanceof InputError ? e : new InputError(truthPath, message.replace(/^truth /, ""));
    } finally {
      await truth.close();
      await pred?.close();
    }
  }
  throw new Error("unreachable");
}
