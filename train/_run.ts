// This module is browser compatible.
// A training run in progress (private to the trainer): what it holds, how it is set up (resumed
// if asked), and where it stands for the schedule keeper.
import { CHECKPOINT_VERSION } from "../model/checkpoint.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import { NetworkSliceModel } from "../model/network_slice_model.ts";
import { type RunProgress, TrainingCheckpoints } from "./checkpointing.ts";
import type { ResolvedTrainOptions } from "./schedule.ts";
import type { SchedulePlan } from "./budget_plan.ts";
import { keepSchedule, type ScheduleClock, type ScheduleKeeper } from "./_schedule_keeper.ts";
import type { ResumeState } from "./_train_checkpoint.ts";
import type { LoadedCase, TrainingSource } from "./training_data.ts";
import type { TrainRecord } from "./train_options.ts";
import { CaseCache, WindowSampler } from "./window_sampler.ts";

/** A run in progress: its data, checkpoints, position, schedule and clocks. */
export interface Run extends RunProgress {
  state: ResumeState & { plan: SchedulePlan };
  keeper: ScheduleKeeper;
  o: ResolvedTrainOptions;
  source: TrainingSource;
  network: SegmentationNetwork;
  /** The network as `segment` runs it, for validation (not owned: the network is released by `train`). */
  model: NetworkSliceModel;
  checkpoints: TrainingCheckpoints;
  sampler: WindowSampler;
  cache: CaseCache<LoadedCase>;
  /** Batches, windows, and seconds of training and of the last validation, in this run. */
  steps: number;
  windows: number;
  stepSeconds: number;
  valSeconds: number;
}

/** Sets up a run: sampler, case cache, checkpoints, schedule, and the resumed position if asked. */
export async function startRun(
  network: SegmentationNetwork,
  source: TrainingSource,
  o: ResolvedTrainOptions & { log: (line: string) => void },
): Promise<Run> {
  const checkpoints = new TrainingCheckpoints(network, source, o);
  const sampler = new WindowSampler(source.train, {
    seq: o.seq,
    batch: o.batch,
    seed: o.seed,
    emptySkip: o.emptySkip,
    groupCases: o.cacheCases,
  });
  let history: TrainRecord[] = [];
  let resumed: ResumeState = {
    epoch: 0,
    step: 0,
    lossSum: 0,
    fingerprint: checkpoints.fingerprint,
    best: null,
    seconds: 0,
  };
  if (o.resume) ({ history, state: resumed } = await checkpoints.resume());
  const { state, keeper } = keepSchedule(resumed, { o, sampler, source, log: o.log });
  const t0 = performance.now();
  return {
    keeper,
    o,
    source,
    network,
    model: new NetworkSliceModel(network, {
      config: network.config,
      labels: source.labels,
      history: [],
      version: CHECKPOINT_VERSION,
    }),
    checkpoints,
    sampler,
    cache: new CaseCache<LoadedCase>((i) => source.loadTrain(i), { capacity: o.cacheCases + 2 }),
    state,
    history,
    best: (state.best?.record as TrainRecord | undefined) ?? null,
    elapsed: () => (performance.now() - t0) / 1000,
    steps: 0,
    windows: 0,
    stepSeconds: 0,
    valSeconds: 0,
  };
}

/** Where the run is, for the schedule keeper. */
export function clockOf(run: Run): ScheduleClock {
  const { state, o } = run;
  return {
    epoch: state.epoch,
    windowsDone: state.step * o.batch,
    seconds: state.seconds + run.elapsed(),
  };
}
