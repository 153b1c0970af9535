/**
 * Which inference mode scores best: segments a held-out set of cases with
 * a trained checkpoint in each mode (stateful through the whole depth,
 * windowed with several lengths/overlaps, with and without mirror TTA, with
 * and without the small-enhancing rule) and prints mean Dice per region and
 * seconds per case as a Markdown table.
 *
 *     deno task synth held_out --cases 6 --seed 9001 --size 128,128,64
 *     deno run -A bench/inference_modes.ts --model models/default.safetensors --data held_out
 *
 * @module
 */

import { type CaseScores, scoreCase } from "../data/metrics.ts";
import { summariseScores } from "../data/score_summary.ts";
import { discoverCases } from "../io/cases.ts";
import { loadModel } from "../io/checkpoint.ts";
import { readNifti } from "../io/nifti.ts";
import { segmentCase } from "../io/segment.ts";
import type { InferenceOptions } from "../pipeline/segment_case.ts";
import { benchArgs, benchInts } from "./_args.ts";

/** The modes compared, by the `segment` flags that select them. */
const MODES: { flags: string; options: InferenceOptions }[] = [
  { flags: "--stateful", options: { mode: "stateful" } },
  { flags: "--window 3,0 (default)", options: { mode: "windowed", window: 3, overlap: 0 } },
  { flags: "--window 3,2", options: { mode: "windowed", window: 3, overlap: 2 } },
  { flags: "--window 8,4", options: { mode: "windowed", window: 8, overlap: 4 } },
  { flags: "--window 16,8", options: { mode: "windowed", window: 16, overlap: 8 } },
  { flags: "--stateful --tta", options: { mode: "stateful", tta: true } },
  { flags: "--tta", options: { mode: "windowed", window: 3, overlap: 0, tta: true } },
  { flags: "--window 3,2 --tta", options: { mode: "windowed", window: 3, overlap: 2, tta: true } },
  {
    flags: "--min-enhancing 50",
    options: { mode: "windowed", window: 3, overlap: 0, minEnhancing: 50 },
  },
];

if (import.meta.main) {
  const values = benchArgs(
    "usage: deno run -A bench/inference_modes.ts --model FILE --data DIR [--only 0,2,5]",
    { model: { type: "string" }, data: { type: "string" }, only: { type: "string" } },
    ["model", "data"],
  );
  const only = values.only === undefined ? undefined : benchInts("only", values.only, 0);
  const model = await loadModel(values.model!);
  const { cases } = await discoverCases(values.data!, { requireLabel: true });
  const truths = await Promise.all(cases.map((c) => readNifti(c.label!)));
  const dir = await Deno.makeTempDir({ prefix: "inference_modes_" });
  const rows: string[] = [];
  try {
    for (const [m, { flags, options }] of MODES.entries()) {
      if (only && !only.includes(m)) continue;
      const scores: CaseScores[] = [];
      let seconds = 0;
      for (const [i, c] of cases.entries()) {
        const out = `${dir}/${c.id}.nii.gz`;
        const result = await segmentCase(c, out, { ...options, model });
        seconds += result.seconds;
        const prediction = await readNifti(out);
        const truth = truths[i];
        scores.push(scoreCase(prediction.data, truth.data, {
          shape: truth.shape.slice(0, 3) as [number, number, number],
          convention: model.convention,
        }));
      }
      const mean = summariseScores(scores, { convention: model.convention }).mean.dice;
      const row = `| ${flags} | ${mean.whole.toFixed(3)} | ${mean.core.toFixed(3)} | ${
        mean.enhancing.toFixed(3)
      } | ${(seconds / cases.length).toFixed(1)} |`;
      rows.push(row);
      console.error(row);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    model.release();
  }
  console.log(`\n${cases.length} held-out cases from ${values.data}, model ${values.model}\n`);
  console.log("| mode | Dice WT | Dice TC | Dice ET | s/case |\n| --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
}
