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

Deno.test("planEpochs gives one batch of each phase and a warning when not even that fits", () => {
  const plan = planEpochs({ ...base, seconds: 10 });
  assert.deepEqual(plan.epochs, [1, 1]);
  assert.deepEqual(plan.windowLimits, [1, 1]);
  assert.equal(plan.seconds, 2 * (1 / 10 + 5));
  assert.match(
    plan.warning!,
    /time budget too small: even 1 \+ 1 epochs of one batch need about 11 s with their validations, 10 s are left; training them anyway/,
  );
  const none = planEpochs({ ...base, seconds: -5, batch: 4 });
  assert.deepEqual([none.epochs, none.windowLimits], [[1, 1], [4, 4]]);
});

// The slow case measured: 0.23 windows/s, 300 + 453 windows per epoch, 141 s validations.
const slow: PlanRequest = {
  ratio: [8, 4],
  windowsPerEpoch: [300, 453],
  windowsPerSecond: 0.23,
  validationSeconds: 141,
  seconds: 1800,
  batch: 3,
};
const costOf = (r: PlanRequest, limits: readonly number[], epochs = [1, 1]) =>
  epochs[0] * (limits[0] / r.windowsPerSecond + r.validationSeconds) +
  epochs[1] * (limits[1] / r.windowsPerSecond + r.validationSeconds);

Deno.test("planEpochs shortens the epochs to fit when not one whole epoch of each does", () => {
  const plan = planEpochs(slow);
  assert.deepEqual(plan.epochs, [1, 1]);
  const [l1, l2] = plan.windowLimits!;
  // Whole batches, at least one each, fewer than the whole epochs.
  assert.ok(l1 % 3 === 0 && l2 % 3 === 0 && l1 >= 3 && l2 >= 3, `${l1} + ${l2}`);
  assert.ok(l1 < 300 && l2 < 453, `${l1} + ${l2}`);
  // They fit, and fill the budget to within a batch of each phase.
  assert.ok(costOf(slow, [l1, l2]) <= 1800, `${costOf(slow, [l1, l2])} s`);
  assert.ok(costOf(slow, [l1 + 3, l2 + 3]) > 1800);
  assert.ok(Math.abs(plan.seconds - costOf(slow, [l1, l2])) < 1e-9);
  // In the ratio of planned work: 8 × 300 to 4 × 453.
  assert.ok(Math.abs(l1 / l2 - 2400 / 1812) < 0.05, `${l1} : ${l2}`);
  assert.match(plan.warning!, /shortened phase 1 to \d+ of 300 windows \(\d+%\), phase 2 to/);
  // A budget where whole epochs fit: no limits, no warning.
  const fits = planEpochs({ ...slow, seconds: 5000 });
  assert.deepEqual([fits.epochs, fits.windowLimits, fits.warning], [[1, 1], null, null]);
  assert.equal(planEpochs(base).windowLimits, null);
  // A tiny budget: one batch each, with a warning.
  assert.deepEqual(planEpochs({ ...slow, seconds: 200 }).windowLimits, [3, 3]);
});

Deno.test("re-planning a shortened plan only shrinks its limits, and keeps phase 1's", () => {
  const first = planEpochs(slow).windowLimits!;
  // Faster than planned, in phase 1: the limits stay (they never grow)...
  const faster = planEpochs({ ...slow, windowsPerSecond: 1, windowLimits: first });
  assert.deepEqual([faster.epochs, faster.windowLimits], [[1, 1], first]);
  // ...slower, after phase 1 (1 epoch done): phase 1 keeps its limit, phase 2 shrinks to fit.
  const rest = { ...slow, done: [1, 0] as const, windowLimits: first, seconds: 500 };
  const slower = planEpochs(rest);
  assert.equal(slower.windowLimits![0], first[0]);
  assert.ok(slower.windowLimits![1] < first[1]);
  assert.ok(costOf(slow, slower.windowLimits!, [0, 1]) <= 500);
  // Never below a batch; an epoch in progress keeps the windows it trained.
  assert.equal(planEpochs({ ...rest, seconds: 0 }).windowLimits![1], 3);
  const midway = planEpochs({ ...slow, seconds: 100, windowsDone: 30 });
  assert.deepEqual(midway.windowLimits, [30, 3]);
  // A plan shortened only in phase 2 (a measured validation slower than estimated).
  const late = planEpochs({ ...slow, seconds: 600, done: [1, 0] });
  assert.equal(late.windowLimits![0], 300);
  assert.ok(late.windowLimits![1] < 453 && costOf(slow, late.windowLimits!, [0, 1]) <= 600);
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
  const shortened = describePlan({
    epochs: [1, 1],
    ratio: [8, 4],
    windowsPerEpoch: [300, 453],
    budget: 1800,
    maxEpochs: null,
    windowsPerSecond: 0.23,
    validationSeconds: 141,
    validationMeasured: false,
    expectedSeconds: 1795,
    replans: 0,
    windowLimits: [198, 150],
  }, { seconds: 0, now: 0 });
  assert.match(
    shortened,
    /^plan for a 1800 s budget: phase 1 1 epoch × 198 of 300 windows, phase 2 1 epoch × 150 of 453 windows/,
  );
});

Deno.test("planEpochs gives phase 1 at least three epochs when they fit beside one of phase 2", () => {
  // 20 cases at 900 s: 470 and 700 windows an epoch at 4 windows/s, 20 s validations.
  const short: PlanRequest = {
    ratio: [4, 8],
    windowsPerEpoch: [470, 700],
    windowsPerSecond: 4,
    validationSeconds: 20,
    seconds: 855,
  };
  const plan = planEpochs(short);
  // 4:8 alone gives [1, 3] (137.5 + 3 × 195 = 722.5 s); with the floor, [3, 2] (802.5 s).
  assert.deepEqual([plan.epochs, plan.seconds, plan.warning], [[3, 2], 802.5, null]);
  // Given fewer phase-1 epochs than the floor, those.
  assert.deepEqual(planEpochs({ ...short, ratio: [1, 8] }).epochs, [1, 3]);
  // When three and one do not fit (607.5 s), the plan without the floor, in whole epochs.
  const tight = planEpochs({ ...short, seconds: 500 });
  assert.deepEqual([tight.epochs, tight.windowLimits], [[2, 1], null]);
  // A plan already shortened stays one epoch of each phase.
  assert.deepEqual(planEpochs({ ...short, windowLimits: [200, 300] }).epochs, [1, 1]);
  // Long budgets keep the ratio.
  assert.deepEqual(planEpochs({ ...short, seconds: 6000 }).epochs, [11, 23]);
});
