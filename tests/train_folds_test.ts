import assert from "node:assert/strict";
import { assignFolds } from "../train/folds.ts";
import { Random } from "../data/random.ts";

/** 27 cases, 19 of them with an enhancing part (ids deliberately unsorted). */
const CASES = Array.from({ length: 27 }, (_, i) => ({
  id: `case_${String((i * 7) % 27).padStart(2, "0")}`,
  enhancing: (i * 7) % 27 < 19,
}));

Deno.test("folds: the five validation sets partition the cases", () => {
  const folds = assignFolds(CASES, 5, 1);
  assert.equal(folds.length, CASES.length);
  const sets = Array.from(
    { length: 5 },
    (_, f) => CASES.filter((_, i) => folds[i] === f).map((c) => c.id),
  );
  assert.deepEqual(sets.flat().sort(), CASES.map((c) => c.id).sort()); // each case in exactly one
  const sizes = sets.map((s) => s.length);
  assert(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
});

Deno.test("folds: stratified, each fold's share of enhancing and other cases within one", () => {
  for (const seed of [1, 2, 3]) {
    const folds = assignFolds(CASES, 5, seed);
    for (const kind of [true, false]) {
      const counts = [0, 1, 2, 3, 4].map((f) =>
        CASES.filter((c, i) => folds[i] === f && c.enhancing === kind).length
      );
      assert(Math.max(...counts) - Math.min(...counts) <= 1, `seed ${seed} ${kind}: ${counts}`);
    }
  }
});

Deno.test("folds: deterministic from the sorted ids and the seed, not the order given", () => {
  const a = assignFolds(CASES, 5, 7);
  const shuffled = Random.forKey(99).shuffle([...CASES.keys()]);
  const b = assignFolds(shuffled.map((i) => CASES[i]), 5, 7);
  shuffled.forEach((i, j) => assert.equal(b[j], a[i], CASES[i].id));
  assert.deepEqual(assignFolds(CASES, 5, 7), a);
  assert.notDeepEqual(assignFolds(CASES, 5, 8), a, "another seed, another split");
});

Deno.test("folds: too few folds or cases are refused", () => {
  assert.throws(() => assignFolds(CASES, 1, 1), /--folds/);
  assert.throws(() => assignFolds(CASES.slice(0, 3), 5, 1), /5 folds need at least 5 cases/);
});
