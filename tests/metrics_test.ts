import assert from "node:assert/strict";
import { CaseScorer, EMPTY_REGION_RULE, scoreCase } from "../data/metrics.ts";
import { percentile } from "../data/hd95.ts";
import { summariseScores } from "../data/score_summary.ts";

const close = (a: number, b: number, eps = 1e-9) =>
  assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

Deno.test("hand-computed scores on a 5×1×1 volume with 2 mm x spacing", () => {
  const truth = new Uint8Array([0, 2, 2, 0, 0]);
  const pred = new Uint8Array([0, 0, 2, 2, 0]);
  const s = scoreCase(pred, truth, {
    shape: [5, 1, 1],
    spacing: [2, 1, 1],
    convention: "brats2017",
  });
  close(s.dice.whole, 0.5);
  close(s.sensitivity.whole, 0.5);
  close(s.ppv.whole, 0.5);
  // Surface distances pooled: pred->truth [0, 2], truth->pred [2, 0]; 95th percentile of [0,0,2,2] = 2.
  close(s.hd95.whole, 2);
  // Core and enhancing empty in both: the stated rule gives 1 and HD95 0.
  assert.deepEqual([s.dice.core, s.sensitivity.core, s.ppv.core, s.hd95.core], [1, 1, 1, 0]);
  assert.deepEqual(Object.keys(s.iou).sort(), ["0", "2"]);
  close(s.iou["0"], 2 / 4);
  close(s.iou["2"], 1 / 3);
  close(s.meanIoU, (0.5 + 1 / 3) / 2);
  assert.deepEqual(s.confusion, [[2, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]);
});

Deno.test("anisotropic z spacing enters HD95; one-sided empty region gets the diagonal", () => {
  const truth = new Uint8Array([4, 0, 0, 0]);
  const pred = new Uint8Array([0, 0, 0, 4]);
  const s = scoreCase(pred, truth, {
    shape: [1, 1, 4],
    spacing: [1, 1, 3],
    convention: "brats2017",
  });
  close(s.hd95.enhancing, 9);
  close(s.dice.enhancing, 0);
  const empty = scoreCase(new Uint8Array(4), truth, {
    shape: [1, 1, 4],
    spacing: [1, 1, 3],
    convention: "brats2017",
  });
  assert.deepEqual([empty.dice.whole, empty.sensitivity.whole, empty.ppv.whole], [0, 0, 0]);
  close(empty.hd95.whole, Math.hypot(1, 1, 12));
  const extra = scoreCase(truth, new Uint8Array(4), {
    shape: [1, 1, 4],
    spacing: [1, 1, 3],
    convention: "brats2017",
  });
  assert.deepEqual([extra.dice.core, extra.sensitivity.core, extra.ppv.core], [0, 0, 0]);
  assert.match(EMPTY_REGION_RULE, /both.*HD95 0/);
});

Deno.test("percentile interpolates linearly like numpy", () => {
  close(percentile([1, 2, 3, 4, 5], 95), 4.8);
  close(percentile([3], 95), 3);
  close(percentile([10, 0], 50), 5);
});

/** Straightforward reference: surfaces by brute force, all-pairs distances. */
function naiveHd95(a: Uint8Array, b: Uint8Array, [X, Y, Z]: number[], sp: number[]): number {
  const surf = (m: Uint8Array) => {
    const pts: number[][] = [];
    const at = (x: number, y: number, z: number) =>
      x < 0 || y < 0 || z < 0 || x >= X || y >= Y || z >= Z ? 0 : m[(z * Y + y) * X + x];
    for (let z = 0; z < Z; z++) {
      for (let y = 0; y < Y; y++) {
        for (let x = 0; x < X; x++) {
          if (!at(x, y, z)) continue;
          const inner = at(x - 1, y, z) && at(x + 1, y, z) && at(x, y - 1, z) && at(x, y + 1, z) &&
            at(x, y, z - 1) && at(x, y, z + 1);
          if (!inner) pts.push([x, y, z]);
        }
      }
    }
    return pts;
  };
  const sa = surf(a), sb = surf(b);
  const nearest = (p: number[], qs: number[][]) =>
    Math.min(
      ...qs.map((q) =>
        Math.hypot((p[0] - q[0]) * sp[0], (p[1] - q[1]) * sp[1], (p[2] - q[2]) * sp[2])
      ),
    );
  return percentile([...sa.map((p) => nearest(p, sb)), ...sb.map((p) => nearest(p, sa))], 95);
}

Deno.test("streamed HD95 and Dice match a brute-force reference on random blobs", () => {
  const shape: [number, number, number] = [12, 10, 8];
  const spacing: [number, number, number] = [1, 1.5, 2.5];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let trial = 0; trial < 4; trial++) {
    const blob = () => {
      const m = new Uint8Array(12 * 10 * 8);
      const c = [rand() * 12, rand() * 10, rand() * 8], r = 2 + rand() * 3;
      for (let z = 0; z < 8; z++) {
        for (let y = 0; y < 10; y++) {
          for (let x = 0; x < 12; x++) {
            const d = Math.hypot(x - c[0], y - c[1], (z - c[2]) * 1.5);
            if (d < r + rand()) m[(z * 10 + y) * 12 + x] = d < r * 0.5 ? 4 : 2;
          }
        }
      }
      return m;
    };
    const pred = blob(), truth = blob();
    const s = scoreCase(pred, truth, { shape, spacing, convention: "brats2017" });
    const whole = (m: Uint8Array) => m.map((v) => (v ? 1 : 0));
    const enh = (m: Uint8Array) => m.map((v) => (v === 4 ? 1 : 0));
    close(s.hd95.whole, naiveHd95(whole(pred), whole(truth), shape, spacing), 1e-6);
    if (enh(pred).some((v) => v) && enh(truth).some((v) => v)) {
      close(s.hd95.enhancing, naiveHd95(enh(pred), enh(truth), shape, spacing), 1e-6);
    }
    let tp = 0, np = 0, nt = 0;
    for (let i = 0; i < pred.length; i++) {
      if (pred[i]) np++;
      if (truth[i]) nt++;
      if (pred[i] && truth[i]) tp++;
    }
    close(s.dice.whole, 2 * tp / (np + nt));
  }
});

Deno.test("labels outside the convention are an error naming them; wrong slice count too", () => {
  assert.throws(
    () =>
      scoreCase(new Uint8Array([0, 3, 7, 3]), new Uint8Array(4), {
        shape: [2, 2, 1],
        convention: "brats2017",
      }),
    /prediction label values 3, 7 are not in/,
  );
  const scorer = new CaseScorer([2, 2, 2], { convention: "brats2023" });
  scorer.addSlice([0, 0, 0, 0], [0, 0, 0, 0]);
  assert.throws(() => scorer.finish(), /Got 1 slices, expected 2/);
  assert.throws(() => scorer.addSlice([0, 0, 0], [0, 0, 0]), /expected 2×2/);
});

Deno.test("summary averages cases and pools IoU over all voxels", () => {
  const a = scoreCase(new Uint8Array([2, 2, 0, 0]), new Uint8Array([2, 0, 0, 0]), {
    shape: [4, 1, 1],
    convention: "brats2017",
  });
  const b = scoreCase(new Uint8Array([0, 0, 0, 0]), new Uint8Array([0, 0, 0, 0]), {
    shape: [4, 1, 1],
    convention: "brats2017",
  });
  const sum = summariseScores([a, b], { convention: "brats2017" });
  close(sum.mean.dice.whole, (2 / 3 + 1) / 2);
  close(sum.mean.iou["2"], 0.5); // label 2 occurs only in case a
  close(sum.pooled.iou["0"], 6 / 7);
  close(sum.pooled.iou["2"], 1 / 2);
  close(sum.pooled.meanIoU, (6 / 7 + 1 / 2) / 2);
  assert.equal(sum.cases, 2);
});
