// This module is browser compatible.
/**
 * The segmentation network on the GPU: multi-modal encoder + cross-modality
 * convolution, convLSTM over slices, decoder with multi-resolution fusion, in
 * every ablation variant of {@linkcode ModelConfig}. Built only from `gpu/` ops.
 *
 * Input layout: a batch of `B` sequences of `T` slices is one tensor
 * `[B·T, M, H, W]` (slice index `b·T + t`; channels FLAIR, T1, T1c, T2),
 * with `H` and `W` multiples of 16. The encoder and decoder run on all `B·T`
 * slices at once; the convLSTM steps over `t`. This file holds the parameters
 * and the calls; the graph they run is `_network_graph.ts`.
 *
 * @module
 */

import { argmaxChannels } from "../gpu/ops/argmax.ts";
import { softmax } from "../gpu/ops/softmax.ts";
import { PARAMETER_ALIGNMENT, ParameterStore } from "../gpu/parameters.ts";
import { Tensor } from "../gpu/tensor.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";
import { type GraphWeights, runGraph } from "./_network_graph.ts";
import { type ModelConfig, validateConfig } from "./config.ts";
import { SLICE_MULTIPLE } from "../data/preprocess.ts";
import { initialValues, type NetworkPlan, networkPlan } from "./plan.ts";

/** The convLSTM state carried from one window to the next: h and c, [1, C4, H/16, W/16]. */
export interface StreamState {
  /** Hidden state. */
  readonly h: Tensor;
  /** Cell state. */
  readonly c: Tensor;
}

/** How batch norm behaves in a forward pass. */
export type NormMode = "train" | "eval" | "folded";

/** Options of {@linkcode SegmentationNetwork.forward}. */
export interface ForwardOptions {
  /** Slices per sequence `T` (the batch is `[B·T, M, H, W]`); default 1. */
  steps?: number;
  /**
   * `train` (default): batch statistics, running statistics updated;
   * `eval`: running statistics; `folded`: batch norm folded into the convs (inference).
   */
  mode?: NormMode;
  /** convLSTM state at t = 0 (batch 1 only); zeros when absent. */
  state?: StreamState | null;
}

/** What {@linkcode SegmentationNetwork.step} returns. */
export interface StepResult {
  /** Class scores [T, K, H, W] (when `output` is `logits`). */
  logits?: Tensor;
  /** Class probabilities [T, K, H, W] (when `output` is `probabilities`). */
  probabilities?: Tensor;
  /** Class indices as floats [T, 1, H, W] (when `output` is `labels`). */
  labels?: Tensor;
  /** convLSTM state after the window's last slice (null without a convLSTM). */
  state: StreamState | null;
}

/** Options of {@linkcode SegmentationNetwork.create}. */
export interface NetworkOptions {
  /** Seed of the initialisation (default 1). */
  seed?: number;
}

/** The network: parameters in a {@linkcode ParameterStore}, running statistics beside it. */
export class SegmentationNetwork {
  /** The validated config. */
  readonly config: ModelConfig;
  /** The layer plan (names, shapes, wiring). */
  readonly plan: NetworkPlan;
  /** Trainable parameters (one flat GPU buffer, with gradients and Adam moments). */
  readonly params: ParameterStore;
  /** Batch-norm running statistics (`*.bn.running_mean`, `*.bn.running_var`), not trained. */
  readonly stats: ReadonlyMap<string, Tensor>;
  #tensors = new Map<string, Tensor>();
  // What the forward graph reads, with the inference caches (folded batch norms, prepacked convs).
  readonly #graph: GraphWeights;

  private constructor(config: ModelConfig, seed: number) {
    this.config = validateConfig(config);
    this.plan = networkPlan(this.config);
    // Each parameter's view starts on a PARAMETER_ALIGNMENT boundary.
    const align = (n: number) => Math.ceil(n / PARAMETER_ALIGNMENT) * PARAMETER_ALIGNMENT;
    const capacity = this.plan.params.filter((p) => p.trainable)
      .reduce((n, p) => n + align(p.shape.reduce((a, b) => a * b, 1)), 0);
    this.params = new ParameterStore({ capacity: Math.max(PARAMETER_ALIGNMENT, capacity) });
    const stats = new Map<string, Tensor>();
    for (const spec of this.plan.params) {
      const init = initialValues(spec, { seed });
      const t = spec.trainable
        ? this.params.add(spec.name, spec.shape, init)
        : Tensor.from(init, spec.shape, { label: spec.name }).keep();
      if (!spec.trainable) stats.set(spec.name, t);
      this.#tensors.set(spec.name, t);
    }
    this.stats = stats;
    this.#graph = {
      config: this.config,
      plan: this.plan,
      tensor: (name) => this.tensor(name),
      folded: new Map(),
      packed: new Map(),
    };
  }

  /**
   * A freshly initialised network (the GPU device must be acquired first: `await getDevice()`).
   *
   * @example
   * ```ts
   * import { getDevice } from "../gpu/device.ts";
   * import { modelConfig } from "./config.ts";
   * import { SegmentationNetwork } from "./network.ts";
   * await getDevice();
   * const config = modelConfig("unet", { widths: [2, 2, 2, 2] });
   * const net = SegmentationNetwork.create(config, { seed: 7 });
   * console.log(net.params.count, net.stats.size); // 548 16
   * net.release();
   * ```
   */
  static create(config: ModelConfig, options: NetworkOptions = {}): SegmentationNetwork {
    return new SegmentationNetwork(config, options.seed ?? 1);
  }

  /**
   * The tensor of a parameter or running statistic by name.
   *
   * @throws {RangeError} for an unknown name.
   */
  tensor(name: string): Tensor {
    const t = this.#tensors.get(name);
    if (!t) throw new RangeError(`No parameter named "${name}"`);
    return t;
  }

  /** Every tensor (parameters and running statistics) by name, in plan order. */
  tensors(): [string, Tensor][] {
    return [...this.#tensors];
  }

  /** Forgets the folded inference weights; call after changing parameters or statistics. */
  invalidate(): void {
    for (const f of this.#graph.folded.values()) {
      [f.weight, f.bias, f.packed].forEach((t) => t.release());
    }
    this.#graph.folded.clear();
    for (const p of this.#graph.packed.values()) p.release();
    this.#graph.packed.clear();
  }

  /** Releases every GPU tensor of the network. */
  release(): void {
    this.invalidate();
    for (const t of this.#tensors.values()) t.release();
    this.params.destroy();
  }

  /**
   * Class scores `[B·T, K, H, W]` for a batch `[B·T, M, H, W]` of `B` sequences
   * of `T` slices. Records on the active tape; in `train` mode running
   * statistics are updated (and folded weights forgotten).
   *
   * @example
   * ```ts
   * import { Tape } from "../gpu/autograd.ts";
   * import { getDevice } from "../gpu/device.ts";
   * import { Tensor } from "../gpu/tensor.ts";
   * import { TensorScope } from "../gpu/tensor_scope.ts";
   * import { modelConfig } from "./config.ts";
   * import { SegmentationNetwork } from "./network.ts";
   * await getDevice();
   * const net = SegmentationNetwork.create(modelConfig(undefined, { widths: [2, 2, 2, 2] }));
   * const scope = TensorScope.begin();
   * const batch = Tensor.zeros([3, 4, 16, 16]); // one sequence of 3 slices
   * const tape = new Tape();
   * const logits = tape.run(() => net.forward(batch, { steps: 3 }));
   * console.log(logits.shape, tape.length > 0); // [3, 4, 16, 16] true
   * scope.end();
   * net.release();
   * ```
   */
  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    return this.#run(x, options).logits;
  }

  /**
   * Inference on one window `[T, M, H, W]` of consecutive slices: encoder and
   * decoder batched over the window, the convLSTM stepped slice by slice
   * from `state` (zeros when null). Batch norm is folded into the convolutions.
   * Intermediate tensors are released; the caller owns the results and the
   * state it passed in (release it when done).
   *
   * @example
   * ```ts
   * import { getDevice } from "../gpu/device.ts";
   * import { Tensor } from "../gpu/tensor.ts";
   * import { modelConfig } from "./config.ts";
   * import { releaseState, SegmentationNetwork, type StreamState } from "./network.ts";
   * await getDevice();
   * const net = SegmentationNetwork.create(modelConfig(undefined, { widths: [2, 2, 2, 2] }));
   * const windows = [Tensor.zeros([2, 4, 16, 16]), Tensor.zeros([2, 4, 16, 16])];
   * const labels: Float32Array[] = [];
   * let state: StreamState | null = null;
   * for (const window of windows) {
   *   const out = net.step(window, state, { output: "labels" }); // the state carries over
   *   releaseState(state);
   *   state = out.state;
   *   labels.push(await out.labels!.read());
   *   out.labels!.release();
   *   window.release();
   * }
   * console.log(labels.length, labels[0].length, state!.h.shape); // 2 512 [1, 2, 1, 1]
   * releaseState(state);
   * net.release();
   * ```
   */
  step(
    window: Tensor,
    state: StreamState | null,
    options: { output?: "logits" | "probabilities" | "labels" } = {},
  ): StepResult {
    const output = options.output ?? "logits";
    const scope = TensorScope.begin();
    let result: StepResult | undefined;
    try {
      const { logits, state: next } = this.#run(window, {
        steps: window.shape[0],
        mode: "folded",
        state,
      });
      result = { state: next };
      if (output === "logits") result.logits = logits;
      else if (output === "labels") result.labels = argmaxChannels(logits);
      else result.probabilities = softmax(logits);
      return result;
    } finally {
      scope.end(result);
    }
  }

  #run(
    x: Tensor,
    options: ForwardOptions,
  ): { logits: Tensor; state: StreamState | null } {
    const steps = options.steps ?? 1;
    const mode = options.mode ?? "train";
    this.#checkInput(x, steps);
    if (mode === "train") this.invalidate();
    if (options.state && x.shape[0] !== steps) {
      throw new RangeError("forward: a carried state needs a batch of one sequence");
    }
    return runGraph(this.#graph, x, { steps, mode, state: options.state ?? null });
  }

  #checkInput(x: Tensor, steps: number): void {
    const [n, m, h, w] = x.shape;
    if (x.shape.length !== 4 || m !== this.config.modalities) {
      throw new RangeError(
        `network input must be [N, ${this.config.modalities}, H, W], got [${x.shape.join(", ")}]`,
      );
    }
    if (h % SLICE_MULTIPLE !== 0 || w % SLICE_MULTIPLE !== 0 || h === 0 || w === 0) {
      throw new RangeError(
        `network input H and W must be multiples of ${SLICE_MULTIPLE}, got ${h}×${w}`,
      );
    }
    if (!Number.isInteger(steps) || steps < 1 || n % steps !== 0) {
      throw new RangeError(`a batch of ${n} slices is not a whole number of sequences of ${steps}`);
    }
  }
}

/**
 * Releases a stream state's tensors (null is fine).
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { Tensor } from "../gpu/tensor.ts";
 * import { modelConfig } from "./config.ts";
 * import { releaseState, SegmentationNetwork } from "./network.ts";
 * await getDevice();
 * const net = SegmentationNetwork.create(modelConfig(undefined, { widths: [2, 2, 2, 2] }));
 * const window = Tensor.zeros([1, 4, 16, 16]);
 * const { logits, state } = net.step(window, null);
 * releaseState(state); // the convLSTM's h and c
 * releaseState(null); // a no-op: variants without a convLSTM have no state
 * console.log(state!.h.released, state!.c.released); // true true
 * [window, logits!].forEach((t) => t.release());
 * net.release();
 * ```
 */
export function releaseState(state: StreamState | null): void {
  state?.h.release();
  state?.c.release();
}
