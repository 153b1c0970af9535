/**
 * Subprocess of `bench/nifti_stream_memory.ts`: streams every slice of the
 * file given as first argument and prints, as JSON, the slice count, the sum
 * of all voxels and the peak growth of RSS and of V8's heap + external
 * memory. Run with `--v8-flags=--expose-gc` it collects young garbage (a
 * cheap minor GC) after every slice, so the peaks show what the reader holds
 * rather than what V8 has yet to free.
 *
 * @module
 */

import { niftiSlicesFromStream } from "../data/nifti_slices.ts";

const gc = (globalThis as { gc?: (options?: unknown) => void }).gc;
const collect = () => gc?.({ type: "minor" });
collect();
const start = Deno.memoryUsage();
const path = Deno.args[0];
const file = await Deno.open(path);
const reader = await niftiSlicesFromStream(file.readable, {
  name: path,
  size: (await file.stat()).size,
});
let slices = 0;
let sum = 0;
let peakRss = start.rss;
let peakHeap = start.heapUsed + start.external;
for await (const slice of reader.slices()) {
  slices++;
  for (let i = 0; i < slice.length; i++) sum += slice[i];
  collect();
  const now = Deno.memoryUsage();
  peakRss = Math.max(peakRss, now.rss);
  peakHeap = Math.max(peakHeap, now.heapUsed + now.external);
}
console.log(JSON.stringify({
  slices,
  sum,
  rssGrowth: peakRss - start.rss,
  heapGrowth: peakHeap - (start.heapUsed + start.external),
}));
