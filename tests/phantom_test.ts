import assert from "node:assert/strict";
import { generatePhantom } from "../data/phantom.ts";

const SIZE: [number, number, number] = [112, 112, 72];

Deno.test("phantoms are deterministic for a seed and differ between seeds", () => {
  const a = generatePhantom({ size: [48, 48, 32], seed: 3 });
  const b = generatePhantom({ size: [48, 48, 32], seed: 3 });
  const c = generatePhantom({ size: [48, 48, 32], seed: 4 });
  assert.deepEqual(a.modalities.t1ce, b.modalities.t1ce);
  assert.deepEqual(a.label, b.label);
  assert.notDeepEqual(a.modalities.flair, c.modalities.flair);
});

Deno.test("phantoms look like MRI: tissue contrasts per modality, tumour over many slices", () => {
  for (let seed = 1; seed <= 6; seed++) {
    const p = generatePhantom({ size: SIZE, seed: seed * 7919 });
    const [X, Y, Z] = p.shape;
    assert.ok(new Set(p.label).isSubsetOf(new Set([0, 1, 2, 4])));
    assert.equal(p.label.includes(4), p.hasEnhancing, `seed ${seed}`);
    // Background is exactly 0 in every modality, brain never 0, labels only inside the brain.
    for (let i = 0; i < p.label.length; i += 7) {
      const zero = p.modalities.flair[i] === 0;
      assert.equal(p.modalities.t1[i] === 0, zero);
      if (zero) assert.equal(p.label[i], 0);
    }
    const slices = new Set<number>();
    for (let i = 0; i < p.label.length; i++) if (p.label[i]) slices.add(Math.floor(i / (X * Y)));
    assert.ok(slices.size >= 0.12 * Z, `tumour spans ${slices.size} slices`);
    // Mean intensity per label relative to the brain mean, per modality.
    const rel = (m: Int16Array, label: number) => {
      let s = 0, n = 0, all = 0, na = 0;
      for (let i = 0; i < m.length; i++) {
        if (m[i] === 0) continue;
        all += m[i];
        na++;
        if (p.label[i] === label) {
          s += m[i];
          n++;
        }
      }
      return (s / n) / (all / na);
    };
    assert.ok(rel(p.modalities.flair, 2) > 1.4, "oedema bright in FLAIR");
    assert.ok(rel(p.modalities.t2, 2) > 1.3, "oedema bright in T2");
    if (p.hasEnhancing) {
      assert.ok(rel(p.modalities.t1ce, 4) > 1.25, "enhancing rim bright in T1c");
      assert.ok(rel(p.modalities.t1, 4) < 1, "and not in T1");
    }
  }
});

Deno.test("some phantoms have two tumours, some no enhancing part, most one enhancing tumour", () => {
  const kinds = { two: 0, noEnhancing: 0 };
  for (let seed = 1; seed <= 40; seed++) {
    const p = generatePhantom({ size: [24, 24, 16], seed });
    if (p.tumours === 2) kinds.two++;
    if (!p.hasEnhancing) kinds.noEnhancing++;
  }
  assert.ok(kinds.two >= 2 && kinds.two <= 20, JSON.stringify(kinds));
  assert.ok(kinds.noEnhancing >= 2 && kinds.noEnhancing <= 20, JSON.stringify(kinds));
});
