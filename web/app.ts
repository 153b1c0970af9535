// This module is browser compatible.
// The page: files in, the worker's labels shown over the FLAIR in NiiVue, downloadable.

import { Niivue, NVImage } from "@niivue/niivue";
import { MODALITIES, type Modality } from "../data/cases.ts";
import { type LabelConvention, labelConvention, REGIONS } from "../data/labels.ts";
import { labelColours } from "../data/overlay.ts";
import { type DroppedCase, sortDroppedFiles } from "./case_files.ts";
import type { SegmentRequest, WorkerMessage } from "./_messages.ts";

const NO_WEBGPU =
  "This browser offers no WebGPU. Use Chrome or Edge 113+, Safari 26, Firefox 141+ " +
  "on Windows, or Chromium with --enable-unsafe-webgpu (on Linux also --enable-features=Vulkan).";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  adapter: $("adapter"),
  drop: $("drop"),
  files: $<HTMLInputElement>("files"),
  folder: $<HTMLInputElement>("folder"),
  list: $("files-list"),
  tta: $<HTMLInputElement>("tta"),
  segment: $<HTMLButtonElement>("segment"),
  progress: $<HTMLProgressElement>("progress"),
  status: $("status"),
  error: $("error"),
  warnings: $("warnings"),
  result: $("result"),
  viewer: $<HTMLCanvasElement>("viewer"),
  legend: $("legend"),
  opacity: $<HTMLInputElement>("opacity"),
  slice: $<HTMLInputElement>("slice"),
  sliceLabel: $("slice-label"),
  download: $<HTMLButtonElement>("download"),
  dice: $("dice"),
};

let gpuReady = false;
let gpuProblem = ""; // kept on screen while no adapter, whatever files come
let dropped: DroppedCase | null = null;
// The case in the worker (files dropped meanwhile do not change what is shown or downloaded).
let running: { id: string; flair: File } | null = null;
let labels: Uint8Array | null = null;
let labelsName = "labels.nii.gz";
let viewer: Niivue | null = null;

const showError = (message: string) => (ui.error.textContent = message);

function refresh(): void {
  ui.segment.disabled = !gpuReady || running !== null || !dropped || dropped.problem !== undefined;
}

function line(text: string, className = ""): HTMLLIElement {
  const li = document.createElement("li");
  li.textContent = text;
  li.className = className;
  return li;
}

function takeFiles(files: File[]): void {
  dropped = sortDroppedFiles(files);
  ui.list.replaceChildren(
    ...MODALITIES.map((m: Modality) => {
      const file = dropped!.modalities[m];
      return line(`${m}: ${file?.name ?? "missing"}`, file ? "" : "missing");
    }),
    line(`labels: ${dropped.seg?.name ?? "none (no Dice)"}`),
    line(`model: ${dropped.checkpoint?.name ?? "built-in"}`),
    ...(dropped.ignored.length ? [line(`ignored: ${dropped.ignored.join(", ")}`)] : []),
  );
  showError(dropped.problem ?? gpuProblem);
  refresh();
}

// A dropped folder arrives as entries: walk it for its files.
async function filesOf(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    return [await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail))];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return out;
    for (const child of batch) out.push(...await filesOf(child));
  }
}

ui.files.addEventListener("change", () => takeFiles([...ui.files.files ?? []]));
ui.folder.addEventListener("change", () => takeFiles([...ui.folder.files ?? []]));
ui.drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  ui.drop.classList.add("over");
});
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  ui.drop.classList.remove("over");
  const entries = [...event.dataTransfer?.items ?? []].map((i) => i.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  takeFiles((await Promise.all(entries.map(filesOf))).flat());
});

const worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
worker.onerror = (event) => {
  event.preventDefault();
  showError(`The worker failed to start: ${event.message || "see the browser console"}`);
};

ui.segment.addEventListener("click", () => {
  if (!dropped || dropped.problem) return;
  const request: SegmentRequest = {
    modalities: dropped.modalities as Record<Modality, File>,
    seg: dropped.seg,
    checkpoint: dropped.checkpoint,
    tta: ui.tta.checked,
  };
  running = { id: dropped.id, flair: request.modalities.flair };
  refresh();
  ui.progress.hidden = false;
  ui.progress.value = 0;
  ui.status.textContent = "Segmenting…";
  ui.warnings.replaceChildren();
  showError("");
  worker.postMessage(request);
});

worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
  const message = event.data;
  switch (message.type) {
    case "ready":
      gpuReady = true;
      ui.adapter.textContent = `WebGPU adapter: ${message.adapter}`;
      break;
    case "unavailable":
      ui.adapter.textContent = "No WebGPU adapter.";
      gpuProblem = `${NO_WEBGPU} (${message.message})`;
      showError(gpuProblem);
      break;
    case "progress":
      ui.progress.max = message.slicesTotal;
      ui.progress.value = message.slicesDone;
      ui.status.textContent = `Segmenting… ${message.slicesDone} of ${message.slicesTotal} slices`;
      break;
    case "warning":
      ui.warnings.append(line(`Warning: ${message.line}`));
      break;
    case "failed":
      running = null;
      ui.status.textContent = "";
      ui.progress.hidden = true;
      showError(message.message);
      break;
    case "done":
      labels = message.labels;
      ui.status.textContent = `Done: ${ui.progress.max} slices in ${message.seconds.toFixed(1)} s.`;
      showResult(message, running!).catch((error) =>
        showError(`The viewer failed: ${error.message}`)
      );
      running = null;
      break;
  }
  refresh();
};

/** The convention's colours as NiiVue's label colour map (background transparent). */
function labelColourMap(convention: LabelConvention) {
  const info = labelConvention(convention);
  const colours = labelColours(convention);
  const rgb = info.labels.map((l) => colours[l] ?? [0, 0, 0]);
  return {
    R: rgb.map((c) => c[0]),
    G: rgb.map((c) => c[1]),
    B: rgb.map((c) => c[2]),
    A: info.labels.map((l) => (l === 0 ? 0 : 255)),
    I: [...info.labels],
    labels: [...info.names],
  };
}

async function showResult(
  result: Extract<WorkerMessage, { type: "done" }>,
  shown: { id: string; flair: File },
): Promise<void> {
  labelsName = `${shown.id || "labels"}.nii.gz`;
  ui.result.hidden = false;
  const info = labelConvention(result.convention);
  const colours = labelColours(result.convention);
  ui.legend.replaceChildren(
    ...info.labels.filter((l) => l !== 0).map((l) => {
      const li = line(info.names[info.labels.indexOf(l)]);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = `rgb(${colours[l].join(",")})`;
      li.prepend(swatch);
      return li;
    }),
  );
  ui.dice.hidden = !result.dice;
  for (const r of REGIONS) $(`dice-${r}`).textContent = result.dice?.[r].toFixed(3) ?? "";

  if (!viewer) {
    viewer = new Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: false, crosshairWidth: 0 });
    await viewer.attachToCanvas(ui.viewer);
    viewer.setSliceType(viewer.sliceTypeAxial);
    viewer.onLocationChange = (location) => {
      const z = (location as { vox?: number[] }).vox?.[2];
      if (z !== undefined) showSlice(z);
    };
  }
  const flair = shown.flair;
  const anatomy = await NVImage.loadFromUrl({
    url: new Uint8Array(await flair.arrayBuffer()),
    name: flair.name,
  });
  const overlay = await NVImage.loadFromUrl({
    url: result.labels.slice(),
    name: "labels.nii.gz",
    opacity: Number(ui.opacity.value),
  });
  overlay.setColormapLabel(labelColourMap(result.convention));
  while (viewer.volumes.length > 0) viewer.removeVolume(viewer.volumes[0]);
  viewer.addVolume(anatomy);
  viewer.addVolume(overlay);
  viewer.updateGLVolume();
  const depth = anatomy.dims![3];
  ui.slice.max = String(depth - 1);
  showSlice(Math.round(viewer.frac2vox(viewer.scene.crosshairPos)[2]));
  ui.result.dataset.shown = "true";
}

function showSlice(z: number): void {
  ui.slice.value = String(z);
  ui.sliceLabel.textContent = `${z + 1} / ${Number(ui.slice.max) + 1}`;
}

ui.slice.addEventListener("input", () => {
  if (!viewer) return;
  const now = Math.round(viewer.frac2vox(viewer.scene.crosshairPos)[2]);
  viewer.moveCrosshairInVox(0, 0, Number(ui.slice.value) - now);
});
ui.opacity.addEventListener("input", () => viewer?.setOpacity(1, Number(ui.opacity.value)));
ui.download.addEventListener("click", () => {
  if (!labels) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([labels as BlobPart], { type: "application/gzip" }));
  link.download = labelsName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
});
