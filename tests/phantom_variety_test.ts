import assert from "node:assert/strict";
import { generatePhantom, type Phantom, type PhantomOptions } from "../data/phantom.ts";
import { encodeNifti } from "../data/nifti_encoder.ts";
import { parseNifti } from "../data/nifti_reader.ts";

const SIZE: [number, number, number] = [80, 80, 56];
const SMALL: [number, number, number] = [48, 48, 32];

/** Voxel counts of the 26-connected components of the voxels `inside` picks. */
function components(p: Phantom, inside: (label: number) => boolean): number[] {
  const [X, Y, Z] = p.shape;
  const seen = new Uint8Array(p.label.length);
  const sizes: number[] = [];
  for (let start = 0; start < p.label.length; start++) {
    if (!inside(p.label[start]) || seen[start]) continue;
    const stack = [start];
    seen[start] = 1;
    let n = 0;
    while (stack.length) {
      const at = stack.pop()!;
      n++;
      const x = at % X, y = Math.floor(at / X) % Y, z = Math.floor(at / (X * Y));
      for (let dz = -1; dz <= 1; dz++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const i = x + dx, j = y + dy, k = z + dz;
            if (i < 0 || j < 0 || k < 0 || i >= X || j >= Y || k >= Z) continue;
            const next = (k * Y + j) * X + i;
            if (inside(p.label[next]) && !seen[next]) {
              seen[next] = 1;
              stack.push(next);
            }
          }
        }
      }
    }
    sizes.push(n);
  }
  return sizes;
}

const count = (a: ArrayLike<number>, f: (v: number) => boolean) => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (f(a[i])) n++;
  return n;
};

/** Calls `f(i, i + 1)` for each pair of x-neighbours inside the brain and outside the tumour. */
function healthyPairs(p: Phantom, f: (a: number, b: number) => void): void {
  const m = p.modalities.t1, X = p.shape[0];
  for (let i = 0; i + 1 < m.length; i++) {
    if ((i + 1) % X === 0 || !m[i] || !m[i + 1] || p.label[i] || p.label[i + 1]) continue;
    f(i, i + 1);
  }
}

Deno.test("tumours: 3 gives three separate tumours, 1 gives one", () => {
  for (const [seed, variety] of [[1, "classic"], [2, "rich"], [6, "rich"]] as const) {
    const three = generatePhantom({ size: SIZE, seed, variety, tumours: 3 });
    const one = generatePhantom({ size: SIZE, seed, variety, tumours: 1 });
    assert.equal(three.tumours, 3);
    assert.equal(one.tumours, 1);
    const core = (v: number) => v !== 0 && v !== 2;
    assert.equal(components(three, core).length, 3, `seed ${seed} ${variety}: cores`);
    assert.equal(components(one, core).length, 1);
    // Oedema may leave a few stray voxels, as classic's does; the tumours themselves are apart.
    const whole = components(three, (v) => v !== 0).filter((n) => n >= 30);
    assert.equal(whole.length, 3, `seed ${seed} ${variety}: ${whole}`);
  }
});

Deno.test("a bias field changes intensity smoothly and leaves the labels alone", () => {
  for (const seed of [1, 2]) {
    const flat = generatePhantom({ size: SMALL, seed, noise: 0, biasField: 0 });
    const biased = generatePhantom({ size: SMALL, seed, noise: 0, biasField: 3 });
    assert.deepEqual(biased.label, flat.label);
    let lo = Infinity, hi = -Infinity, step = 0, pairs = 0;
    const a = flat.modalities.t1, b = biased.modalities.t1;
    healthyPairs(flat, (i, j) => {
      const r = Math.log(b[i] / a[i]);
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
      step += Math.abs(Math.log(b[j] / a[j]) - r);
      pairs++;
    });
    assert.ok(hi - lo > 0.3, `seed ${seed}: bias spans ${hi - lo}`);
    assert.ok(step / pairs < 0.03, `seed ${seed}: neighbour change ${step / pairs}`);
  }
});

Deno.test("noise level 0 gives a smoother brain than level 1, level 1 than level 2", () => {
  // Share of healthy neighbours within 0.5% of each other: high where nothing but anatomy differs.
  const flatShare = (noise: number) => {
    const p = generatePhantom({ size: SMALL, seed: 3, noise, biasField: 0 });
    let same = 0, pairs = 0;
    const m = p.modalities.t1;
    healthyPairs(p, (i, j) => {
      pairs++;
      if (Math.abs(m[j] - m[i]) <= 0.005 * m[i]) same++;
    });
    return same / pairs;
  };
  const [none, one, two] = [0, 1, 2].map(flatShare);
  assert.ok(none > 3 * one && one > two, `${none} ${one} ${two}`);
});

Deno.test("tumour parts: non-enhancing share 1 has no enhancing label; necrosis share switches necrosis", () => {
  for (let seed = 1; seed <= 6; seed++) {
    const o: PhantomOptions = { size: SMALL, seed, variety: "rich", labels: "brats2015" };
    const plain = generatePhantom({ ...o, nonEnhancingShare: 1 });
    assert.ok(!plain.label.includes(4) && !plain.hasEnhancing, `seed ${seed}`);
    assert.ok(plain.label.includes(3), "non-enhancing core");
    const solid = generatePhantom({ ...o, nonEnhancingShare: 0, necrosisShare: 0 });
    assert.ok(!solid.label.includes(1) && solid.label.includes(4), `seed ${seed}: no necrosis`);
    const necrotic = generatePhantom({ ...o, nonEnhancingShare: 0, necrosisShare: 1 });
    assert.ok(necrotic.label.includes(1), `seed ${seed}: necrosis`);
  }
});

Deno.test("voxel size and slice thickness reach spacing, affine and the NIfTI header's pixdim", () => {
  const p = generatePhantom({ size: SMALL, seed: 1, voxelSize: 1.25, sliceThickness: 2 });
  assert.deepEqual(p.spacing, [1.25, 1.25, 2]);
  assert.deepEqual(p.affine[2], [0, 0, 2, 0]);
  const bytes = encodeNifti(p.label, { shape: p.shape, datatype: "uint8", affine: p.affine });
  const { header } = parseNifti(bytes, { path: "p.nii.gz" });
  assert.deepEqual(header.pixdim.slice(1, 4), [1.25, 1.25, 2]);
  // The brain keeps its size in mm, so it spans fewer voxels and slices.
  const base = generatePhantom({ size: SMALL, seed: 1 });
  const brainSlices = (q: Phantom) => {
    const n = q.shape[0] * q.shape[1];
    let s = 0;
    for (let z = 0; z < q.shape[2]; z++) {
      if (q.modalities.t1.subarray(z * n, (z + 1) * n).some((v) => v)) s++;
    }
    return s;
  };
  assert.ok(count(p.modalities.t1, (v) => v > 0) < 0.5 * count(base.modalities.t1, (v) => v > 0));
  assert.ok(brainSlices(p) < 0.7 * brainSlices(base), `${brainSlices(p)} vs ${brainSlices(base)}`);
  const rich = generatePhantom({ size: SMALL, seed: 1, variety: "rich" });
  assert.ok(rich.spacing[0] >= 0.9 && rich.spacing[0] <= 1.25 && rich.spacing[2] >= 1);
});

Deno.test("brain size, tumour size and irregularity go the way they say", () => {
  const brain = (o: PhantomOptions) => count(generatePhantom(o).modalities.flair, (v) => v > 0);
  assert.ok(
    brain({ size: SMALL, seed: 2, brainSize: 0.7 }) < 0.5 * brain({ size: SMALL, seed: 2 }),
  );
  const core = (p: Phantom) => count(p.label, (v) => v !== 0 && v !== 2);
  const o: PhantomOptions = { size: SIZE, seed: 4, tumours: 1 };
  const small = generatePhantom({ ...o, tumourSize: 0.1 });
  const large = generatePhantom({ ...o, tumourSize: 0.3 });
  assert.ok(core(large) > 8 * core(small), `${core(large)} vs ${core(small)}`);
  // Surface over volume^(2/3) of the core: least for a ball.
  const roughness = (p: Phantom) => {
    const [X, Y] = p.shape;
    let vol = 0, surface = 0;
    for (let at = X * Y; at < p.label.length - X * Y; at++) {
      if (p.label[at] === 0 || p.label[at] === 2) continue;
      vol++;
      for (const d of [1, -1, X, -X, X * Y, -X * Y]) {
        if (p.label[at + d] === 0 || p.label[at + d] === 2) surface++;
      }
    }
    return surface / vol ** (2 / 3);
  };
  for (const seed of [1, 2, 3]) {
    const shaped = { ...o, seed, tumourSize: 0.22 };
    const round = roughness(generatePhantom({ ...shaped, irregularity: 0 }));
    const lobulated = roughness(generatePhantom({ ...shaped, irregularity: 1 }));
    assert.ok(lobulated > round + 0.3, `seed ${seed}: ${lobulated} vs ${round}`);
  }
});

Deno.test("sites: midline tumours cross the midline, surface tumours reach the brain's edge", () => {
  const reachesEdge = (p: Phantom) => {
    const [X, Y] = p.shape;
    for (let at = X * Y; at < p.label.length - X * Y; at++) {
      if (p.label[at] === 0 || p.label[at] === 2) continue;
      for (const d of [1, -1, X, -X]) if (p.modalities.t1[at + d] === 0) return true;
    }
    return false;
  };
  const crosses = (p: Phantom) => {
    const X = p.shape[0];
    let sx = 0, n = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < p.label.length; i++) {
      if (p.modalities.t1[i]) [sx, n] = [sx + i % X, n + 1];
      if (p.label[i] !== 0 && p.label[i] !== 2) {
        [lo, hi] = [Math.min(lo, i % X), Math.max(hi, i % X)];
      }
    }
    return lo < sx / n - 1 && hi > sx / n + 1;
  };
  let edges = 0, classicEdges = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const o: PhantomOptions = { size: [64, 64, 40], seed, tumours: 1 };
    assert.ok(crosses(generatePhantom({ ...o, midlineShare: 1 })), `seed ${seed} crosses`);
    if (reachesEdge(generatePhantom({ ...o, surfaceShare: 1 }))) edges++;
    if (reachesEdge(generatePhantom({ ...o }))) classicEdges++;
  }
  assert.ok(edges >= 4 && classicEdges <= 1, `${edges} surface, ${classicEdges} deep`);
});

Deno.test("scanner contrast changes how tissues compare, not the labels", () => {
  const o: PhantomOptions = { size: SMALL, seed: 5, noise: 0 };
  const a = generatePhantom(o), b = generatePhantom({ ...o, scannerContrast: 2 });
  assert.deepEqual(b.label, a.label);
  // Contrast of the healthy brain (coefficient of variation) differs in some modality by > 3%.
  const cv = (m: Int16Array, p: Phantom) => {
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < m.length; i++) {
      if (!m[i] || p.label[i]) continue;
      [s, s2, n] = [s + m[i], s2 + m[i] * m[i], n + 1];
    }
    return Math.sqrt(s2 / n - (s / n) ** 2) / (s / n);
  };
  const changes = (["flair", "t1", "t1ce", "t2"] as const).map((m) =>
    Math.abs(cv(b.modalities[m], b) / cv(a.modalities[m], a) - 1)
  );
  assert.ok(Math.max(...changes) > 0.03, `${changes}`);
});

Deno.test("options outside their range are refused with the option's name", () => {
  const bad: [PhantomOptions, RegExp][] = [
    [{ noise: 9 }, /Phantom noise 9: must be within 0\.\.8/],
    [{ tumours: 4 }, /Phantom tumours 4/],
    [{ tumours: [1.5, 2] }, /whole numbers/],
    [{ voxelSize: [2, 1] }, /low before high/],
    [{ variety: "fancy" as "rich" }, /variety "fancy"/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => generatePhantom({ size: [16, 16, 8], ...options }), message);
  }
});
