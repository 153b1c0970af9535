import assert from "node:assert/strict";
import { formatDuration, Progress } from "../cli/_progress.ts";

Deno.test("progress status shows slices, rate and ETA; durations read naturally", () => {
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(187), "3m07s");
  assert.equal(formatDuration(3 * 3600 + 120), "3h02m");
  assert.equal(formatDuration(NaN), "?");
  // A hand-driven clock: the rate is known without waiting.
  let now = 1000;
  const p = new Progress(200, { tty: false, now: () => now });
  p.label("[1/2] case_a");
  now += 5000;
  p.advance(50);
  const s = p.status(10);
  assert.match(
    s,
    /^\[###-------\] {2}25% 50\/200 slices {2}\d+\.\d slices\/s {2}ETA \d+s {2}\[1\/2\] case_a$/,
  );
  assert.equal(s, "[###-------]  25% 50/200 slices  10.0 slices/s  ETA 15s  [1/2] case_a");
  p.shrink(100);
  assert.match(p.status(10), /50% 50\/100 slices/);
});
