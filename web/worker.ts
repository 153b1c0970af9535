// This module is browser compatible.
// The page's worker: WebGPU and the network run here, so the page stays responsive.

import { checkLabels, type LabelConvention, labelConvention } from "../data/labels.ts";
import { scoreCase } from "../data/metrics.ts";
import { parseNifti } from "../data/nifti_reader.ts";
import { describeAdapter, GpuUnavailableError } from "../gpu/device.ts";
import { fetchCheckpoint } from "../model/default_model.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { segmentNifti } from "../pipeline/segment_nifti.ts";
import type { SegmentRequest, WorkerMessage } from "./_messages.ts";

const scope = self as unknown as {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<SegmentRequest>) => void) | null;
};
const post = (message: WorkerMessage, transfer: Transferable[] = []) =>
  scope.postMessage(message, transfer);
const messageOf = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0];

// The model stays loaded between cases; a new checkpoint file replaces it.
let loaded: { key: string; model: NetworkSliceModel } | null = null;

async function modelFor(checkpoint: File | undefined): Promise<NetworkSliceModel> {
  const key = checkpoint ? `${checkpoint.name}:${checkpoint.size}:${checkpoint.lastModified}` : "";
  if (loaded?.key === key) return loaded.model;
  loaded?.model.release();
  loaded = null;
  const bytes = checkpoint
    ? new Uint8Array(await checkpoint.arrayBuffer())
    : await fetchCheckpoint(new URL("models/default.safetensors", location.href));
  const model = await NetworkSliceModel.fromBytes(bytes, {
    path: checkpoint?.name ?? "the built-in model",
  });
  loaded = { key, model };
  return model;
}

/** Dice of each region against the case's own labels. */
async function diceAgainst(seg: File, labels: Uint8Array, convention: LabelConvention) {
  const truth = parseNifti(new Uint8Array(await seg.arrayBuffer()), { path: seg.name });
  const prediction = parseNifti(labels);
  const shape = prediction.header.dims.slice(1, 4) as [number, number, number];
  const truthShape = truth.header.dims.slice(1, 4);
  if (truthShape.join() !== shape.join()) {
    throw new Error(`${seg.name}: ${truthShape.join("×")} voxels, the case ${shape.join("×")}`);
  }
  checkLabels(truth.data, convention, { path: seg.name });
  return scoreCase(prediction.data, truth.data, { shape, convention }).dice;
}

async function segment(request: SegmentRequest): Promise<void> {
  const t0 = performance.now();
  const model = await modelFor(request.checkpoint);
  const labels = await segmentNifti(request.modalities, {
    model,
    tta: request.tta,
    onProgress: ({ slicesDone, slicesTotal }) =>
      post({ type: "progress", slicesDone, slicesTotal }),
    onWarning: (line) => post({ type: "warning", line }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const convention = labelConvention(model.convention).name;
  // A label file that does not fit (other convention, other size) costs the Dice, not the result.
  const dice = request.seg
    ? await diceAgainst(request.seg, labels, convention).catch((error) => {
      post({ type: "warning", line: `no Dice: ${messageOf(error)}` });
      return undefined;
    })
    : undefined;
  post({ type: "done", labels, convention, seconds, dice }, [labels.buffer as ArrayBuffer]);
}

// One case at a time: the page disables its button while a case runs.
scope.onmessage = (event) => {
  segment(event.data).catch((error) => post({ type: "failed", message: messageOf(error) }));
};

describeAdapter({ backend: "WebGPU in this browser" }).then(
  (adapter) => post({ type: "ready", adapter }),
  // The page words the advice for browsers; the Deno-side advice (Mesa drivers) does not apply.
  (error) =>
    post({
      type: "unavailable",
      message: error instanceof GpuUnavailableError ? error.detail : messageOf(error),
    }),
);
