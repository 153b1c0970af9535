import assert from "node:assert/strict";
import { BatchPrefetch } from "../train/_batch_prefetch.ts";
import type { BatchArrays } from "../train/training_data.ts";
import type { TrainingWindow } from "../train/window_sampler.ts";

const arrays = (windows: readonly TrainingWindow[]): BatchArrays => ({
  image: new Float32Array(windows.length),
  labels: new Float32Array(windows.length),
  windows: windows.length,
  seq: 3,
  modalities: 4,
  height: 1,
  width: 1,
});
const w = (start: number): TrainingWindow[] => [{ caseIndex: 0, start, tumour: false }];

Deno.test("BatchPrefetch: a batch assembled ahead is used once, for its own step and windows", async () => {
  const made: string[] = [];
  const prefetch = new BatchPrefetch((windows, step) => {
    made.push(`${step}@${windows[0].start}`);
    return Promise.resolve(arrays(windows));
  });
  const [a, b, c] = [w(0), w(3), w(6)];
  await prefetch.take(a, 0);
  prefetch.ahead(b, 1);
  await prefetch.take(b, 1);
  assert.deepEqual(made, ["0@0", "1@3"], "taken as assembled ahead, not twice");
  prefetch.ahead(c, 2);
  await prefetch.take(w(6), 2); // the plan changed: another window list of the same step
  prefetch.ahead(c, 3);
  await prefetch.take(c, 2); // the same windows at another step
  await prefetch.take(c, 3); // the one ahead was dropped by the previous take
  assert.deepEqual(made, ["0@0", "1@3", "2@6", "2@6", "3@6", "2@6", "3@6"]);
});

Deno.test("BatchPrefetch: a failure ahead surfaces when taken, and is not unhandled if never taken", async () => {
  const prefetch = new BatchPrefetch((_, step) =>
    step === 1 ? Promise.reject(new Error("case 7 unreadable")) : Promise.resolve(arrays(w(0)))
  );
  const next = w(3);
  prefetch.ahead(next, 1);
  await assert.rejects(prefetch.take(next, 1), /case 7 unreadable/);
  prefetch.ahead(next, 1); // dropped: the test would fail on an unhandled rejection
  await prefetch.take(w(0), 0);
});
