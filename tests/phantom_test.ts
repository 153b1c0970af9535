import assert from "node:assert/strict";
import { generatePhantom, type Phantom } from "../data/phantom.ts";

const SIZE: [number, number, number] = [112, 112, 72];
const SMALL: [number, number, number] = [56, 56, 36];

/** FNV-1a over the label and the four modalities' bytes. */
function fingerprint(p: Phantom): number {
  let h = 0x811c9dc5;
  const { flair, t1, t1ce, t2 } = p.modalities;
  for (const a of [p.label, flair, t1, t1ce, t2]) {
    const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  }
  return h >>> 0;
}

Deno.test("phantoms are deterministic for a seed and differ between seeds", () => {
  for (const variety of ["classic", "rich"] as const) {
    const a = generatePhantom({ size: [48, 48, 32], seed: 3, variety });
    const b = generatePhantom({ size: [48, 48, 32], seed: 3, variety });
    const c = generatePhantom({ size: [48, 48, 32], seed: 4, variety });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.modalities.flair, c.modalities.flair);
  }
});

Deno.test("classic is the default and makes exactly the phantoms synth always made", () => {
  // Fingerprints of the generator before the varieties existed (seed 5: no enhancing part, 10: two tumours).
  const before: Record<number, number> = { 1: 0x32b74d6d, 5: 0x6c752fcc, 10: 0x0b662cdc };
  for (const [seed, print] of Object.entries(before)) {
    const options = { size: [40, 36, 24], seed: Number(seed), labels: "brats2015" } as const;
    assert.equal(fingerprint(generatePhantom(options)), print, `seed ${seed}`);
    assert.equal(fingerprint(generatePhantom({ ...options, variety: "classic" })), print);
  }
  const rich = generatePhantom({ size: [40, 36, 24], seed: 1, variety: "rich" });
  assert.notEqual(fingerprint(rich), before[1]);
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
    const rel = (m: Int16Array, label: number) => relativeMean(p, m, label);
    assert.ok(rel(p.modalities.flair, 2) > 1.4, "oedema bright in FLAIR");
    assert.ok(rel(p.modalities.t2, 2) > 1.3, "oedema bright in T2");
    if (p.hasEnhancing) {
      assert.ok(rel(p.modalities.t1ce, 4) > 1.25, "enhancing rim bright in T1c");
      assert.ok(rel(p.modalities.t1, 4) < 1, "and not in T1");
    }
  }
});

/** Mean intensity of a label relative to the brain's mean. */
function relativeMean(p: Phantom, m: Int16Array, label: number): number {
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
}

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

Deno.test("rich phantoms keep the conventions and still look like MRI", () => {
  const counts = [0, 0, 0, 0];
  for (let seed = 1; seed <= 8; seed++) {
    const p = generatePhantom({ size: SMALL, seed, variety: "rich", labels: "brats2023" });
    counts[p.tumours]++;
    assert.ok(new Set(p.label).isSubsetOf(new Set([0, 1, 2, 3])));
    assert.equal(p.label.includes(3), p.hasEnhancing);
    for (let i = 0; i < p.label.length; i++) {
      if (p.modalities.t2[i] === 0) assert.equal(p.label[i], 0);
    }
    assert.ok(relativeMean(p, p.modalities.flair, 2) > 1.2, `seed ${seed}: oedema bright in FLAIR`);
  }
  assert.ok(counts[1] > 0 && counts[2] + counts[3] > 0, `tumour counts ${counts}`);
});
