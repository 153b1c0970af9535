/**
 * Streaming a NIfTI file holds about one slice, not the volume: writes a
 * 240×240×620 int16 `.nii.gz` (71 MB of voxels), streams it in fresh
 * processes and compares their peak memory growth with the volume's size.
 * Prints the measurements and the thresholds; exits 1 when one is exceeded.
 *
 *     deno run -A bench/nifti_stream_memory.ts
 *
 * Thresholds, for volume bytes V: with a minor GC after every slice (what
 * the reader holds) heap + external growth < V/10 and RSS growth < V/2;
 * with V8's lazy GC, RSS growth < 2V (below one float32 copy of the volume).
 *
 * @module
 */

import { TALL_SHAPE, TALL_VOLUME_BYTES, writeTallNifti } from "./_tall_nifti.ts";

interface Probe {
  slices: number;
  sum: number;
  rssGrowth: number;
  heapGrowth: number;
}

/** Streams `path` in a fresh process (`deno run ... _nifti_stream_probe.ts`). */
async function probe(path: string, v8Flags: string[]): Promise<Probe> {
  const script = new URL("./_nifti_stream_probe.ts", import.meta.url).pathname;
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...v8Flags, script, path],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (run.code !== 0) throw new Error(`probe exited with ${run.code}`);
  return JSON.parse(new TextDecoder().decode(run.stdout));
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Measures; returns the failed checks (none: all within their thresholds). */
async function measure(dir: string): Promise<string[]> {
  const path = `${dir}/tall.nii.gz`;
  const sum = await writeTallNifti(path);
  const [held, lazy] = await Promise.all([
    probe(path, ["--v8-flags=--expose-gc"]),
    probe(path, []),
  ]);
  const v = TALL_VOLUME_BYTES;
  const checks: [string, number, number][] = [
    ["held heap+external growth", held.heapGrowth, v / 10],
    ["held RSS growth", held.rssGrowth, v / 2],
    ["lazy-GC RSS growth", lazy.rssGrowth, v * 2],
  ];
  console.log(
    `volume ${TALL_SHAPE.join("×")} int16: ${mb(v)} (${mb(v * 2)} as float32), ` +
      `file ${mb((await Deno.stat(path)).size)}`,
  );
  for (const [what, got, limit] of checks) {
    console.log(`${what}: ${mb(got)} (threshold ${mb(limit)})`);
  }
  const failed = checks.filter(([, got, limit]) => !(got < limit)).map(([what]) => what);
  for (const p of [held, lazy]) {
    if (p.slices !== TALL_SHAPE[2] || p.sum !== sum) failed.push("slices or sum differ");
  }
  console.log(JSON.stringify({
    test: "nifti_stream_memory",
    shape: TALL_SHAPE,
    volumeBytes: v,
    held: { heapGrowth: held.heapGrowth, rssGrowth: held.rssGrowth },
    lazy: { rssGrowth: lazy.rssGrowth },
    thresholds: { heldHeap: v / 10, heldRss: v / 2, lazyRss: v * 2 },
    ok: failed.length === 0,
  }));
  return failed;
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "nifti_stream_memory_" });
  let failed: string[];
  try {
    failed = await measure(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (failed.length > 0) {
    console.error(`exceeded: ${failed.join(", ")}`);
    Deno.exit(1);
  }
}
