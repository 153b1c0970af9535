import assert from "node:assert/strict";
import {
  keepLargestComponent,
  postprocessingActive,
  postprocessLabels,
} from "../data/postprocess.ts";
import { PostprocessSearch } from "../data/postprocess_search.ts";

/** A volume of `shape` with `label` in the boxes given as [x0, x1, y0, y1, z0, z1] (ends excluded). */
function boxes(shape: number[], parts: [number, number[]][]): Uint8Array {
  const [nx, ny, nz] = shape;
  const v = new Uint8Array(nx * ny * nz);
  for (const [label, [x0, x1, y0, y1, z0, z1]] of parts) {
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) v[(z * ny + y) * nx + x] = label;
    }
  }
  return v;
}

Deno.test("largest component: the biggest tumour blob stays whole, the others go", () => {
  const shape = [12, 10, 6];
  // A 4×4×4 blob of oedema with an enhancing inside; a 2×2×2 blob elsewhere; one voxel.
  const v = boxes(shape, [
    [2, [0, 4, 0, 4, 0, 4]],
    [4, [1, 3, 1, 3, 1, 3]],
    [1, [8, 10, 6, 8, 2, 4]],
    [4, [11, 12, 9, 10, 5, 6]],
  ]);
  const before = v.slice();
  assert.equal(keepLargestComponent(v, shape), 9);
  v.forEach((label, i) => {
    const inBlob = before[i] !== 0 && (i % 12) < 4 && Math.floor(i / 12) % 10 < 4;
    assert.equal(label, inBlob ? before[i] : 0, `voxel ${i}`);
  });
});

Deno.test("largest component: only face neighbours join; edge contact makes two", () => {
  // Two voxels touching along an edge (x and y both differ) are two components.
  const shape = [3, 3, 1];
  const v = Uint8Array.from([2, 2, 0, 0, 0, 2, 0, 0, 2]);
  assert.equal(keepLargestComponent(v, shape), 2);
  assert.deepEqual([...v], [2, 2, 0, 0, 0, 0, 0, 0, 0]);
  // Across slices: a column through z is one component.
  const column = new Uint8Array(2 * 2 * 5);
  for (let z = 0; z < 5; z++) column[z * 4] = 2;
  column[3] = 1; // diagonal in-plane from the column's first voxel
  assert.equal(keepLargestComponent(column, [2, 2, 5]), 1);
  assert.equal(column.filter((x) => x === 2).length, 5);
});

Deno.test("largest component: empty and single-component volumes are unchanged", () => {
  const empty = new Uint8Array(27);
  assert.equal(keepLargestComponent(empty, [3, 3, 3]), 0);
  const one = boxes([4, 4, 4], [[2, [0, 4, 0, 4, 0, 4]], [4, [1, 2, 1, 2, 1, 2]]]);
  const copy = one.slice();
  assert.equal(keepLargestComponent(one, [4, 4, 4]), 0);
  assert.deepEqual(one, copy);
  assert.throws(() => keepLargestComponent(new Uint8Array(5), [2, 2, 2]), RangeError);
});

Deno.test("small-enhancing rule: relabelled as core only below the threshold", () => {
  const shape = [5, 1, 1];
  const run = (min: number, convention: "brats2017" | "brats2015" | "brats2023", enh: number) => {
    const v = Uint8Array.from([2, enh, enh, 2, 0]);
    return { result: postprocessLabels(v, shape, convention, { minEnhancing: min }), v: [...v] };
  };
  assert.deepEqual(run(2, "brats2017", 4).v, [2, 4, 4, 2, 0]); // exactly N: kept
  const below = run(3, "brats2017", 4);
  assert.deepEqual(below.v, [2, 1, 1, 2, 0]);
  assert.deepEqual(below.result, { removed: 0, relabelled: true, enhancing: 2 });
  assert.deepEqual(run(3, "brats2015", 4).v, [2, 3, 3, 2, 0]); // brats2015's non-enhancing
  assert.deepEqual(run(3, "brats2023", 3).v, [2, 1, 1, 2, 0]);
  assert.deepEqual(run(0, "brats2017", 4).v, [2, 4, 4, 2, 0]); // off
  assert.throws(() => run(-1, "brats2017", 4), /--min-enhancing/);
  assert.throws(() => run(1.5, "brats2017", 4), RangeError);
});

Deno.test("postprocessing: components first, so an enhancing speck alone cannot keep enhancing", () => {
  // Tumour of 3 voxels, one enhancing; a separate speck of 2 enhancing voxels.
  const v = Uint8Array.from([2, 4, 2, 0, 4, 4, 0, 0]);
  const before = v.slice();
  // Without the component rule 3 enhancing voxels are seen, so a threshold of 3 keeps them.
  assert.equal(
    postprocessLabels(before, [8, 1, 1], "brats2017", { minEnhancing: 3 }).relabelled,
    false,
  );
  const result = postprocessLabels(v, [8, 1, 1], "brats2017", {
    minEnhancing: 3,
    largestComponent: true,
  });
  assert.deepEqual(result, { removed: 2, relabelled: true, enhancing: 1 });
  assert.deepEqual([...v], [2, 1, 2, 0, 0, 0, 0, 0]);
  assert.equal(postprocessingActive({ minEnhancing: 0, largestComponent: false }), false);
  assert.equal(postprocessingActive({ largestComponent: true }), true);
});

Deno.test("postprocessing search: picks what helps on the cases, nothing when nothing helps", () => {
  const shape = [10, 1, 1];
  // Truth: a tumour at 0-5 without enhancing. Prediction: the tumour with two enhancing voxels,
  // and a false speck at 8.
  const truth = Uint8Array.from([2, 1, 1, 1, 2, 2, 0, 0, 0, 0]);
  const pred = Uint8Array.from([2, 4, 4, 1, 2, 2, 0, 0, 2, 0]);
  const search = new PostprocessSearch("brats2017", { grid: [0, 2, 3, 10] });
  search.add(pred, truth, shape);
  assert.deepEqual(pred, Uint8Array.from([2, 4, 4, 1, 2, 2, 0, 0, 2, 0]), "inputs unchanged");
  const best = search.best();
  assert.deepEqual(best.post, { minEnhancing: 3, largestComponent: true }); // the smallest T that helps
  assert.equal(best.mean, 1);
  assert.equal(search.scores().length, 8);
  // A prediction that is already right: the first (no postprocessing) stays chosen.
  const exact = new PostprocessSearch("brats2017");
  exact.add(truth, truth, shape);
  assert.deepEqual(exact.best().post, { minEnhancing: 0, largestComponent: false });
  // A real small enhancing region must not be relabelled: enhancing in both.
  const keep = new PostprocessSearch("brats2017", { grid: [0, 5] });
  const withEnh = Uint8Array.from([2, 4, 4, 1, 2, 2, 0, 0, 0, 0]);
  keep.add(withEnh, withEnh, shape);
  assert.deepEqual(keep.best().post, { minEnhancing: 0, largestComponent: false });
  assert.ok(keep.scores()[1].dice.enhancing === 0, "T = 5 would lose the enhancing part");
});
