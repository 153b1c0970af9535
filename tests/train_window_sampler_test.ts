import assert from "node:assert/strict";
import { CaseCache, type CaseSliceIndex, WindowSampler } from "../train/window_sampler.ts";

function cases(): CaseSliceIndex[] {
  const make = (id: string, depth: number, tumour: number[]) => {
    const t = new Uint8Array(depth);
    for (const z of tumour) t[z] = 1;
    return { id, depth, tumour: t };
  };
  return [make("a", 10, [4, 5]), make("b", 8, []), make("c", 12, [0, 11]), make("d", 6, [3])];
}

const key = (w: { caseIndex: number; start: number }) => `${w.caseIndex}:${w.start}`;

Deno.test("window order is a function of seed and epoch", () => {
  const s1 = new WindowSampler(cases(), { seed: 5, groupCases: 2 });
  const s2 = new WindowSampler(cases(), { seed: 5, groupCases: 2 });
  const s3 = new WindowSampler(cases(), { seed: 6, groupCases: 2 });
  assert.deepEqual(s1.windows(3, 2), s2.windows(3, 2));
  assert.notDeepEqual(s1.windows(3, 2).map(key), s1.windows(4, 2).map(key));
  assert.notDeepEqual(s1.windows(3, 2).map(key), s3.windows(3, 2).map(key));
});

Deno.test("phase 1 keeps exactly the windows with tumour", () => {
  const s = new WindowSampler(cases(), { seq: 3, seed: 1 });
  const got = s.windows(0, 1).map(key).sort();
  // a: starts 2..5 touch 4-5; c: start 0 and start 9 (slices 9-11); d: starts 1..3 touch 3.
  const want = ["0:2", "0:3", "0:4", "0:5", "2:0", "2:9", "3:1", "3:2", "3:3"].sort();
  assert.deepEqual(got, want);
  assert.ok(s.windows(0, 1).every((w) => w.tumour));
});

Deno.test("phase 2 keeps all windows at skip 0 and thins only empty ones otherwise", () => {
  const all = new WindowSampler(cases(), { seq: 3, emptySkip: 0 }).windows(0, 2);
  assert.equal(all.length, 8 + 6 + 10 + 4);
  assert.equal(new Set(all.map(key)).size, all.length);
  const none = new WindowSampler(cases(), { seq: 3, emptySkip: 1 }).windows(0, 2);
  assert.deepEqual(
    none.map(key).sort(),
    new WindowSampler(cases(), { seq: 3 }).windows(0, 1).map(key).sort(),
  );
  const half = new WindowSampler(cases(), { seq: 3, emptySkip: 0.5, seed: 2 });
  const counts = [0, 1, 2, 3, 4, 5, 6, 7].map((e) =>
    half.windows(e, 2).filter((w) => !w.tumour).length
  );
  const mean = counts.reduce((a, b) => a + b) / counts.length;
  assert.ok(mean > 5 && mean < 14, `mean empty windows kept ${mean} of 19`);
});

Deno.test("windows of a group of cases stay together, batches cut in order", () => {
  const s = new WindowSampler(cases(), { seq: 3, batch: 4, groupCases: 2, emptySkip: 0 });
  const w = s.windows(1, 2);
  const firstGroup = new Set(w.slice(0, 14).map((x) => x.caseIndex));
  assert.ok(firstGroup.size <= 2);
  const b = s.batches(1, 2);
  assert.deepEqual(b.flat(), w);
  assert.ok(b.slice(0, -1).every((x) => x.length === 4));
  assert.throws(() => new WindowSampler(cases(), { seq: 0 }), /seq/);
  assert.throws(() => new WindowSampler(cases(), { emptySkip: 2 }), /skip/);
});

Deno.test("case cache loads lazily and evicts the least recently used", async () => {
  const loaded: number[] = [];
  const cache = new CaseCache((i) => {
    loaded.push(i);
    return Promise.resolve(i * 10);
  }, { capacity: 2 });
  assert.equal(await cache.get(1), 10);
  await cache.get(2);
  await cache.get(1); // hit; 2 is now the oldest
  await cache.get(3); // evicts 2
  await cache.get(1); // hit
  await cache.get(2); // reload
  assert.deepEqual(loaded, [1, 2, 3, 2]);
  assert.equal(cache.size, 2);
});
