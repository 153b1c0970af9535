import assert from "node:assert/strict";
import { type AugmentOptions, augmentWindow, type WindowData } from "../train/augment.ts";

/** A seq×channels window of n×n planes: a disk of brain (random intensities), labels inside it. */
function brainWindow(n = 16, seq = 2, channels = 2, seed = 1): WindowData {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const plane = n * n, r = n * 0.4, c = (n - 1) / 2;
  const image = new Float32Array(seq * channels * plane);
  const classes = new Uint8Array(seq * plane);
  for (let z = 0; z < seq; z++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const d = Math.hypot(x - c, y - c);
        if (d > r) continue;
        classes[z * plane + y * n + x] = d < r / 3 ? 1 + Math.floor(rand() * 3) : 0;
        for (let m = 0; m < channels; m++) {
          image[(z * channels + m) * plane + y * n + x] = 0.5 + 2 * rand();
        }
      }
    }
  }
  return { seq, channels, height: n, width: n, image, classes };
}

const copy = (w: WindowData): WindowData => ({
  ...w,
  image: w.image.slice(),
  classes: w.classes.slice(),
});

const none = (extra: AugmentOptions): AugmentOptions => ({ preset: "none", ...extra });

Deno.test("augmentation is deterministic per key, flips labels with images, keeps background 0", () => {
  const make = (): WindowData => ({
    seq: 2,
    channels: 2,
    height: 2,
    width: 3,
    image: Float32Array.from({ length: 24 }, (_, i) => (i % 6 === 0 ? 0 : i)),
    classes: Uint8Array.from({ length: 12 }, (_, i) => i),
  });
  // The recipe before nnU-Net's set: mirroring and a per-modality intensity scale and shift.
  const a = make(), b = make();
  const da = augmentWindow(a, [1, 2, 3, 4], { preset: "basic" });
  const db = augmentWindow(b, [1, 2, 3, 4], { preset: "basic" });
  assert.deepEqual(da, db);
  assert.deepEqual(a.image, b.image);
  assert.equal(a.image.filter((v) => v === 0).length, 4);
  // Find a key that mirrors x only, with no intensity change, and check the exact permutation.
  for (let k = 0; k < 50; k++) {
    const w = make();
    const d = augmentWindow(w, [k, 0, 0, 0], {
      preset: "basic",
      brightness: { p: 0 },
      shift: { p: 0 },
    });
    if (!d.mirrorX || d.mirrorY) continue;
    assert.deepEqual([...w.classes], [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
    assert.deepEqual([...w.image.slice(0, 6)], [2, 1, 0, 5, 4, 3]);
    return;
  }
  assert.fail("no x-only mirroring drawn in 50 keys");
});

Deno.test("rotation by 90 degrees is a transpose-flip of every image plane and label plane", () => {
  const n = 16, src = brainWindow(n, 2, 3), w = copy(src);
  const d = augmentWindow(w, [3, 1, 4, 1], none({ rotation: { p: 1, range: [90, 90] } }));
  assert.equal(d.angle, 90);
  const plane = n * n;
  for (let p = 0; p < 2 * 3; p++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        assert.equal(w.image[p * plane + y * n + x], src.image[p * plane + x * n + (n - 1 - y)]);
      }
    }
  }
  for (let z = 0; z < 2; z++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        assert.equal(w.classes[z * plane + y * n + x], src.classes[z * plane + x * n + n - 1 - y]);
      }
    }
  }
});

Deno.test("identity parameters give identical data, spatial and intensity alike", () => {
  const src = brainWindow(16, 3, 4);
  const identity: AugmentOptions = {
    rotation: { p: 1, range: [0, 0] },
    scale: { p: 1, range: [1, 1] },
    elastic: { p: 1, alpha: [0, 0] },
    mirror: { p: 0 },
    gamma: { p: 1, range: [1, 1], invert: 1 },
    brightness: { p: 1, range: [1, 1] },
    contrast: { p: 1, range: [1, 1] },
    noise: { p: 1, range: [0, 0] },
    blur: { p: 1, perChannel: 1, range: [0, 0] },
    lowRes: { p: 1, perChannel: 1, range: [1, 1] },
    shift: { p: 1, range: [0, 0] },
  };
  for (const key of [[1, 0, 0, 0], [2, 5, 7, 1]] as const) {
    const w = copy(src);
    const d = augmentWindow(w, key, identity);
    assert.ok(d.elastic, "the elastic field (alpha 0) was resampled through");
    assert.deepEqual(w.image, src.image);
    assert.deepEqual(w.classes, src.classes);
  }
});

Deno.test("labels stay in the convention's classes; background stays 0 outside the brain", () => {
  const all: AugmentOptions = {
    rotation: { p: 1 },
    scale: { p: 1 },
    elastic: { p: 1, alpha: [100, 200], sigma: [3, 4] },
    gamma: { p: 1, invert: 0.5 },
    brightness: { p: 1 },
    contrast: { p: 1 },
    noise: { p: 1 },
    blur: { p: 1, perChannel: 1 },
    lowRes: { p: 1, perChannel: 1 },
    shift: { p: 1 },
  };
  const spatialOnly: AugmentOptions = {
    ...all,
    gamma: { p: 0, invert: 0 },
    brightness: { p: 0 },
    contrast: { p: 0 },
    noise: { p: 0 },
    blur: { p: 0 },
    lowRes: { p: 0 },
    shift: { p: 0 },
  };
  const src = brainWindow(32, 3, 4, 9), plane = 32 * 32;
  for (let k = 0; k < 8; k++) {
    const full = copy(src), spatial = copy(src);
    const key = [k, 1, 2, 3] as const;
    augmentWindow(full, key, all);
    augmentWindow(spatial, key, spatialOnly);
    // The spatial draws do not depend on which intensity transforms are on.
    assert.deepEqual(full.classes, spatial.classes);
    assert.ok(full.classes.every((v) => v <= 3));
    for (let z = 0; z < 3; z++) {
      for (let i = 0; i < plane; i++) {
        const brain = [0, 1, 2, 3].some((m) => spatial.image[(z * 4 + m) * plane + i] !== 0);
        if (full.classes[z * plane + i] !== 0) assert.ok(brain, `tumour outside the brain at ${i}`);
        if (brain) continue;
        for (let m = 0; m < 4; m++) assert.equal(full.image[(z * 4 + m) * plane + i], 0);
      }
    }
    assert.ok(full.image.some((v, i) => Math.abs(v - spatial.image[i]) > 1e-3));
  }
});

Deno.test("mirroring twice is the identity", () => {
  const src = brainWindow(16, 2, 2);
  const w = copy(src);
  const both = none({ mirror: { p: 1 } });
  const d = augmentWindow(w, [1, 0, 0, 0], both);
  assert.deepEqual([d.mirrorX, d.mirrorY], [true, true]);
  assert.notDeepEqual(w.image, src.image);
  augmentWindow(w, [2, 0, 0, 0], both);
  assert.deepEqual(w.image, src.image);
  assert.deepEqual(w.classes, src.classes);
  for (let k = 0; k < 50; k++) {
    const once = copy(src);
    const dk = augmentWindow(once, [k, 0, 0, 0], none({ mirror: { p: 0.5 } }));
    if (dk.mirrorX === dk.mirrorY) continue;
    augmentWindow(once, [k, 0, 0, 0], none({ mirror: { p: 0.5 } }));
    assert.deepEqual(once.image, src.image);
    return;
  }
  assert.fail("no single-axis mirroring drawn in 50 keys");
});

Deno.test("every slice and modality of a window gets the same spatial transform", () => {
  const one = brainWindow(24, 1, 1, 4), seq = 3, channels = 4, plane = 24 * 24;
  const w: WindowData = {
    seq,
    channels,
    height: 24,
    width: 24,
    image: new Float32Array(seq * channels * plane),
    classes: new Uint8Array(seq * plane),
  };
  for (let p = 0; p < seq * channels; p++) w.image.set(one.image, p * plane);
  for (let z = 0; z < seq; z++) w.classes.set(one.classes, z * plane);
  const d = augmentWindow(w, [5, 0, 0, 2], {
    rotation: { p: 1 },
    scale: { p: 1 },
    elastic: { p: 1, sigma: [3, 3] },
    mirror: { p: 0.5 },
    preset: "none",
  });
  assert.ok(d.angle !== 0 && d.scale !== 1 && d.elastic);
  const first = w.image.slice(0, plane);
  assert.notDeepEqual(first, one.image);
  for (let p = 1; p < seq * channels; p++) {
    assert.deepEqual(w.image.slice(p * plane, (p + 1) * plane), first);
  }
  for (let z = 1; z < seq; z++) {
    assert.deepEqual(w.classes.slice(z * plane, (z + 1) * plane), w.classes.slice(0, plane));
  }
});

Deno.test("scaling zooms about the centre: a zoom of 2 doubles the tumour's extent", () => {
  const n = 32, src = brainWindow(n, 1, 1, 2), w = copy(src);
  augmentWindow(w, [1, 0, 0, 0], none({ scale: { p: 1, range: [2, 2] } }));
  const count = (c: Uint8Array) => c.filter((v) => v !== 0).length;
  const ratio = count(w.classes) / count(src.classes);
  assert.ok(ratio > 3.3 && ratio < 4.7, `tumour area ratio ${ratio}`);
});

Deno.test("draws are deterministic per key and differ between keys", () => {
  const src = brainWindow(16, 2, 4);
  const a = copy(src), b = copy(src), c = copy(src);
  const all: AugmentOptions = { rotation: { p: 1 }, noise: { p: 1 }, elastic: { p: 1 } };
  const da = augmentWindow(a, [7, 1, 2, 0], all);
  assert.deepEqual(augmentWindow(b, [7, 1, 2, 0], all), da);
  assert.deepEqual(a, b);
  assert.notDeepEqual(augmentWindow(c, [7, 1, 2, 1], all), da);
  assert.notDeepEqual(a.image, c.image);
});
