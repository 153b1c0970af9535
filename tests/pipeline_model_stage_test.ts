import assert from "node:assert/strict";
import type { SliceStepResult, SliceWindow } from "../model/slice_model.ts";
import { ModelStage } from "../pipeline/model_stage.ts";
import type { ScoreSlice } from "../pipeline/records.ts";
import { FakeModel } from "./_pipeline_fixtures.ts";

/** The fixture model, answering a timer turn later; counts steps called but not yet answered. */
class SlowModel extends FakeModel {
  unanswered = 0;
  mostUnanswered = 0;
  failAt = -1;
  answers: Promise<unknown>[] = [];
  override step(
    window: SliceWindow,
    state: Float32Array | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<Float32Array>> {
    const result = super.step(window, state, options);
    this.mostUnanswered = Math.max(this.mostUnanswered, ++this.unanswered);
    const fail = window.start === this.failAt;
    const answer = new Promise<SliceStepResult<Float32Array>>((resolve, reject) =>
      setTimeout(() => {
        this.unanswered--;
        if (fail) {
          this.live--;
          reject(new Error(`window at ${window.start} failed`));
        } else resolve(result);
      }, 0)
    );
    this.answers.push(answer);
    return answer;
  }
}

/** Six one-slice windows of 16×16 (values differ per slice), back to back. */
function windows(): SliceWindow[] {
  const plane = 16 * 16;
  return Array.from({ length: 6 }, (_, z) => ({
    start: z,
    depth: 1,
    valid: 1,
    channels: 4,
    height: 16,
    width: 16,
    data: Float32Array.from({ length: 4 * plane }, (_, i) => Math.sin(i * 0.37 + z)),
    settled: z + 1,
    total: 6,
  }));
}

async function scores(model: FakeModel, mode: "stateful" | "windowed"): Promise<ScoreSlice[]> {
  const out: ScoreSlice[] = [];
  await ReadableStream.from(windows()).pipeThrough(new ModelStage(model, { mode })).pipeTo(
    new WritableStream({ write: (s) => void out.push(s) }),
  );
  return out;
}

Deno.test("windowed arg-max: the next window is submitted before the last is read", async () => {
  const slow = new SlowModel();
  const got = await scores(slow, "windowed");
  assert.equal(slow.mostUnanswered, 2, "one window in flight beside the one being read");
  assert.equal(slow.live, 0, "every window's state released");
  // The same slices, in order, as the model gives one window at a time.
  const one = new FakeModel();
  const want = await Promise.all(windows().map((w) => one.step(w, null, { want: "classes" })));
  assert.deepEqual(got.map((s) => s.z), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(got.map((s) => s.argmax), want.map((r) => r.classes));
  // Stateful windows carry the state, so they wait for each other.
  const stateful = new SlowModel();
  await scores(stateful, "stateful");
  assert.equal(stateful.mostUnanswered, 1);
});

Deno.test("windowed arg-max: a failing window errors the stream, no state left", async () => {
  const slow = new SlowModel();
  slow.failAt = 3;
  await assert.rejects(scores(slow, "windowed"), /window at 3 failed/);
  // The window in flight beside the failing one is released once it settles.
  await Promise.allSettled(slow.answers);
  assert.equal(slow.answers.length, 5, "window 4 was in flight when window 3 failed");
  assert.equal(slow.live, 0);
});

Deno.test("windowed arg-max: cancelled with a window in flight, its state is released", async () => {
  const slow = new SlowModel();
  const reader = ReadableStream.from(windows()).pipeThrough(
    new ModelStage(slow, { mode: "windowed" }),
  ).getReader();
  const first = await reader.read();
  assert.equal(first.value?.z, 0);
  await reader.cancel();
  await Promise.allSettled(slow.answers);
  assert.ok(slow.answers.length >= 2, "a window beyond the one read was submitted");
  assert.equal(slow.live, 0, "every submitted window's state released");
});
