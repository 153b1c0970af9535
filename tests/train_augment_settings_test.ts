import assert from "node:assert/strict";
import { augmentFromFlags } from "../cli/_augment_flags.ts";
import {
  AUGMENT_PRESETS,
  describeAugmentation,
  resolveAugmentation,
  TRANSFORMS,
} from "../train/augment_settings.ts";

Deno.test("augmentation settings: nnU-Net's defaults, overrides merged, bad values refused", () => {
  const s = resolveAugmentation();
  assert.deepEqual(s, AUGMENT_PRESETS.nnunet);
  assert.deepEqual([s.rotation.range, s.scale.range, s.gamma.range], [[-180, 180], [0.7, 1.4], [
    0.7,
    1.5,
  ]]);
  assert.equal(s.elastic.p, 0, "elastic deformation is off by default");
  const o = resolveAugmentation({ preset: "none", elastic: { p: 0.3, sigma: [5, 6] } });
  assert.deepEqual(o.elastic, { p: 0.3, alpha: [0, 200], sigma: [5, 6] });
  assert.ok(TRANSFORMS.every((t) => t === "elastic" || o[t].p === 0));
  assert.throws(() => resolveAugmentation({ rotation: { p: 2 } }), /rotation probability 2/);
  assert.throws(() => resolveAugmentation({ scale: { range: [1.4, 0.7] } }), /scale range/);
  assert.throws(() => resolveAugmentation({ noise: { range: [-1, 0] } }), /noise variance/);
  assert.throws(
    () => resolveAugmentation({ preset: "heavy" as "none" }),
    /preset "heavy": expected nnunet, basic, none/,
  );
});

Deno.test("the checkpoint's record of the augmentation is complete JSON and resolves to itself", () => {
  const record = describeAugmentation({ rotation: { p: 0.5 } });
  assert.ok(record);
  const back = JSON.parse(JSON.stringify(record));
  assert.deepEqual(resolveAugmentation(back), record);
  assert.equal(back.rotation.p, 0.5);
  assert.deepEqual(Object.keys(back), [...TRANSFORMS]);
  assert.equal(describeAugmentation(false), false);
});

Deno.test("--augment and --aug flags", () => {
  assert.equal(augmentFromFlags({ off: true, preset: "nnunet" }), false);
  assert.deepEqual(augmentFromFlags({}), { preset: "nnunet" });
  assert.deepEqual(
    augmentFromFlags({
      preset: "basic",
      specs: ["rotation=0.5:-30,30", "elastic=0.2:0,100:8,10", "lowres=0.1", "gamma-invert=0"],
    }),
    {
      preset: "basic",
      rotation: { p: 0.5, range: [-30, 30] },
      elastic: { p: 0.2, alpha: [0, 100], sigma: [8, 10] },
      lowRes: { p: 0.1 },
      gamma: { invert: 0 },
    },
  );
  assert.throws(() => augmentFromFlags({ preset: "x" }), /--augment "x"/);
  assert.throws(() => augmentFromFlags({ specs: ["twist=1"] }), /unknown transform/);
  assert.throws(() => augmentFromFlags({ specs: ["noise=a"] }), /"a" is not a number/);
  assert.throws(() => augmentFromFlags({ specs: ["mirror=0.5:1,2"] }), /too many ranges/);
  assert.throws(() => augmentFromFlags({ specs: ["rotation=1.5"] }), /--aug: .*probability 1.5/);
});
