import assert from "node:assert/strict";
import { Random } from "../data/random.ts";
import { brainStats, gamma, lowResolution } from "../train/_augment_intensity.ts";
import { type AugmentOptions, augmentWindow, type WindowData } from "../train/augment.ts";

/** One window of n×n planes: a square of brain, random intensities, background 0. */
function window(n: number, channels: number, seed: number, seq = 1): WindowData {
  const rng = new Random(seed), plane = n * n;
  const image = new Float32Array(seq * channels * plane);
  for (let p = 0; p < seq * channels; p++) {
    for (let y = 4; y < n - 4; y++) {
      for (let x = 4; x < n - 4; x++) image[p * plane + y * n + x] = 1 + rng.normal();
    }
  }
  return { seq, channels, height: n, width: n, image, classes: new Uint8Array(seq * plane) };
}

const only = (extra: AugmentOptions): AugmentOptions => ({ preset: "none", ...extra });
const stats = (image: Float32Array, mask: Float32Array | Uint8Array) =>
  brainStats([image], [Uint8Array.from(mask, (v) => (v ? 1 : 0))]);

Deno.test("gamma 1 is the identity; gamma keeps the brain's mean and deviation and background 0", () => {
  const w = window(32, 1, 1), mask = w.image.map((v) => (v !== 0 ? 1 : 0));
  const m = Uint8Array.from(mask);
  const p = w.image.slice();
  gamma([p], [m], 1);
  p.forEach((v, i) => assert.ok(Math.abs(v - w.image[i]) < 1e-5, `voxel ${i}: ${v}`));
  for (const g of [0.7, 1.5]) {
    const q = w.image.slice();
    gamma([q], [m], g);
    const a = stats(w.image, mask), b = stats(q, mask);
    assert.ok(Math.abs(a.mean - b.mean) < 1e-4 && Math.abs(a.sd - b.sd) < 1e-4, `gamma ${g}`);
    assert.ok(q.some((v, i) => Math.abs(v - w.image[i]) > 1e-2), `gamma ${g} changed nothing`);
    q.forEach((v, i) => mask[i] || assert.equal(v, 0));
  }
});

Deno.test("brightness multiplies brain voxels by one factor per modality", () => {
  const src = window(24, 2, 2), w = { ...src, image: src.image.slice() };
  const d = augmentWindow(w, [1, 0, 0, 0], only({ brightness: { p: 1 } }));
  const [f0, f1] = d.channels.map((c) => c.brightness);
  assert.ok(f0 !== f1 && f0 >= 0.75 && f0 <= 1.25);
  const plane = 24 * 24;
  src.image.forEach((v, i) =>
    assert.ok(Math.abs(w.image[i] - v * (i < plane ? f0 : f1)) < 1e-6, `voxel ${i}`)
  );
});

Deno.test("noise adds the drawn variance to brain voxels only", () => {
  const src = window(96, 1, 3), w = { ...src, image: src.image.slice() };
  const d = augmentWindow(w, [2, 0, 0, 0], only({ noise: { p: 1, range: [0.05, 0.05] } }));
  assert.equal(d.channels[0].noise, 0.05);
  const residual = w.image.map((v, i) => v - src.image[i]);
  const mask = src.image.map((v) => (v !== 0 ? 1 : 0));
  const s = stats(residual, mask);
  assert.ok(Math.abs(s.sd ** 2 - 0.05) < 0.005, `variance ${s.sd ** 2}`);
  src.image.forEach((v, i) => v !== 0 || assert.equal(w.image[i], 0));
});

Deno.test("contrast scales deviations about the brain mean", () => {
  const src = window(48, 1, 4), w = { ...src, image: src.image.slice() };
  augmentWindow(w, [1, 0, 0, 0], only({ contrast: { p: 1, range: [0.5, 0.5] } }));
  const mask = src.image.map((v) => (v !== 0 ? 1 : 0));
  const a = stats(src.image, mask), b = stats(w.image, mask);
  assert.ok(Math.abs(a.mean - b.mean) < 1e-4 && Math.abs(b.sd - a.sd / 2) < 1e-4);
});

Deno.test("blur and low resolution smooth the brain and keep the background 0", () => {
  const roughness = (w: WindowData) => {
    let s = 0;
    for (let i = 1; i < w.image.length; i++) s += Math.abs(w.image[i] - w.image[i - 1]);
    return s;
  };
  const src = window(48, 2, 5, 2);
  for (
    const options of [
      only({ blur: { p: 1, perChannel: 1, range: [1, 1] } }),
      only({ lowRes: { p: 1, perChannel: 1, range: [2, 2] } }),
    ]
  ) {
    const w = { ...src, image: src.image.slice() };
    augmentWindow(w, [1, 0, 0, 0], options);
    assert.ok(roughness(w) < 0.7 * roughness(src), JSON.stringify(options));
    src.image.forEach((v, i) => v !== 0 || assert.equal(w.image[i], 0));
  }
});

Deno.test("low resolution by 1 changes nothing; by 2 keeps a 2×2-blocky plane's block means", () => {
  const n = 8, p = new Float32Array(n * n).map((_, i) => ((i % n) >> 1) + 10 * ((i / n | 0) >> 1));
  const q = p.slice();
  lowResolution(q, n, n, 1);
  assert.deepEqual(q, p);
  lowResolution(q, n, n, 2);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(q) - mean(p)) < 0.5, `${mean(q)} vs ${mean(p)}`);
});

Deno.test("the basic preset is today's recipe: per-modality scale and shift within ±0.1", () => {
  const src = window(16, 4, 6), w = { ...src, image: src.image.slice() };
  const d = augmentWindow(w, [4, 0, 0, 0], { preset: "basic", mirror: { p: 0 } });
  for (const c of d.channels) {
    assert.ok(Math.abs(c.brightness - 1) <= 0.1 && Math.abs(c.shift) <= 0.1);
    assert.deepEqual([c.gamma, c.contrast, c.noise, c.blur, c.lowRes], [1, 1, 0, 0, 1]);
  }
  const plane = 16 * 16;
  src.image.forEach((v, i) => {
    const c = d.channels[Math.floor(i / plane)];
    assert.ok(Math.abs(w.image[i] - (v === 0 ? 0 : v * c.brightness + c.shift)) < 1e-6);
  });
});
