import assert from "node:assert/strict";
import { EnsembleSliceModel } from "../model/ensemble_slice_model.ts";
import type { SliceModel, SliceWindow } from "../model/slice_model.ts";
import { FakeModel } from "./_pipeline_fixtures.ts";

function window(seed: number, depth = 2, size = 16): SliceWindow {
  const data = Float32Array.from(
    { length: depth * 4 * size * size },
    (_, i) => Math.sin(i * 0.37 + seed) * 2,
  );
  return {
    start: 0,
    depth,
    valid: depth,
    channels: 4,
    height: size,
    width: size,
    data,
    settled: depth,
    total: depth,
  };
}

/** A FakeModel whose scores are shifted, so two of them disagree. */
class ShiftedModel extends FakeModel {
  constructor(readonly shift: number) {
    super({ positional: true });
  }
  override step(w: SliceWindow, s: Float32Array | null, o: { want: "probabilities" | "classes" }) {
    return super.step({ ...w, data: w.data.map((v) => v + this.shift) }, s, o);
  }
}

Deno.test("ensemble: probabilities are the mean of the members', classes their arg-max", async () => {
  const a = new ShiftedModel(0), b = new ShiftedModel(0.7);
  const ensemble = new EnsembleSliceModel([a, b]);
  const w = window(1);
  const pa = (await a.step(w, null, { want: "probabilities" })).probabilities!;
  const pb = (await b.step(w, null, { want: "probabilities" })).probabilities!;
  const { probabilities } = await ensemble.step(w, null, { want: "probabilities" });
  probabilities!.forEach((p, i) => assert(Math.abs(p - (pa[i] + pb[i]) / 2) < 1e-7));
  const { classes } = await ensemble.step(w, null, { want: "classes" });
  const plane = 256;
  let differsFromA = 0;
  const classesA = (await a.step(w, null, { want: "classes" })).classes!;
  for (let t = 0; t < 2; t++) {
    for (let i = 0; i < plane; i++) {
      const p = [0, 1, 2, 3].map((c) => probabilities![t * 4 * plane + c * plane + i]);
      assert.equal(classes![t * plane + i], p.indexOf(Math.max(...p)));
      if (classesA[t * plane + i] !== classes![t * plane + i]) differsFromA++;
    }
  }
  assert(differsFromA > 0, "the second model changes some voxels");
});

Deno.test("ensemble: of one model, every output is that model's", async () => {
  const solo = new FakeModel({ positional: true });
  const ensemble = new EnsembleSliceModel([new FakeModel({ positional: true })]);
  let s1: Float32Array | null = null, s2: unknown[] | null = null;
  for (const seed of [1, 2, 3]) { // a state carried over windows
    for (const want of ["classes", "probabilities"] as const) {
      const r1 = await solo.step(window(seed), s1, { want });
      const r2 = await ensemble.step(window(seed), s2, { want });
      assert.deepEqual(r2.classes, r1.classes);
      assert.deepEqual(r2.probabilities, r1.probabilities);
      s1 = r1.state;
      s2 = r2.state;
    }
  }
});

Deno.test("ensemble: each member's state is carried and released", async () => {
  const members = [new FakeModel(), new FakeModel()];
  const ensemble = new EnsembleSliceModel(members);
  const first = await ensemble.step(window(1), null, { want: "classes" });
  const second = await ensemble.step(window(2), first.state, { want: "classes" });
  assert.equal(second.state, first.state, "the same state object comes back");
  assert.deepEqual(members.map((m) => m.live), [1, 1], "the members' old states were released");
  // Carrying the state changes the result, as it does for one model.
  const fresh = await ensemble.step(window(2), null, { want: "probabilities" });
  const carried = await ensemble.step(window(2), second.state, { want: "probabilities" });
  assert.notDeepEqual(fresh.probabilities, carried.probabilities);
  ensemble.releaseState(fresh.state);
  ensemble.releaseState(carried.state);
  assert.deepEqual(members.map((m) => m.live), [0, 0]);
});

Deno.test("ensemble: models that disagree are refused; the multiple is their lcm", () => {
  const other = (changes: Partial<SliceModel>) => Object.assign(new FakeModel(), changes);
  assert.throws(
    () =>
      new EnsembleSliceModel([new FakeModel(), other({ convention: "brats2023" } as never)], [
        "a",
        "b",
      ]),
    /b: has convention brats2023 but a has brats2017/,
  );
  assert.throws(
    () => new EnsembleSliceModel([new FakeModel(), other({ classes: 5 } as never)]),
    /classes/,
  );
  // A convention with another class count is named as the convention, not the classes.
  assert.throws(
    () =>
      new EnsembleSliceModel([
        new FakeModel(),
        other({ convention: "brats2015", classes: 5 } as never),
      ]),
    /has convention brats2015 but model 1 has brats2017/,
  );
  assert.throws(() => new EnsembleSliceModel([]), /at least one model/);
  const mixed = new EnsembleSliceModel([
    other({ multiple: 16 } as never),
    other({ multiple: 24 } as never),
  ]);
  assert.equal(mixed.multiple, 48);
});
