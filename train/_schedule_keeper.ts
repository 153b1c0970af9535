// This module is browser compatible.
/**
 * Private: the trainer's side of the schedule. It measures throughput over
 * the first batches (the run's first, which compiles shaders, left out),
 * then, under a time budget, sizes both phases with `planEpochs`; after each
 * validated epoch it re-plans when the first validation's measured time
 * replaces the estimate, once when throughput moved by more than 25%, and
 * whenever the plan would overrun the budget. It logs every plan it makes.
 * When not even one whole epoch of each phase fits, the plan shortens them
 * (`windowLimits`); re-plans then only shrink the limits, never below a batch.
 *
 * @module
 */

import { describePlan, planEpochs, type SchedulePlan } from "./budget_plan.ts";
import type { ResolvedTrainOptions } from "./schedule.ts";
import type { TrainingSource } from "./training_data.ts";
import type { WindowSampler } from "./window_sampler.ts";
import type { ResumeState } from "./_train_checkpoint.ts";

/** Batches measured before a budget plan is made... */
export const MEASURE_BATCHES = 20;
/** ...or this share of the budget spent, whichever comes first. */
export const MEASURE_SHARE = 0.05;
/** Share of the budget left unplanned, for the final checkpoints and estimate noise. */
export const BUDGET_MARGIN = 0.05;
/** A change of throughput by more than this share re-plans (once). */
export const REPLAN_CHANGE = 0.25;
/** A validation window's cost relative to a training window's (forward only), until measured. */
const VALIDATION_COST = 0.5;

/** Where the run is, as the keeper needs it. */
export interface ScheduleClock {
  /** Global epoch index (0-based) in progress, or about to start. */
  epoch: number;
  /** Windows trained so far in that epoch. */
  windowsDone: number;
  /** Training seconds over all runs (what the budget counts). */
  seconds: number;
}

/**
 * A plan of the epochs as given, before anything was measured.
 *
 * @example
 * ```ts
 * import { givenPlan } from "./_schedule_keeper.ts";
 * const o = { epochs: 8, phase2Epochs: 4, singlePhase: false, timeBudget: 1800 };
 * givenPlan(o, { windowsPerEpoch: [157, 310], validation: true }).epochs; // [8, 4] until measured
 * ```
 */
export function givenPlan(
  o: { epochs: number; phase2Epochs: number; singlePhase: boolean; timeBudget?: number },
  options: { windowsPerEpoch: [number, number]; maxEpochs?: number; validation: boolean },
): SchedulePlan {
  const ratio: [number, number] = o.singlePhase ? [o.epochs, 0] : [o.epochs, o.phase2Epochs];
  return {
    epochs: [...ratio],
    ratio,
    windowsPerEpoch: options.windowsPerEpoch,
    budget: o.timeBudget ?? null,
    maxEpochs: options.maxEpochs ?? null,
    windowsPerSecond: null,
    validationSeconds: options.validation ? null : 0,
    validationMeasured: !options.validation,
    expectedSeconds: null,
    replans: 0,
    windowLimits: null,
  };
}

/**
 * Measures the run and keeps `state.plan` fitted to the budget.
 *
 * @example
 * ```ts
 * import { givenPlan, ScheduleKeeper } from "./_schedule_keeper.ts";
 * const o = { epochs: 8, phase2Epochs: 4, singlePhase: false, timeBudget: 600 };
 * const state = { plan: givenPlan(o, { windowsPerEpoch: [100, 200], validation: false }) };
 * const keeper = new ScheduleKeeper(state, { validationWindows: 0, log: console.log });
 * // 21 batches of 3 windows at 0.1 s each (the first, the warm-up, is not measured): 30 windows/s.
 * for (let i = 1; i <= 21; i++) {
 *   keeper.step(3, 0.1, { epoch: 0, windowsDone: 3 * i, seconds: 0.1 * i });
 * }
 * state.plan.epochs; // [85, 43]: epochs of 3.3 s and 6.7 s fill 95% of 600 s, about 8:4
 * ```
 */
export class ScheduleKeeper {
  readonly #state: { plan: SchedulePlan };
  readonly #log: (line: string) => void;
  readonly #options: { validationWindows: number; batch?: number };
  #first = true;
  #measured = { windows: 0, seconds: 0, steps: 0 };
  /** This epoch's measured batches (for throughput) and all its batches' seconds (for the overhead). */
  #epoch = { windows: 0, seconds: 0, stepSeconds: 0 };
  /** Training seconds when the last epoch was validated (or the run started). */
  #mark = 0;
  /** The kinds of warning logged so far (each once). */
  #warned = new Set<string>();

  /** Keeps `state.plan`; `validationWindows` sizes its first estimate; `batch`: a shortened epoch's least. */
  constructor(
    state: { plan: SchedulePlan },
    options: { validationWindows: number; log: (line: string) => void; batch?: number },
  ) {
    [this.#state, this.#log, this.#options] = [state, options.log, options];
  }

  get #plan(): SchedulePlan {
    return this.#state.plan;
  }

  /** The total epochs of the current plan. */
  get total(): number {
    return this.#plan.epochs[0] + this.#plan.epochs[1];
  }

  /** Logs the plan at the start of a run (`budget`: the one asked for now). */
  start(clock: ScheduleClock, options: { resumed: boolean; budget?: number }): void {
    const plan = this.#plan;
    const { resumed } = options;
    this.#mark = clock.seconds;
    if (resumed && (options.budget ?? null) !== plan.budget) {
      this.#log(
        `the resumed run keeps the plan of the run it continues (time budget ` +
          `${plan.budget ?? "none"}), not --time-budget ${options.budget ?? "none"}`,
      );
    }
    if (plan.budget !== null && plan.windowsPerSecond === null) {
      this.#log(
        `time budget ${plan.budget} s: measuring throughput over the first ${MEASURE_BATCHES} ` +
          `batches, then fitting the phases into it in the ratio ${plan.ratio.join(":")}`,
      );
    } else {
      this.#log(`${resumed ? "resumed " : ""}${describePlan(plan, { seconds: clock.seconds })}`);
    }
  }

  /** Records one trained batch; makes the first plan once enough is measured. */
  step(windows: number, seconds: number, clock: ScheduleClock): void {
    this.#epoch.stepSeconds += seconds;
    if (this.#first) {
      this.#first = false;
      if (this.#plan.windowsPerSecond === null) this.#measured = { windows, seconds, steps: 0 };
      return;
    }
    if (this.#measured.steps === 0 && this.#plan.windowsPerSecond === null) {
      this.#measured = { windows: 0, seconds: 0, steps: 0 }; // drop the warm-up batch
    }
    this.#measured.windows += windows;
    this.#measured.seconds += seconds;
    this.#measured.steps++;
    this.#epoch.windows += windows;
    this.#epoch.seconds += seconds;
    const budget = this.#plan.budget;
    if (this.#plan.windowsPerSecond !== null) return;
    const share = budget !== null && this.#measured.seconds >= MEASURE_SHARE * budget;
    if (this.#measured.steps >= MEASURE_BATCHES || share) this.#measure(clock);
  }

  /** Before an epoch's validation: plans with what was measured if that was too little so far. */
  trained(clock: ScheduleClock): void {
    if (this.#plan.windowsPerSecond === null && this.#measured.seconds > 0) this.#measure(clock);
  }

  /**
   * After an epoch's validation (`clock.epoch` is the next epoch): re-plans
   * with the measured time an epoch takes besides its batches (validation,
   * checkpoints, loading), or the changed throughput, or when the plan
   * would overrun the budget.
   */
  validated(clock: ScheduleClock): void {
    const plan = this.#plan;
    const epoch = this.#epoch;
    const overheadSeconds = Math.max(0, clock.seconds - this.#mark - epoch.stepSeconds);
    this.#epoch = { windows: 0, seconds: 0, stepSeconds: 0 };
    this.#mark = clock.seconds;
    if (plan.budget === null || plan.windowsPerSecond === null || clock.epoch >= this.total) return;
    const measured = this.#measured;
    // The whole run's rate, unless throughput moved enough to re-plan on the last epoch's.
    let wps = measured.seconds > 0 ? measured.windows / measured.seconds : plan.windowsPerSecond;
    // The latest epoch's overhead stands for the next ones'.
    const val = overheadSeconds;
    const reasons: string[] = [];
    if (!plan.validationMeasured) {
      plan.validationMeasured = true;
      reasons.push(`validation and checkpoints took ${overheadSeconds.toFixed(1)} s`);
    }
    const recent = epoch.seconds > 0 ? epoch.windows / epoch.seconds : wps;
    if (plan.replans < 1 && Math.abs(recent / plan.windowsPerSecond - 1) > REPLAN_CHANGE) {
      reasons.push(
        `throughput ${recent.toFixed(2)} windows/s, planned ${plan.windowsPerSecond.toFixed(2)}`,
      );
      wps = recent;
      plan.replans++;
    }
    if (reasons.length === 0) {
      if (clock.seconds + this.#epochCost(clock.epoch, wps, val) <= plan.budget) return;
      reasons.push("behind schedule");
    }
    this.#replan(clock, { wps, val });
    this.#log(`re-planned (${reasons.join("; ")}): ${describePlan(plan, clock)}`);
  }

  /** The first measurement: rates into the plan, and under a budget the epochs fitted. */
  #measure(clock: ScheduleClock): void {
    const plan = this.#plan;
    const wps = this.#measured.windows / this.#measured.seconds;
    const val = plan.validationSeconds ?? this.#options.validationWindows / wps * VALIDATION_COST;
    if (plan.budget === null) {
      plan.windowsPerSecond = wps;
      plan.validationSeconds = val;
      const epochs = this.#epochCost(clock.epoch, wps, val);
      plan.expectedSeconds = clock.seconds - clock.windowsDone / wps + epochs;
    } else {
      this.#replan(clock, { wps, val });
    }
    this.#log(describePlan(plan, clock));
  }

  /** Sizes the epochs from `clock.epoch` on (crediting the windows of it already done). */
  #replan(clock: ScheduleClock, rates: { wps: number; val: number }): void {
    const plan = this.#plan;
    const [n1] = plan.epochs;
    const e = clock.epoch;
    const credit = clock.windowsDone / rates.wps;
    const next = planEpochs({
      ratio: plan.ratio,
      windowsPerEpoch: plan.windowsPerEpoch,
      windowsPerSecond: rates.wps,
      validationSeconds: rates.val,
      seconds: plan.budget! * (1 - BUDGET_MARGIN) - clock.seconds + credit,
      done: [Math.min(e, n1), Math.max(0, e - n1)],
      phase2Started: e > n1 || (e === n1 && clock.windowsDone > 0),
      maxEpochs: plan.maxEpochs,
      batch: this.#options.batch,
      windowLimits: plan.windowLimits ?? null,
      windowsDone: clock.windowsDone,
    });
    plan.epochs = next.epochs;
    plan.windowLimits = next.windowLimits;
    plan.windowsPerSecond = rates.wps;
    plan.validationSeconds = rates.val;
    plan.expectedSeconds = clock.seconds - credit + next.seconds;
    const kind = next.warning?.includes("anyway") ? "anyway" : "shortened";
    if (next.warning && !this.#warned.has(kind)) {
      this.#warned.add(kind);
      this.#log(`warning: ${next.warning}`);
    }
  }

  /** Seconds of the plan's epochs from `from` on, at the given rates. */
  #epochCost(from: number, wps: number, val: number): number {
    const [n1, n2] = this.#plan.epochs, [l1, l2] = this.#plan.windowLimits ?? [];
    const [w1, w2] = this.#plan.windowsPerEpoch.map((w, i) => Math.min(w, [l1, l2][i] ?? w));
    let seconds = 0;
    for (let e = from; e < n1 + n2; e++) seconds += (e < n1 ? w1 : w2) / wps + val;
    return seconds;
  }
}

/**
 * A run's schedule: the plan a resumed run carries, else the epochs as
 * given (sized to the budget once measured), and its keeper.
 *
 * @example
 * ```ts
 * import { keepSchedule } from "./_schedule_keeper.ts";
 * import { resolveTrainOptions } from "./schedule.ts";
 * import { WindowSampler } from "./window_sampler.ts";
 * import { modelConfig } from "../model/config.ts";
 * const o = resolveTrainOptions({ config: modelConfig(), out: "m.safetensors", write: async () => {} });
 * const train = [{ id: "a", depth: 6, tumour: new Uint8Array([0, 1, 1, 1, 0, 0]) }];
 * const source = { train, val: [] };
 * const resumed = { epoch: 0, step: 0, lossSum: 0, fingerprint: {}, best: null, seconds: 0 };
 * const sampler = new WindowSampler(train);
 * const { state } = keepSchedule(resumed, { o, sampler, source, log: console.log });
 * state.plan.windowsPerEpoch; // [4, 4]: every window of this case holds tumour
 * ```
 */
export function keepSchedule(
  resumed: ResumeState,
  options: {
    o: ResolvedTrainOptions;
    sampler: Pick<WindowSampler, "windows">;
    source: Pick<TrainingSource, "train" | "val">;
    log: (line: string) => void;
  },
): { state: ResumeState & { plan: SchedulePlan }; keeper: ScheduleKeeper } {
  const { o, sampler, source } = options;
  // Phase 2's windows per epoch from one epoch's draw: the skipped empty windows vary a little.
  const windowsPerEpoch: [number, number] = o.singlePhase
    ? [sampler.windows(0, 2).length, 0]
    : [sampler.windows(0, 1).length, sampler.windows(0, 2).length];
  const validation = source.val.length > 0;
  const plan = resumed.plan ??
    givenPlan(o, { windowsPerEpoch, maxEpochs: o.maxEpochs, validation });
  const state = { ...resumed, plan };
  const depth = source.train.reduce((sum, c) => sum + c.depth, 0) / source.train.length;
  const keeper = new ScheduleKeeper(state, {
    validationWindows: source.val.length * Math.ceil(depth / o.seq),
    log: options.log,
    batch: o.batch,
  });
  return { state, keeper };
}
