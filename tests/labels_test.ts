import assert from "node:assert/strict";
import {
  checkLabels,
  classesToLabels,
  invalidLabels,
  LABEL_CONVENTIONS,
  labelConvention,
  labelsToClasses,
  regionMasks,
} from "../data/labels.ts";
import { InputError } from "../data/input_error.ts";

Deno.test("each convention round-trips labels -> classes -> labels", () => {
  for (const name of LABEL_CONVENTIONS) {
    const { labels } = labelConvention(name);
    const volume = Uint8Array.from({ length: 50 }, (_, i) => labels[(i * 7) % labels.length]);
    const classes = labelsToClasses(volume, name);
    assert.ok(classes.every((c) => c < labels.length));
    assert.deepEqual(classesToLabels(classes, name), volume);
  }
  assert.deepEqual([...labelsToClasses([0, 1, 2, 4], "brats2017")], [0, 1, 2, 3]);
  assert.deepEqual([...classesToLabels([0, 1, 2, 3], "brats2023")], [0, 1, 2, 3]);
  assert.deepEqual([...classesToLabels([3, 4], "brats2015")], [3, 4]);
});

Deno.test("regions: whole = all tumour, core = all but oedema, enhancing = the enhancing label", () => {
  const m17 = regionMasks([0, 1, 2, 4], "brats2017");
  assert.deepEqual([...m17.whole], [0, 1, 1, 1]);
  assert.deepEqual([...m17.core], [0, 1, 0, 1]);
  assert.deepEqual([...m17.enhancing], [0, 0, 0, 1]);
  const m23 = regionMasks([0, 1, 2, 3], "brats2023");
  assert.deepEqual([...m23.core], [0, 1, 0, 1]);
  assert.deepEqual([...m23.enhancing], [0, 0, 0, 1]);
  const m15 = regionMasks([0, 1, 2, 3, 4], "brats2015");
  assert.deepEqual([...m15.whole], [0, 1, 1, 1, 1]);
  assert.deepEqual([...m15.core], [0, 1, 0, 1, 1]);
  assert.deepEqual([...m15.enhancing], [0, 0, 0, 0, 1]);
});

Deno.test("values outside a convention are errors naming the values and the file", () => {
  assert.deepEqual(invalidLabels([0, 1, 3, 7, 3, 0.5], "brats2017"), [0.5, 3, 7]);
  assert.deepEqual(invalidLabels([0, 4], "brats2023"), [4]);
  assert.throws(
    () => checkLabels(new Uint8Array([0, 3]), "brats2017", { path: "x_seg.nii.gz" }),
    (e: unknown) =>
      e instanceof InputError &&
      /x_seg.nii.gz: label values 3 are not in brats2017/.test(e.message),
  );
  assert.throws(
    () => labelsToClasses([0, 5, 9], "brats2015"),
    /label values 5, 9 are not in brats2015/,
  );
  assert.throws(() => classesToLabels([4], "brats2017"), /Class 4 is outside 0..3/);
  assert.throws(() => labelConvention("brats2019"), /Unknown label convention "brats2019"/);
  checkLabels(new Float32Array([0, 1, 2, 3, 4]), "brats2015");
});
