// This module is browser compatible.
/**
 * Fitting the two-phase schedule into a time budget: from the measured
 * throughput, each phase's windows per epoch and the time a validation
 * takes, how many epochs of phase 1 and phase 2 fit, in the ratio of the
 * user's `--epochs` and `--phase2-epochs`. With a budget the given epochs
 * are that ratio, not a cap (`--max-epochs` caps both phases together);
 * without one the trainer trains the epochs as given.
 *
 * @module
 */

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
}

/** The sized phases. */
export interface EpochsPlan {
  /** Epochs of phase 1 and phase 2, completed ones included. */
  epochs: [number, number];
  /** Expected seconds of the epochs not yet completed. */
  seconds: number;
  /** A line to print when even the smallest schedule overruns `seconds`; else null. */
  warning: string | null;
}

/**
 * Sizes both phases to fit `seconds`: the most epochs in the given ratio
 * (each phase with a non-zero ratio gets at least one), up to `maxEpochs`.
 * When not even one epoch of each fits, that is the plan, with a warning.
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
  let epochs: [number, number];
  if (request.phase2Started || e1 === 0) {
    const n1 = e1 === 0 ? 0 : d1;
    const lo = Math.max(d2, e2 > 0 ? 1 : 0);
    const ratioCap = e1 > 0 ? Math.max(1, Math.round(n1 * e2 / e1)) : Infinity;
    const hi = Math.max(lo, Math.min(ratioCap, cap - n1));
    epochs = [n1, clamp(d2 + Math.floor(seconds / c2), lo, hi)];
  } else {
    // Phases of k·ratio epochs (rounded, at least one each): cost grows with k; bisect the largest.
    const lo1 = Math.max(1, d1), lo2 = e2 > 0 ? Math.max(1, d2) : 0;
    const at = (k: number): [number, number] => [
      Math.max(lo1, Math.round(k * e1)),
      e2 > 0 ? Math.max(lo2, Math.round(k * e2)) : 0,
    ];
    const fits = (k: number) => {
      const [n1, n2] = at(k);
      return n1 + n2 <= cap && cost(n1, n2) <= seconds;
    };
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
  }
  const expected = cost(epochs[0], epochs[1]);
  const warning = expected > seconds
    ? `time budget too small: ${epochs[0]} + ${epochs[1]} epochs need about ` +
      `${Math.ceil(expected)} s, ${Math.max(0, Math.floor(seconds))} s are left; ` +
      `training them anyway`
    : null;
  return { epochs, seconds: expected, warning };
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
  const [n1, n2] = plan.epochs, [w1, w2] = plan.windowsPerEpoch;
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
