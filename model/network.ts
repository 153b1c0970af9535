/**
 * The segmentation network on the GPU: multi-modal encoder + cross-modality
 * convolution, convLSTM over slices, decoder with multi-resolution fusion, in
 * every ablation variant of {@linkcode ModelConfig}. Built only from `gpu/` ops.
 *
 * Input layout: a batch of `B` sequences of `T` slices is one tensor
 * `[B·T, M, H, W]` (slice index `b·T + t`; channels FLAIR, T1, T1c, T2),
 * with `H` and `W` multiples of 16. The encoder and decoder run on all `B·T`
 * slices at once; the convLSTM steps over `t`.
 *
 * @module
 */

import { add } from "../gpu/ops/add.ts";
import { argmaxChannels } from "../gpu/ops/argmax.ts";
import { batchNorm, type BatchNormParams } from "../gpu/ops/batch_norm.ts";
import { foldBatchNorm } from "../gpu/ops/batch_norm_fold.ts";
import { concatChannels } from "../gpu/ops/concat.ts";
import { conv2d, type PackedConv2d, prepackConv2d } from "../gpu/ops/conv2d.ts";
import { convLstmCell } from "../gpu/ops/conv_lstm_cell.ts";
import { convTranspose2d } from "../gpu/ops/conv_transpose2d.ts";
import { maxPool2x2 } from "../gpu/ops/max_pool.ts";
import { mul } from "../gpu/ops/mul.ts";
import { relu } from "../gpu/ops/relu.ts";
import { softmax } from "../gpu/ops/softmax_cross_entropy.ts";
import { PARAMETER_ALIGNMENT, ParameterStore } from "../gpu/parameters.ts";
import { isRecording } from "../gpu/autograd.ts";
import { scoped, Tensor, TensorScope } from "../gpu/tensor.ts";
import { joinSteps, narrowChannels, stepOf } from "./_blocks.ts";
import { type ModelConfig, validateConfig } from "./config.ts";
import { type ConvBnPlan, initialValues, type NetworkPlan, networkPlan } from "./plan.ts";

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

interface Folded {
  weight: Tensor;
  bias: Tensor;
  packed: PackedConv2d;
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
  #folded: Map<string, Folded> | null = null;
  // Inference packs of the convs without batch norm (cmc, convLSTM, head), dropped with #folded.
  #packed = new Map<string, PackedConv2d>();

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
   * const net = SegmentationNetwork.create(modelConfig("unet"), { seed: 7 });
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
    if (this.#folded) {
      for (const f of this.#folded.values()) {
        [f.weight, f.bias, f.packed].forEach((t) => t.release());
      }
    }
    this.#folded = null;
    for (const p of this.#packed.values()) p.release();
    this.#packed.clear();
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
   * const tape = new Tape();
   * const logits = tape.run(() => net.forward(batch, { steps: 3 }));
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
   * let state: StreamState | null = null;
   * for (const window of windows) {
   *   const out = net.step(window, state, { output: "labels" });
   *   releaseState(state);
   *   state = out.state;
   *   labels.push(await out.labels!.read());
   * }
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
    const features = this.#encode(x, mode);
    let deep = features[3];
    let state: StreamState | null = null;
    if (this.config.sequence === "convlstm") {
      const lstm = stage(() => this.#convLstm(deep, steps, options.state ?? null, mode));
      if (deep !== lstm.h) dead(deep);
      ({ h: deep, state } = lstm);
    }
    let y = deep;
    for (const plan of this.plan.decoder) {
      const input = y;
      y = stage(() => {
        const up = convTranspose2d(input, this.tensor(`${plan.prefix}.up.weight`), {
          bias: this.tensor(`${plan.prefix}.up.bias`),
        });
        let fused = up;
        if (plan.skip !== null) {
          const skip = features[plan.skip];
          fused = this.config.fusion === "multiply" ? mul(up, skip) : concatChannels([up, skip]);
        }
        return this.#convBnRelu(fused, plan.conv, mode);
      });
      // The carried state's h is the caller's; every other decoder input dies here.
      if (input !== state?.h) dead(input);
      if (plan.skip !== null) dead(features[plan.skip]);
    }
    const logits = this.#conv(y, "head", mode);
    if (y !== state?.h) dead(y);
    return { logits, state };
  }

  #checkInput(x: Tensor, steps: number): void {
    const [n, m, h, w] = x.shape;
    if (x.shape.length !== 4 || m !== this.config.modalities) {
      throw new RangeError(
        `network input must be [N, ${this.config.modalities}, H, W], got [${x.shape.join(", ")}]`,
      );
    }
    if (h % 16 !== 0 || w % 16 !== 0 || h === 0 || w === 0) {
      throw new RangeError(`network input H and W must be multiples of 16, got ${h}×${w}`);
    }
    if (!Number.isInteger(steps) || steps < 1 || n % steps !== 0) {
      throw new RangeError(`a batch of ${n} slices is not a whole number of sequences of ${steps}`);
    }
  }

  /**
   * The fused encoder maps F[0..3] (entries without a consumer may be absent). Stage by stage
   * over the modalities, so that outside a tape each stage's inputs die as soon as it is done.
   */
  #encode(x: Tensor, mode: NormMode): Tensor[] {
    const encoders = this.plan.encoders;
    const stacked = this.config.encoder === "stacked";
    let level: Tensor[] = encoders.map(() => x);
    const features: Tensor[] = [];
    const depth = encoders[0].stages.length;
    for (let k = 0; k < depth; k++) {
      const inputs = level;
      level = encoders.map((encoder, m) =>
        stage(() => {
          const h = k === 0 && encoders.length > 1
            ? narrowChannels(x, { start: m, count: 1 })
            : inputs[m];
          return maxPool2x2(this.#convBnRelu(h, encoder.stages[k], mode));
        })
      );
      if (k > 0 && !stacked) inputs.forEach(dead);
      if (stacked) features[k] = level[0];
      else if (this.plan.cmc.includes(k)) {
        const maps = level;
        features[k] = stage(() => this.#conv(concatChannels(maps), `cmc.${k}`, mode));
      }
    }
    if (!stacked) level.forEach(dead);
    return features;
  }

  /** A conv without batch norm (`<name>.weight`, `<name>.bias`), prepacked when folded. */
  #conv(x: Tensor, name: string, mode: NormMode, biasName = `${name}.bias`): Tensor {
    const weight = this.tensor(`${name}.weight`);
    const bias = biasName ? this.tensor(biasName) : null;
    if (mode !== "folded") return conv2d(x, weight, { bias });
    let prepacked = this.#packed.get(name);
    if (!prepacked) {
      prepacked = prepackConv2d(weight, { bias });
      this.#packed.set(name, prepacked);
    }
    return conv2d(x, weight, { bias, prepacked });
  }

  #convLstm(
    x: Tensor,
    steps: number,
    initial: StreamState | null,
    mode: NormMode,
  ): { h: Tensor; state: StreamState } {
    // The input half of the gates does not depend on h: one conv over all slices.
    const gx = this.#conv(x, "lstm.x", mode, "lstm.bias");
    const [n, ch, hh, ww] = x.shape;
    let h = initial?.h ?? null;
    let c = initial?.c ?? Tensor.zeros([n / steps, ch, hh, ww], { label: "lstm.c0" });
    const hs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      let gates = steps === 1 ? gx : stepOf(gx, { steps, t });
      if (h) gates = add(gates, this.#conv(h, "lstm.h", mode, ""));
      ({ h, c } = convLstmCell(gates, c));
      hs.push(h);
    }
    return { h: steps === 1 ? hs[0] : joinSteps(hs), state: { h: h!, c } };
  }

  #convBnRelu(x: Tensor, plan: ConvBnPlan, mode: NormMode): Tensor {
    const weight = this.tensor(`${plan.prefix}.conv.weight`);
    if (mode === "folded") {
      const f = this.#foldedOf(plan.prefix);
      const y = conv2d(x, f.weight, { bias: f.bias, prepacked: f.packed });
      const out = relu(y);
      dead(y);
      return out;
    }
    const y = conv2d(x, weight, { bias: null });
    return relu(batchNorm(y, this.#bn(plan.prefix), { training: mode === "train" }));
  }

  #bn(prefix: string): BatchNormParams {
    return {
      gamma: this.tensor(`${prefix}.bn.gamma`),
      beta: this.tensor(`${prefix}.bn.beta`),
      runningMean: this.tensor(`${prefix}.bn.running_mean`),
      runningVar: this.tensor(`${prefix}.bn.running_var`),
    };
  }

  #foldedOf(prefix: string): Folded {
    this.#folded ??= new Map();
    let f = this.#folded.get(prefix);
    if (!f) {
      const scope = TensorScope.begin();
      const folded = foldBatchNorm(
        this.tensor(`${prefix}.conv.weight`),
        null,
        this.#bn(prefix),
        {},
      );
      scope.end(folded);
      const weight = folded.weight.keep();
      const bias = folded.bias.keep();
      f = { weight, bias, packed: prepackConv2d(weight, { bias }) };
      this.#folded.set(prefix, f);
    }
    return f;
  }
}

/** Outside a tape, runs one stage in its own scope: everything but its result dies with it. */
function stage<T>(fn: () => T): T {
  return isRecording() ? fn() : scoped(fn);
}

/** Outside a tape, releases a tensor nothing reads any more (the tape keeps its inputs). */
function dead(t: Tensor | undefined): void {
  if (t && !isRecording()) t.release();
}

/**
 * Releases a stream state's tensors (null is fine).
 *
 * @example
 * ```ts
 * releaseState(previous);
 * ```
 */
export function releaseState(state: StreamState | null): void {
  state?.h.release();
  state?.c.release();
}
