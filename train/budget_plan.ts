// This module is browser compatible.
/**
 * Fitting the two-phase schedule into a time budget: from the measured
 * throughput, each phase's windows per epoch and the time a validation
 * takes, how many epochs of phase 1 and phase 2 fit, in the ratio of the
 * user's `--epochs` and `--phase2-epochs`. With a budget the given epochs
 * are that ratio, not a cap (`--max-epochs` caps both phases together);
 * without one the trainer trains the epochs as given. When not even one
 * full epoch of each phase fits, the epochs are shortened: one epoch per
 * phase, each limited to a prefix of its shuffled windows, the limits in
 * the ratio of the phases' planned work (given epochs × windows per epoch).
 * Phase 1 gets at least {@linkcode MIN_PHASE1_EPOCHS} epochs (or the given
 * ones, if fewer) whenever they fit beside one of phase 2: a short budget
 * that left it one epoch in 4:8 let phase 2 never learn the core.
 *
 * @module
 */

/**
 * The fewest phase-1 epochs a budget plan gives when they fit (capped by
 * `--epochs`). Measured on 20 phantoms at 900 s: after one class-balanced
 * epoch, phase 2 lost core and enhancing entirely (Dice 0); the same fold
 * in the ratio 1:1 had core Dice 0.78 after three epochs.
 */
export const MIN_PHASE1_EPOCHS = 3;

/** What the trainer follows: epochs per phase, and what they were sized from. */
export interface SchedulePlan {
  /** Epochs of phase 1 and of phase 2 (phase 2 is 0 for one-phase training). */
  epochs: [number, number];
  /** The given epochs of each phase: the ratio a budget keeps. */
  ratio: [number, number];
  /** Training windows per epoch of each phase. */
  windowsPerEpoch: [number, number];
  /** Time budget in seconds of training (over resumed runs), or null: epochs as given. */
  budget: number | null;
  /** Under a budget, at most this many epochs of both phases together (null: no cap). */
  maxEpochs: number | null;
  /** Training windows per second the plan was sized with (null until measured). */
  windowsPerSecond: number | null;
  /** Seconds per epoch besides its batches (validation, checkpoints) assumed (null: not yet). */
  validationSeconds: number | null;
  /** Whether `validationSeconds` was measured (else estimated from the throughput). */
  validationMeasured: boolean;
  /** Training seconds (over resumed runs) at the expected end (null until measured). */
  expectedSeconds: number | null;
  /** Re-plans for a change of throughput so far (at most one is made). */
  replans: number;
  /**
   * Windows trained per epoch of each phase when the epochs are shortened
   * to fit the budget (the first ones of the epoch's shuffled order); null
   * or absent (older checkpoints): whole epochs.
   */
  windowLimits?: [number, number] | null;
}

/** What {@linkcode planEpochs} sizes the phases from. */
export interface PlanRequest {
  /** The given epochs of phase 1 and 2: the ratio to keep (a 0 keeps that phase empty). */
  ratio: readonly [number, number];
  /** Training windows per epoch of each phase. */
  windowsPerEpoch: readonly [number, number];
  /** Measured training throughput. */
  windowsPerSecond: number;
  /** Seconds each epoch takes besides its batches: its validation and checkpoints. */
  validationSeconds: number;
  /** Seconds left for the epochs not yet completed. */
  seconds: number;
  /** Epochs already completed in each phase (default none). */
  done?: readonly [number, number];
  /** Whether phase 2 has begun: phase 1 then keeps `done[0]` epochs. */
  phase2Started?: boolean;
  /** Cap on both phases' epochs together. */
  maxEpochs?: number | null;
  /** Windows per batch: the smallest a shortened epoch gets (default 1). */
  batch?: number;
  /** The current plan's window limits: a shortened plan stays shortened, its limits only shrink. */
  windowLimits?: readonly [number, number] | null;
  /** Windows of the epoch in progress already trained: its limit keeps at least those. */
  windowsDone?: number;
}

/** The sized phases. */
export interface EpochsPlan {
  /** Epochs of phase 1 and phase 2, completed ones included. */
  epochs: [number, number];
  /** Expected seconds of the epochs not yet completed. */
  seconds: number;
  /** A line to print when the epochs were shortened, or even the smallest schedule overruns. */
  warning: string | null;
  /** Windows per epoch of each phase when shortened (see {@linkcode SchedulePlan}), else null. */
  windowLimits: [number, number] | null;
}

/**
 * Sizes both phases to fit `seconds`: the most epochs in the given ratio
 * (each phase with a non-zero ratio gets at least one), up to `maxEpochs`.
 * When not even one epoch of each fits, one of each, shortened by
 * {@linkcode shortenEpochs}, with a warning.
 *
 * @example
 * ```ts
 * import { planEpochs } from "./budget_plan.ts";
 * // 100 and 200 windows per epoch at 10 windows/s, 5 s per validation: 15 s and 25 s an epoch.
 * const plan = planEpochs({
 *   ratio: [8, 4], windowsPerEpoch: [100, 200], windowsPerSecond: 10,
 *   validationSeconds: 5, seconds: 400,
 * });
 * plan.epochs; // [15, 7]: 15 × 15 s + 7 × 25 s = 400 s, about the ratio 8:4
 * ```
 */
export function planEpochs(request: PlanRequest): EpochsPlan {
  const [e1, e2] = request.ratio;
  const [d1, d2] = request.done ?? [0, 0];
  const { windowsPerSecond: wps, validationSeconds: val, seconds } = request;
  if (
    !(wps > 0) || !(val >= 0) || !Number.isFinite(seconds) || !(e1 >= 0 && e2 >= 0 && e1 + e2 > 0)
  ) {
    throw new RangeError(
      `cannot plan ${e1}:${e2} epochs at ${wps} windows/s with ${val} s per validation`,
    );
  }
  const c1 = request.windowsPerEpoch[0] / wps + val, c2 = request.windowsPerEpoch[1] / wps + val;
  const cost = (n1: number, n2: number) => (n1 - d1) * c1 + (n2 - d2) * c2;
  const cap = request.maxEpochs ?? Infinity;
  let epochs: [number, number], least: [number, number];
  if (request.phase2Started || e1 === 0) {
    const n1 = e1 === 0 ? 0 : d1;
    const lo = Math.max(d2, e2 > 0 ? 1 : 0);
    const ratioCap = e1 > 0 ? Math.max(1, Math.round(n1 * e2 / e1)) : Infinity;
    const hi = Math.max(lo, Math.min(ratioCap, cap - n1));
    epochs = [n1, clamp(d2 + Math.floor(seconds / c2), lo, hi)];
    least = [n1, lo];
  } else {
    // Phases of k·ratio epochs (rounded, at least one each): cost grows with k; bisect the largest.
    const lo2 = e2 > 0 ? Math.max(1, d2) : 0;
    // The floor is for whole epochs: a shortened plan keeps its one epoch of each phase.
    const floor = e2 > 0 && !request.windowLimits ? Math.min(e1, MIN_PHASE1_EPOCHS) : 1;
    let lo1 = Math.max(1, d1, floor);
    const at = (k: number): [number, number] => [
      Math.max(lo1, Math.round(k * e1)),
      e2 > 0 ? Math.max(lo2, Math.round(k * e2)) : 0,
    ];
    const fits = (k: number) => {
      const [n1, n2] = at(k);
      return n1 + n2 <= cap && cost(n1, n2) <= seconds;
    };
    if (!fits(0)) lo1 = Math.max(1, d1); // not even the least phase 1: the smallest schedule
    let [lo, hi] = [0, 1];
    while (fits(hi) && hi < 2 ** 40) [lo, hi] = [hi, hi * 2];
    if (fits(lo)) {
      for (let i = 0; i < 60; i++) {
        const mid = (lo + hi) / 2;
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
    }
    epochs = at(lo);
    // Rounding may leave time for one more epoch: give it to the phase it keeps nearer the ratio.
    const more = ([[epochs[0], epochs[1] + 1], [epochs[0] + 1, epochs[1]]] as [number, number][])
      .filter(([n1, n2]) => (e2 > 0 || n2 === 0) && n1 + n2 <= cap && cost(n1, n2) <= seconds)
      .sort((a, b) => Math.abs(a[1] * e1 - a[0] * e2) - Math.abs(b[1] * e1 - b[0] * e2));
    if (more.length > 0 && fits(lo)) epochs = more[0];
    least = at(0);
  }
  const expected = cost(epochs[0], epochs[1]);
  if (expected <= seconds && !request.windowLimits) {
    return { epochs, seconds: expected, warning: null, windowLimits: null };
  }
  return shortenEpochs(request, least);
}

/**
 * The shortened plan: `epochs` (the fewest, one per phase still to train)
 * each limited to as many windows as leave time for their validations and
 * checkpoints, in the ratio of the phases' planned work (given epochs ×
 * windows per epoch), whole batches, at least one batch and at most the
 * current limit. Phases already over keep their limit. When not even one
 * batch of each fits, that, with a warning that says so.
 *
 * @example
 * ```ts
 * import { shortenEpochs } from "./budget_plan.ts";
 * // 0.23 windows/s, 141 s per validation: 1800 s hold 349 windows after two validations.
 * const plan = shortenEpochs({
 *   ratio: [8, 4], windowsPerEpoch: [300, 453], windowsPerSecond: 0.23,
 *   validationSeconds: 141, seconds: 1800, batch: 3,
 * }, [1, 1]);
 * plan.windowLimits; // [198, 150]: about 2400:1812, the planned work of 8 × 300 and 4 × 453
 * ```
 */
export function shortenEpochs(request: PlanRequest, epochs: [number, number]): EpochsPlan {
  const { windowsPerSecond: wps, validationSeconds: val, seconds } = request;
  const [w1, w2] = request.windowsPerEpoch;
  const [d1, d2] = request.done ?? [0, 0];
  const [r1, r2] = [Math.max(0, epochs[0] - d1), Math.max(0, epochs[1] - d2)];
  const batch = Math.max(1, request.batch ?? 1);
  const old = request.windowLimits ?? [w1, w2];
  const caps: [number, number] = [Math.min(old[0], w1), Math.min(old[1], w2)];
  // Windows that fit beside the validations, shared in the ratio of planned work.
  const room = Math.max(0, seconds - (r1 + r2) * val) * wps;
  const work1 = r1 > 0 ? request.ratio[0] * w1 : 0, work2 = r2 > 0 ? request.ratio[1] * w2 : 0;
  const share = r1 * work1 + r2 * work2;
  let l1 = share > 0 ? room * work1 / share : 0, l2 = share > 0 ? room * work2 / share : 0;
  // A phase capped at its limit leaves the rest of the room to the other.
  if (r1 > 0 && l1 > caps[0]) [l1, l2] = [caps[0], r2 > 0 ? (room - r1 * caps[0]) / r2 : 0];
  else if (r2 > 0 && l2 > caps[1]) [l1, l2] = [r1 > 0 ? (room - r2 * caps[1]) / r1 : 0, caps[1]];
  const whole = (v: number, c: number) =>
    Math.min(c, Math.max(Math.min(batch, c), Math.floor(v / batch) * batch));
  const limits: [number, number] = [
    r1 > 0 ? whole(l1, caps[0]) : caps[0],
    r2 > 0 ? whole(l2, caps[1]) : caps[1],
  ];
  const now = r1 > 0 ? 0 : 1; // the phase of the epoch in progress
  limits[now] = Math.max(limits[now], Math.min(request.windowsDone ?? 0, caps[now]));
  const expected = r1 * (limits[0] / wps + val) + r2 * (limits[1] / wps + val);
  const left = Math.max(0, Math.floor(seconds));
  const of = (i: 0 | 1) => {
    const full = request.windowsPerEpoch[i];
    return `${limits[i]} of ${full} windows (${Math.round(100 * limits[i] / Math.max(1, full))}%)`;
  };
  const phases = [r1 > 0 ? `phase 1 to ${of(0)}` : "", r2 > 0 ? `phase 2 to ${of(1)}` : ""]
    .filter((p) => p).join(", ");
  const warning = expected > seconds
    ? `time budget too small: even ${epochs[0]} + ${epochs[1]} epochs of one batch ` +
      `need about ${Math.ceil(expected)} s with their validations, ${left} s are left; ` +
      `training them anyway`
    : `time budget too small for whole epochs: shortened ${phases}, ` +
      `${epochs[0]} + ${epochs[1]} epochs in about ${Math.round(expected)} s of the ` +
      `${Math.round(seconds)} s left`;
  return { epochs, seconds: expected, warning, windowLimits: limits };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * One line describing a plan: epochs and windows per phase, the rates it
 * was sized with, and when it expects to end (`seconds`: training seconds
 * so far; `now`: wall-clock milliseconds, default `Date.now()`).
 *
 * @example
 * ```ts
 * import { describePlan } from "./budget_plan.ts";
 * describePlan({
 *   epochs: [6, 3], ratio: [8, 4], windowsPerEpoch: [100, 200], budget: 400, maxEpochs: null,
 *   windowsPerSecond: 10, validationSeconds: 5, validationMeasured: false,
 *   expectedSeconds: 180, replans: 0,
 * }, { seconds: 15 });
 * // "plan for a 400 s budget: phase 1 6 epochs × 100 windows, phase 2 3 epochs × 200 windows
 * //  (ratio 8:4); 10.00 windows/s, ~5 s per validation and checkpoints (estimated);
 * //  expected end in 2m 45s (at ...)"
 * ```
 */
export function describePlan(
  plan: SchedulePlan,
  options: { seconds: number; now?: number },
): string {
  const [n1, n2] = plan.epochs;
  const limits = plan.windowLimits ?? [Infinity, Infinity];
  const [w1, w2] = plan.windowsPerEpoch.map((w, i) =>
    limits[i] < w ? `${limits[i]} of ${w}` : `${w}`
  );
  const head = plan.budget === null
    ? "plan (epochs as given)"
    : `plan for a ${plan.budget} s budget`;
  const epochs = (n: number) => `${n} epoch${n === 1 ? "" : "s"}`;
  const phases = n2 > 0 || plan.ratio[1] > 0
    ? `phase 1 ${epochs(n1)} × ${w1} windows, phase 2 ${epochs(n2)} × ${w2} windows`
    : `one phase: ${epochs(n1)} × ${w1} windows`;
  const ratio = plan.budget === null ? "" : ` (ratio ${plan.ratio.join(":")})`;
  const parts = [`${head}: ${phases}${ratio}`];
  if (plan.windowsPerSecond !== null) {
    const how = plan.validationMeasured ? "" : " (estimated)";
    parts.push(
      `${plan.windowsPerSecond.toFixed(2)} windows/s, ` +
        `~${Math.round(plan.validationSeconds ?? 0)} s per validation and checkpoints${how}`,
    );
  }
  if (plan.expectedSeconds !== null) {
    const left = Math.max(0, plan.expectedSeconds - options.seconds);
    const at = new Date((options.now ?? Date.now()) + left * 1000).toTimeString().slice(0, 8);
    parts.push(`expected end in ${duration(left)} (at ${at})`);
  }
  return parts.join("; ");
}

/** Seconds as "1h 02m", "2m 45s" or "12s". */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
