import assert from "node:assert/strict";
import { describePlan, planEpochs, type PlanRequest } from "../train/budget_plan.ts";

// 100 and 200 windows per epoch at 10 windows/s with 5 s validations: 15 s and 25 s an epoch.
const base: PlanRequest = {
  ratio: [8, 4],
  windowsPerEpoch: [100, 200],
  windowsPerSecond: 10,
  validationSeconds: 5,
  seconds: 400,
};

Deno.test("planEpochs fits the most epochs in the given ratio into the seconds", () => {
  const plan = planEpochs(base);
  assert.deepEqual(plan.epochs, [15, 7]);
  assert.equal(plan.seconds, 15 * 15 + 7 * 25);
  assert.equal(plan.warning, null);
  // Twice the throughput, validations aside, fits more epochs in the same ratio.
  const faster = planEpochs({ ...base, windowsPerSecond: 20 });
  assert.ok(faster.epochs[0] > 15 && faster.seconds <= 400, JSON.stringify(faster));
  // Equal phases of 10 s: three of each leave 15 s, which one more phase-2 epoch uses.
  const even = { ...base, ratio: [1, 1] as const, windowsPerEpoch: [100, 100] as const };
  assert.deepEqual(planEpochs({ ...even, validationSeconds: 0, seconds: 75 }).epochs, [3, 4]);
  // A 3:12 ratio stays about 1:4.
  const [n1, n2] = planEpochs({ ...base, ratio: [3, 12], seconds: 4000 }).epochs;
  assert.ok(Math.abs(n2 / n1 - 4) < 0.5, `${n1} + ${n2}`);
});

Deno.test("planEpochs gives one epoch of each phase and a warning when not even that fits", () => {
  const plan = planEpochs({ ...base, seconds: 10 });
  assert.deepEqual(plan.epochs, [1, 1]);
  assert.equal(plan.seconds, 40);
  assert.match(
    plan.warning!,
    /time budget too small: 1 \+ 1 epochs need about 40 s, 10 s are left/,
  );
  assert.deepEqual(planEpochs({ ...base, seconds: -5 }).epochs, [1, 1]);
});

Deno.test("planEpochs: a huge budget is not capped by the given epochs, only by maxEpochs", () => {
  const [n1, n2] = planEpochs({ ...base, seconds: 1e6 }).epochs;
  assert.ok(n1 > 1000 && Math.abs(n1 / n2 - 2) < 0.01, `${n1} + ${n2}`);
  const capped = planEpochs({ ...base, seconds: 1e6, maxEpochs: 24 });
  assert.deepEqual(capped.epochs, [16, 8]);
  assert.equal(capped.warning, null);
});

Deno.test("planEpochs keeps completed epochs and, once phase 2 has begun, phase 1's count", () => {
  // Four phase-1 epochs done, phase 1 not over: it may grow.
  assert.deepEqual(planEpochs({ ...base, seconds: 100, done: [4, 0] }).epochs, [5, 3]);
  const late = planEpochs({ ...base, seconds: 0, done: [4, 0] });
  assert.deepEqual([late.epochs, late.warning !== null], [[4, 1], true]);
  // In phase 2: phase 1 stays; phase 2 gets what fits, from the done ones up to the ratio.
  const inPhase2 = { ...base, done: [6, 1] as const, phase2Started: true };
  assert.deepEqual(planEpochs({ ...inPhase2, seconds: 30 }).epochs, [6, 2]);
  assert.deepEqual(planEpochs({ ...inPhase2, seconds: 1000 }).epochs, [6, 3]);
  assert.deepEqual(planEpochs({ ...inPhase2, seconds: 0 }).epochs, [6, 1]);
});

Deno.test("planEpochs: one-phase training and a zero ratio keep that phase empty", () => {
  assert.deepEqual(planEpochs({ ...base, ratio: [12, 0] }).epochs, [26, 0]);
  assert.deepEqual(planEpochs({ ...base, ratio: [0, 4] }).epochs, [0, 16]);
  assert.throws(() => planEpochs({ ...base, ratio: [0, 0] }), RangeError);
  assert.throws(() => planEpochs({ ...base, windowsPerSecond: 0 }), RangeError);
});

Deno.test("describePlan says the epochs, windows per epoch and expected end", () => {
  const line = describePlan({
    epochs: [15, 7],
    ratio: [8, 4],
    windowsPerEpoch: [100, 200],
    budget: 400,
    maxEpochs: null,
    windowsPerSecond: 10,
    validationSeconds: 5,
    validationMeasured: true,
    expectedSeconds: 400,
    replans: 0,
  }, { seconds: 235, now: 0 });
  assert.match(
    line,
    /^plan for a 400 s budget: phase 1 15 epochs × 100 windows, phase 2 7 epochs × 200 windows \(ratio 8:4\); 10\.00 windows\/s, ~5 s per validation and checkpoints; expected end in 2m 45s \(at \d\d:\d\d:\d\d\)$/,
  );
});
