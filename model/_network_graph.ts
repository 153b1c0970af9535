// This module is browser compatible.
/**
 * Private: the forward graph of `SegmentationNetwork` (network.ts) on the GPU. Encoder stages (one
 * encoder per modality, or one on the stacked channels), cross-modality convs, the convLSTM
 * stepped over slices, the decoder with fusion, the 1×1 head. Weights are read by name; batch
 * norm uses batch statistics (`train`), running statistics (`eval`), or is folded into the convs
 * (`folded`, inference, with the folded and prepacked weights cached on the network).
 *
 * @module
 */

import { add } from "../gpu/ops/add.ts";
import { batchNorm, type BatchNormParams } from "../gpu/ops/batch_norm.ts";
import { foldBatchNorm } from "../gpu/ops/batch_norm_fold.ts";
import { concatChannels } from "../gpu/ops/concat.ts";
import { conv2d } from "../gpu/ops/conv2d.ts";
import { type PackedConv2d, prepackConv2d } from "../gpu/ops/conv2d_prepack.ts";
import { convLstmCell } from "../gpu/ops/conv_lstm_cell.ts";
import { convTranspose2d } from "../gpu/ops/conv_transpose2d.ts";
import { maxPool2x2 } from "../gpu/ops/max_pool.ts";
import { mul } from "../gpu/ops/mul.ts";
import { isRecording } from "../gpu/autograd.ts";
import { Tensor } from "../gpu/tensor.ts";
import { scoped, TensorScope } from "../gpu/tensor_scope.ts";
import { joinSteps, narrowChannels, stepOf } from "./_split_join.ts";
import type { ModelConfig } from "./config.ts";
import type { NormMode, StreamState } from "./network.ts";
import type { ConvBnPlan, NetworkPlan } from "./plan.ts";

/** A batch norm folded into the conv before it, packed for inference. */
export interface Folded {
  /** The folded conv weight. */
  weight: Tensor;
  /** The folded conv bias. */
  bias: Tensor;
  /** The folded weights prepacked for the forward kernel. */
  packed: PackedConv2d;
}

/** What the graph reads from the network: weights by name and the inference caches. */
export interface GraphWeights {
  /** The validated config. */
  readonly config: ModelConfig;
  /** The layer plan. */
  readonly plan: NetworkPlan;
  /** A parameter or running statistic by name. */
  tensor(name: string): Tensor;
  /** Folded batch norms by layer prefix (filled in `folded` mode). */
  readonly folded: Map<string, Folded>;
  /** Prepacked convs without batch norm (cmc, convLSTM, head) by name (filled in `folded` mode). */
  readonly packed: Map<string, PackedConv2d>;
}

/** How one pass runs: the network's weights and the batch-norm mode. */
interface Pass {
  net: GraphWeights;
  mode: NormMode;
}

/**
 * Class scores `[B·T, K, H, W]` for a checked input `[B·T, M, H, W]` of sequences of `steps`
 * slices, and the convLSTM state after the last slice (null without a convLSTM).
 *
 * @example
 * ```ts
 * import { getDevice } from "../gpu/device.ts";
 * import { Tensor } from "../gpu/tensor.ts";
 * import { modelConfig } from "./config.ts";
 * import { SegmentationNetwork } from "./network.ts";
 * import { runGraph } from "./_network_graph.ts";
 * await getDevice();
 * const net = SegmentationNetwork.create(modelConfig("unet", { widths: [2, 2, 2, 2] }));
 * const weights = {
 *   config: net.config,
 *   plan: net.plan,
 *   tensor: (name: string) => net.tensor(name),
 *   folded: new Map(),
 *   packed: new Map(),
 * };
 * const x = Tensor.zeros([1, 4, 16, 16]);
 * const { logits } = runGraph(weights, x, { steps: 1, mode: "eval", state: null });
 * console.log(logits.shape); // [1, 4, 16, 16]
 * [x, logits].forEach((t) => t.release());
 * net.release();
 * ```
 */
export function runGraph(
  net: GraphWeights,
  x: Tensor,
  options: { steps: number; mode: NormMode; state: StreamState | null },
): { logits: Tensor; state: StreamState | null } {
  const { steps, mode } = options;
  const pass: Pass = { net, mode };
  const features = encode(pass, x);
  let deep = features[3];
  let state: StreamState | null = null;
  if (net.config.sequence === "convlstm") {
    const lstm = stage(() => convLstm(pass, deep, { steps, initial: options.state }));
    if (deep !== lstm.h) dead(deep);
    ({ h: deep, state } = lstm);
  }
  let y = deep;
  for (const plan of net.plan.decoder) {
    const input = y;
    y = stage(() => {
      const up = convTranspose2d(input, net.tensor(`${plan.prefix}.up.weight`), {
        bias: net.tensor(`${plan.prefix}.up.bias`),
      });
      let fused = up;
      if (plan.skip !== null) {
        const skip = features[plan.skip];
        fused = net.config.fusion === "multiply" ? mul(up, skip) : concatChannels([up, skip]);
      }
      return convBnRelu(pass, fused, plan.conv);
    });
    // The carried state's h is the caller's; every other decoder input dies here.
    if (input !== state?.h) dead(input);
    if (plan.skip !== null) dead(features[plan.skip]);
  }
  const logits = conv(pass, y, "head");
  if (y !== state?.h) dead(y);
  return { logits, state };
}

/**
 * The fused encoder maps F[0..3] (entries without a consumer may be absent). Stage by stage
 * over the modalities, so that outside a tape each stage's inputs die as soon as it is done.
 */
function encode(pass: Pass, x: Tensor): Tensor[] {
  const { net } = pass;
  const encoders = net.plan.encoders;
  const stacked = net.config.encoder === "stacked";
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
        return convBnRelu(pass, h, encoder.stages[k], { pool: true });
      })
    );
    if (k > 0 && !stacked) inputs.forEach(dead);
    if (stacked) features[k] = level[0];
    else if (net.plan.cmc.includes(k)) {
      const maps = level;
      features[k] = stage(() => conv(pass, concatChannels(maps), `cmc.${k}`));
    }
  }
  if (!stacked) level.forEach(dead);
  return features;
}

/** A conv without batch norm (`<name>.weight`, `<name>.bias`), prepacked when folded. */
function conv(pass: Pass, x: Tensor, name: string, biasName = `${name}.bias`): Tensor {
  const { net, mode } = pass;
  const weight = net.tensor(`${name}.weight`);
  const bias = biasName ? net.tensor(biasName) : null;
  if (mode !== "folded") return conv2d(x, weight, { bias });
  let prepacked = net.packed.get(name);
  if (!prepacked) {
    prepacked = prepackConv2d(weight, { bias });
    net.packed.set(name, prepacked);
  }
  return conv2d(x, weight, { bias, prepacked });
}

function convLstm(
  pass: Pass,
  x: Tensor,
  options: { steps: number; initial: StreamState | null },
): { h: Tensor; state: StreamState } {
  const { steps, initial } = options;
  // The input half of the gates does not depend on h: one conv over all slices.
  const gx = conv(pass, x, "lstm.x", "lstm.bias");
  const [n, ch, hh, ww] = x.shape;
  let h = initial?.h ?? null;
  let c = initial?.c ?? Tensor.zeros([n / steps, ch, hh, ww], { label: "lstm.c0" });
  const hs: Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    let gates = steps === 1 ? gx : stepOf(gx, { steps, t });
    if (h) gates = add(gates, conv(pass, h, "lstm.h", ""));
    ({ h, c } = convLstmCell(gates, c));
    hs.push(h);
  }
  return { h: steps === 1 ? hs[0] : joinSteps(hs), state: { h: h!, c } };
}

/**
 * conv → batch norm → ReLU (→ 2×2 max-pool with `pool`: fused into the conv when folded, into
 * batch norm otherwise).
 */
function convBnRelu(
  pass: Pass,
  x: Tensor,
  plan: ConvBnPlan,
  options: { pool?: boolean } = {},
): Tensor {
  const { net, mode } = pass;
  if (mode !== "folded") {
    // The pool is fused into batch norm's normalising pass (the full-size map is never written).
    const y = conv2d(x, net.tensor(`${plan.prefix}.conv.weight`), { bias: null });
    const training = mode === "train";
    const out = batchNorm(y, bnOf(net, plan.prefix), { training, relu: true, pool: options.pool });
    dead(y);
    return out;
  }
  const f = foldedOf(net, plan.prefix);
  // The pool fused into the conv is for inference only (no tape).
  const pool = (options.pool ?? false) && !isRecording();
  const out = conv2d(x, f.weight, { bias: f.bias, prepacked: f.packed, relu: true, pool });
  if (pool || !options.pool) return out;
  const pooled = maxPool2x2(out);
  dead(out);
  return pooled;
}

function bnOf(net: GraphWeights, prefix: string): BatchNormParams {
  return {
    gamma: net.tensor(`${prefix}.bn.gamma`),
    beta: net.tensor(`${prefix}.bn.beta`),
    runningMean: net.tensor(`${prefix}.bn.running_mean`),
    runningVar: net.tensor(`${prefix}.bn.running_var`),
  };
}

function foldedOf(net: GraphWeights, prefix: string): Folded {
  let f = net.folded.get(prefix);
  if (!f) {
    const scope = TensorScope.begin();
    const folded = foldBatchNorm(
      net.tensor(`${prefix}.conv.weight`),
      null,
      bnOf(net, prefix),
      {},
    );
    scope.end(folded);
    const weight = folded.weight.keep();
    const bias = folded.bias.keep();
    f = { weight, bias, packed: prepackConv2d(weight, { bias }) };
    net.folded.set(prefix, f);
  }
  return f;
}

/** Outside a tape, runs one stage in its own scope: everything but its result dies with it. */
function stage<T>(fn: () => T): T {
  return isRecording() ? fn() : scoped(fn);
}

/** Outside a tape, releases a tensor nothing reads any more (the tape keeps its inputs). */
function dead(t: Tensor | undefined): void {
  if (t && !isRecording()) t.release();
}
