import assert from "node:assert/strict";
import { cropFor } from "../data/preprocess.ts";
import { assembleBatch, type LoadedCase } from "../train/training_data.ts";
import { choosePatch } from "../train/window_sampler.ts";

/** A case whose voxel values encode their coordinates: 1 + x + 256 y + 65536 (4 z + m); labels (x + y) % 4. */
function codedCase(width: number, height: number, depth = 4): LoadedCase {
  const plane = width * height;
  const image = new Float32Array(depth * 4 * plane), classes = new Uint8Array(depth * plane);
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        classes[z * plane + y * width + x] = (x + y) % 4;
        for (let m = 0; m < 4; m++) {
          image[(z * 4 + m) * plane + y * width + x] = 1 + x + 256 * y + 65536 * (4 * z + m);
        }
      }
    }
  }
  return {
    id: `coded${width}x${height}`,
    width,
    height,
    depth,
    crop: cropFor(width, height),
    modalities: 4,
    image,
    classes,
  };
}

const decode = (v: number) => {
  const k = v - 1;
  return { x: k % 256, y: Math.floor(k / 256) % 256, p: Math.floor(k / 65536) };
};

Deno.test("patches are P×P crops of whole slices with images and labels aligned", () => {
  const c = codedCase(64, 48), P = 32, plane = P * P;
  const windows = [0, 1, 0].map((start) => ({ caseIndex: 0, start, tumour: true }));
  for (const step of [0, 1, 2]) {
    const b = assembleBatch(windows, {
      cases: [c, c, c],
      seq: 3,
      key: [1, 0, step],
      augment: false,
      patch: { size: P },
    });
    assert.deepEqual([b.width, b.height, b.image.length], [P, P, 3 * 3 * 4 * plane]);
    for (let w = 0; w < 3; w++) {
      const first = decode(b.image[w * 3 * 4 * plane]);
      for (let z = 0; z < 3; z++) {
        for (let i = 0; i < plane; i++) {
          const at = decode(b.image[((w * 3 + z) * 4 + 2) * plane + i]);
          const [ox, oy] = [i % P, Math.floor(i / P)];
          assert.deepEqual(at, {
            x: first.x + ox,
            y: first.y + oy,
            p: 4 * (windows[w].start + z) + 2,
          });
          assert.equal(b.labels[(w * 3 + z) * plane + i], (at.x + at.y) % 4);
        }
      }
      assert.ok(first.x <= 64 - P && first.y <= 48 - P);
    }
  }
});

Deno.test("slices smaller than the patch are padded, centred; right-angle augmentation keeps alignment", () => {
  const c = codedCase(16, 16), P = 48, plane = P * P;
  const window = [{ caseIndex: 0, start: 0, tumour: false }];
  const b = assembleBatch(window, {
    cases: [c],
    seq: 2,
    key: [3, 0, 0],
    augment: false,
    patch: { size: P },
  });
  for (let i = 0; i < plane; i++) {
    const [x, y] = [i % P - 16, Math.floor(i / P) - 16];
    const inside = x >= 0 && x < 16 && y >= 0 && y < 16;
    assert.equal(b.image[i], inside ? 1 + x + 256 * y : 0);
  }
  // Rotations by right angles and mirroring map voxels onto voxels: labels must follow the images.
  const big = codedCase(64, 64);
  for (let step = 0; step < 6; step++) {
    const a = assembleBatch(window, {
      cases: [big],
      seq: 2,
      key: [3, 0, step],
      augment: { preset: "none", rotation: { p: 1, range: [90, 90] }, mirror: { p: 0.5 } },
      patch: { size: 32 },
    });
    for (let i = 0; i < 2 * 32 * 32; i++) {
      const z = Math.floor(i / 1024), at = decode(a.image[z * 4 * 1024 + (i % 1024)]);
      assert.equal(a.labels[i], (at.x + at.y) % 4);
    }
  }
});

Deno.test("the tumour share of crops is honoured and crops are deterministic per key", () => {
  const W = 128, H = 96, classes = new Uint8Array(2 * W * H);
  classes[W * H + 70 * W + 9] = 3; // one tumour voxel, slice 1 of the window, near the left edge
  const window = { classes, width: W, height: H, seq: 2 };
  let forced = 0, containing = 0;
  const n = 3000;
  for (let k = 0; k < n; k++) {
    const place = choosePatch(window, { size: 32, key: [11, 2, k, 0] });
    assert.deepEqual(choosePatch(window, { size: 32, key: [11, 2, k, 0] }), place);
    assert.ok(place.left >= 0 && place.left <= W - 32 && place.top >= 0 && place.top <= H - 32);
    const inside = 9 >= place.left && 9 < place.left + 32 && 70 >= place.top && 70 < place.top + 32;
    if (place.tumour) {
      forced++;
      assert.ok(inside, `forced crop ${JSON.stringify(place)} misses the tumour`);
    }
    if (inside) containing++;
  }
  // Default share 1/3: 3 standard deviations of a binomial of 3000 draws is 0.026.
  assert.ok(Math.abs(forced / n - 1 / 3) < 0.026, `forced share ${forced / n}`);
  assert.ok(containing / n > forced / n + 0.02, `containing ${containing / n}`);
  const half = Array.from(
    { length: n },
    (_, k) => choosePatch(window, { size: 32, tumourShare: 0.6, key: [4, 0, k, 1] }).tumour,
  );
  assert.ok(Math.abs(half.filter(Boolean).length / n - 0.6) < 0.027);
  // Without tumour in the window, a forced crop falls back to a uniform one.
  const empty = { ...window, classes: new Uint8Array(2 * W * H) };
  assert.ok(!choosePatch(empty, { size: 32, tumourShare: 1, key: [1, 0, 0, 0] }).tumour);
  assert.throws(() => choosePatch(window, { size: 40, key: [1, 0, 0, 0] }), /multiple of 16/);
  assert.throws(
    () => choosePatch(window, { size: 32, tumourShare: 2, key: [1, 0, 0, 0] }),
    /share/,
  );
});

Deno.test("whole-slice batches without augmentation copy the windows exactly", () => {
  const c = codedCase(32, 16);
  const b = assembleBatch([{ caseIndex: 0, start: 1, tumour: false }], {
    cases: [c],
    seq: 3,
    key: [1, 2, 3],
    augment: false,
  });
  assert.deepEqual(b.image, c.image.slice(1 * 4 * 512, 4 * 4 * 512));
  assert.deepEqual(b.labels, Float32Array.from(c.classes.slice(512, 4 * 512)));
  const other = { ...codedCase(48, 16), id: "wider" };
  const two = [0, 0].map((start, caseIndex) => ({ caseIndex, start, tumour: false }));
  assert.throws(
    () => assembleBatch(two, { cases: [c, other], seq: 3, key: [1, 0, 0] }),
    /share one/,
  );
  // Patches lift that restriction: cases of any slice size share a batch.
  const mixed = assembleBatch(two, {
    cases: [c, other],
    seq: 3,
    key: [1, 0, 0],
    patch: { size: 16 },
  });
  assert.equal(mixed.width, 16);
});
