/**
 * End-to-end throughput of `segment` on a 240×240×155 case: slices/s,
 * seconds per case, and the share of time spent decoding/normalising, in
 * the model (GPU dispatch, device work, read-back) and encoding/writing.
 * Decoding and writing are timed alone (in the pipeline they overlap with
 * the GPU's work); the model's share is the rest of the end-to-end time.
 *
 *     deno run -A bench/segment_bench.ts [--model FILE] [--widths 32,64,64,64]
 *       [--size 240,240,155] [--reps 2] [--stateful [--batch 4] | --window T,O] [--tta]
 *
 * Without `--model` a network of the given widths with random weights is
 * used (speed does not depend on the weights). Under `deno bench` it runs
 * one case once with the defaults.
 *
 * @module
 */

import { generatePhantom } from "../data/phantom.ts";
import { getDevice } from "../gpu/device.ts";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { SegmentationNetwork } from "../model/network.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { fileSources } from "../io/cases.ts";
import { loadModel as loadCheckpointModel } from "../io/checkpoint.ts";
import { writeAtomic } from "../io/atomic_write.ts";
import { readNifti, writeNifti } from "../io/nifti.ts";
import { segmentCase } from "../io/segment.ts";
import { NiftiSink } from "../pipeline/nifti_sink.ts";
import { DEFAULT_INFERENCE, type InferenceOptions, windowing } from "../pipeline/segment_case.ts";
import { VolumeSource } from "../pipeline/volume_source.ts";
import { parseWindow } from "../cli/_segment_args.ts";
import { benchArgs, benchFlag, benchInt, benchInts, benchWidths } from "./_args.ts";

/** Writes a phantom case's four modalities (int16, gzipped) and returns their paths. */
async function writeCase(dir: string, size: [number, number, number]) {
  const p = generatePhantom({ size, seed: 11 });
  const paths = {} as Record<"flair" | "t1" | "t1ce" | "t2", string>;
  for (const m of ["flair", "t1", "t1ce", "t2"] as const) {
    paths[m] = `${dir}/bench_${m}.nii.gz`;
    await writeNifti(paths[m], p.modalities[m], {
      shape: [...size],
      datatype: "int16",
      affine: p.affine,
    });
  }
  return paths;
}

async function loadModel(path: string | undefined, widths: number[]): Promise<NetworkSliceModel> {
  if (path) return await loadCheckpointModel(path);
  await getDevice();
  const config = { ...DEFAULT_CONFIG, widths: widths as [number, number, number, number] };
  const network = SegmentationNetwork.create(config, { seed: 1 });
  return new NetworkSliceModel(network, { config, labels: "brats2017", history: [], version: "1" });
}

/** One measured run. */
interface Measurement {
  slices: number;
  seconds: number;
  slicesPerSecond: number;
  /** Shares of the end-to-end time: decode and write measured alone, model = the rest. */
  share: { decode: number; write: number; model: number };
}

/** Seconds to read and normalise the case alone (draining the source). */
async function decodeSeconds(
  modalities: Record<"flair" | "t1" | "t1ce" | "t2", string>,
  depth: number,
) {
  const t0 = performance.now();
  const source = await VolumeSource.open(await fileSources(modalities), { depth });
  for await (const _ of source) { /* drained */ }
  return (performance.now() - t0) / 1000;
}

/** Seconds to encode, gzip and write the case's labels alone. */
async function writeSeconds(labelsPath: string, to: string) {
  const volume = await readNifti(labelsPath);
  const [x, y, z] = volume.shape;
  const slices = Array.from({ length: z }, (_, k) => ({
    z: k,
    labels: Uint8Array.from(volume.data.subarray(k * x * y, (k + 1) * x * y)),
  }));
  const t0 = performance.now();
  const file = new TransformStream<Uint8Array, Uint8Array>();
  const written = writeAtomic(to, file.readable);
  await ReadableStream.from(slices).pipeTo(
    new NiftiSink(file.writable, { shape: [x, y, z], reference: volume.header, name: to }),
  );
  await written;
  return (performance.now() - t0) / 1000;
}

async function measure(
  model: NetworkSliceModel,
  size: [number, number, number],
  inference: InferenceOptions,
  reps: number,
): Promise<Measurement[]> {
  const dir = await Deno.makeTempDir({ prefix: "segment_bench_" });
  try {
    const modalities = await writeCase(dir, size);
    const out: Measurement[] = [];
    for (let r = 0; r < reps; r++) {
      const result = await segmentCase({ modalities }, `${dir}/out.nii.gz`, {
        ...inference,
        model,
      });
      const decode = await decodeSeconds(modalities, windowing(inference).depth);
      const write = await writeSeconds(`${dir}/out.nii.gz`, `${dir}/again.nii.gz`);
      const total = result.seconds;
      out.push({
        slices: size[2],
        seconds: total,
        slicesPerSecond: size[2] / total,
        share: {
          decode: decode / total,
          write: write / total,
          model: 1 - (decode + write) / total,
        },
      });
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const values = benchArgs(
    `usage: deno run -A bench/segment_bench.ts [--model FILE] [--widths 32,64,64,64]
         [--size 240,240,155] [--reps 2] [--stateful [--batch 4] | --window T[,O]] [--tta]`,
    {
      model: { type: "string" },
      widths: { type: "string", default: DEFAULT_CONFIG.widths.join(",") },
      size: { type: "string", default: "240,240,155" },
      reps: { type: "string", default: "2" },
      batch: { type: "string", default: "4" },
      window: { type: "string" },
      stateful: { type: "boolean", default: false },
      tta: { type: "boolean", default: false },
    },
  );
  const size = benchInts("size", values.size, 1, 3) as [number, number, number];
  const [widths] = benchWidths("widths", values.widths, 1);
  const reps = benchInt("reps", values.reps, 1);
  const batch = benchInt("batch", values.batch, 1);
  const modes = benchFlag(() => parseWindow(values.window, values.stateful));
  const inference: InferenceOptions = modes.mode === "stateful"
    ? { ...modes, batch, tta: values.tta }
    : { ...modes, tta: values.tta };
  const model = await loadModel(values.model, widths);
  for (const m of await measure(model, size, inference, reps)) {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(JSON.stringify({
      test: "segment",
      size,
      widths: model.info.config.widths,
      ...inference,
      seconds: +m.seconds.toFixed(2),
      slicesPerSecond: +m.slicesPerSecond.toFixed(2),
      share: Object.fromEntries(Object.entries(m.share).map(([k, v]) => [k, pct(v)])),
    }));
  }
  model.release();
} else {
  const model = await loadModel(undefined, [...DEFAULT_CONFIG.widths]);
  Deno.bench({
    name: "segment 240×240×155, widths 32-64-64-64, default inference mode",
    n: 1,
    warmup: 0,
    async fn() {
      await measure(model, [240, 240, 155], DEFAULT_INFERENCE, 1);
    },
  });
}
