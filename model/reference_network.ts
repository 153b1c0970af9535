// This module is browser compatible.
/**
 * The whole network in plain TypeScript, float64, built from the ops' CPU
 * references: the executable statement of the maths that the GPU network in
 * `network.ts` must match (used by tests; slow).
 *
 * @module
 */

import { addReference } from "../gpu/ops/add.ts";
import { argmaxChannelsReference } from "../gpu/ops/argmax.ts";
import { batchNormReference } from "../gpu/ops/batch_norm.ts";
import { concatChannelsReference } from "../gpu/ops/concat.ts";
import { conv2dReference } from "../gpu/ops/conv2d.ts";
import { convLstmCellReference } from "../gpu/ops/conv_lstm_cell.ts";
import { convTranspose2dReference } from "../gpu/ops/conv_transpose2d.ts";
import { maxPool2x2Reference } from "../gpu/ops/max_pool.ts";
import { mulReference } from "../gpu/ops/mul.ts";
import { reluReference } from "../gpu/ops/relu.ts";
import { joinStepsReference, narrowChannelsReference, stepOfReference } from "./_split_join.ts";
import type { ModelConfig } from "./config.ts";
import { type ConvBnPlan, type NetworkPlan, networkPlan } from "./plan.ts";

/** A row-major float64 array with its shape. */
export interface RefTensor {
  /** Values. */
  data: Float64Array;
  /** Shape [N, C, H, W]. */
  shape: number[];
}

/** Options of {@linkcode referenceForward}. */
export interface ReferenceOptions {
  /** The network's config. */
  config: ModelConfig;
  /** Shape of the input, [B·T, M, H, W]. */
  shape: readonly number[];
  /** Slices per sequence T (default 1). */
  steps?: number;
  /** `train`: batch statistics; `eval`: running statistics (default `train`). */
  mode?: "train" | "eval";
  /** convLSTM state at t = 0 (one sequence only); zeros when absent. */
  state?: { h: ArrayLike<number>; c: ArrayLike<number> } | null;
}

/** What {@linkcode referenceForward} returns. */
export interface ReferenceResult {
  /** Class scores [B·T, K, H, W]. */
  logits: RefTensor;
  /** Class ids [B·T, 1, H, W] (argmax of the scores). */
  labels: Float64Array;
  /** convLSTM state after the last slice (null without a convLSTM). */
  state: { h: Float64Array<ArrayBufferLike>; c: Float64Array<ArrayBufferLike> } | null;
  /** Updated batch-norm running statistics by name (train mode). */
  stats: Map<string, Float64Array>;
}

/** Parameters and running statistics by name (as `SegmentationNetwork.tensors()` names them). */
export type ReferenceParams = ReadonlyMap<string, ArrayLike<number>>;

function get(params: ReferenceParams, name: string): ArrayLike<number> {
  const p = params.get(name);
  if (!p) throw new RangeError(`reference network: no parameter "${name}"`);
  return p;
}

function conv(
  x: RefTensor,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  cout: number,
  k: number,
): RefTensor {
  const [n, cin, h, wd] = x.shape;
  return {
    data: conv2dReference(x.data, w, b, { n, cin, h, w: wd, cout, k }),
    shape: [n, cout, h, wd],
  };
}

/**
 * Runs the network on `x` (shape `options.shape`) with parameters (and
 * running statistics) by name, as `network.ts` does on the GPU.
 *
 * @example
 * ```ts
 * import { modelConfig } from "./config.ts";
 * import { initialValues, networkPlan } from "./plan.ts";
 * import { referenceForward } from "./reference_network.ts";
 * const config = modelConfig(undefined, { widths: [2, 2, 2, 2] });
 * const params = new Map(
 *   networkPlan(config).params.map((p) => [p.name, initialValues(p, { seed: 1 })]),
 * );
 * const input = new Float64Array(2 * 4 * 16 * 16).fill(0.5); // 2 slices of 4 modalities
 * const { logits, labels } = referenceForward(params, input, {
 *   config,
 *   shape: [2, 4, 16, 16],
 *   steps: 2,
 * });
 * console.log(logits.shape, labels.length); // [2, 4, 16, 16] 512
 * ```
 */
export function referenceForward(
  params: ReferenceParams,
  x: ArrayLike<number>,
  options: ReferenceOptions,
): ReferenceResult {
  const { config } = options;
  const plan = networkPlan(config);
  const run: Run = {
    params,
    training: (options.mode ?? "train") === "train",
    stats: new Map<string, Float64Array>(),
  };
  const input: RefTensor = { data: Float64Array.from(x), shape: [...options.shape] };
  const features = encode(run, plan, config, input);
  let y = features[3];
  let state: ReferenceResult["state"] = null;
  if (config.sequence === "convlstm") ({ y, state } = convLstm(run, y, options));
  y = decode(run, plan, config, y, features);
  const logits = conv(y, get(params, "head.weight"), get(params, "head.bias"), config.classes, 1);
  const labels = argmaxChannelsReference(logits.data, { dims: logits.shape });
  return { logits, labels, state, stats: run.stats };
}

/** What every layer of one reference run reads and records. */
interface Run {
  params: ReferenceParams;
  training: boolean;
  stats: Map<string, Float64Array>;
}

function convBnRelu(run: Run, t: RefTensor, p: ConvBnPlan): RefTensor {
  const y = conv(t, get(run.params, `${p.prefix}.conv.weight`), null, p.cout, 3);
  const bn = {
    gamma: get(run.params, `${p.prefix}.bn.gamma`),
    beta: get(run.params, `${p.prefix}.bn.beta`),
    runningMean: get(run.params, `${p.prefix}.bn.running_mean`),
    runningVar: get(run.params, `${p.prefix}.bn.running_var`),
  };
  const r = batchNormReference(y.data, bn, { shape: y.shape, training: run.training });
  run.stats.set(`${p.prefix}.bn.running_mean`, r.runningMean);
  run.stats.set(`${p.prefix}.bn.running_var`, r.runningVar);
  return { data: reluReference(r.y), shape: y.shape };
}

function pool(t: RefTensor): RefTensor {
  const [n, c, h, w] = t.shape;
  return { data: maxPool2x2Reference(t.data, { shape: t.shape }), shape: [n, c, h >> 1, w >> 1] };
}

/** The encoders, then the cross-modality convolutions: the feature map of every stage. */
function encode(run: Run, plan: NetworkPlan, config: ModelConfig, input: RefTensor): RefTensor[] {
  const perEncoder = plan.encoders.map((encoder, m) => {
    let h: RefTensor = plan.encoders.length > 1
      ? {
        data: narrowChannelsReference(input.data, { shape: input.shape, start: m, count: 1 }),
        shape: [input.shape[0], 1, input.shape[2], input.shape[3]],
      }
      : input;
    return encoder.stages.map((stage) => (h = pool(convBnRelu(run, h, stage))));
  });
  if (config.encoder !== "multimodal") return perEncoder[0];
  const features: RefTensor[] = [];
  for (const k of plan.cmc) {
    const maps = perEncoder.map((e) => e[k]);
    const shapes = maps.map((t) => t.shape);
    const stacked: RefTensor = {
      data: concatChannelsReference(maps.map((t) => t.data), shapes),
      shape: [shapes[0][0], shapes.reduce((s, t) => s + t[1], 0), shapes[0][2], shapes[0][3]],
    };
    const [weight, bias] = [get(run.params, `cmc.${k}.weight`), get(run.params, `cmc.${k}.bias`)];
    features[k] = conv(stacked, weight, bias, config.widths[k], 1);
  }
  return features;
}

/** The convLSTM over each sequence's slices of the deepest map. */
function convLstm(
  run: Run,
  y: RefTensor,
  options: ReferenceOptions,
): { y: RefTensor; state: ReferenceResult["state"] } {
  const steps = options.steps ?? 1;
  const [n, ch, hh, ww] = y.shape;
  const b = n / steps;
  const gx = conv(y, get(run.params, "lstm.x.weight"), get(run.params, "lstm.bias"), 4 * ch, 3);
  let h: Float64Array<ArrayBufferLike> | null = options.state
    ? Float64Array.from(options.state.h)
    : null;
  let c: Float64Array<ArrayBufferLike> = options.state
    ? Float64Array.from(options.state.c)
    : new Float64Array(b * ch * hh * ww);
  const hs: Float64Array<ArrayBufferLike>[] = [];
  for (let t = 0; t < steps; t++) {
    let gates = stepOfReference(gx.data, { shape: gx.shape, steps, t });
    if (h) {
      const previous = { data: h, shape: [b, ch, hh, ww] };
      const gh = conv(previous, get(run.params, "lstm.h.weight"), null, 4 * ch, 3);
      gates = addReference(gates, gh.data);
    }
    ({ h, c } = convLstmCellReference(gates, c, { n: b, c: ch, h: hh, w: ww }));
    hs.push(h);
  }
  return {
    y: { data: joinStepsReference(hs, { inner: ch * hh * ww }), shape: [n, ch, hh, ww] },
    state: { h: h!, c },
  };
}

/** The decoder with multi-resolution fusion (or concatenation) of the encoder's features. */
function decode(
  run: Run,
  plan: NetworkPlan,
  config: ModelConfig,
  y: RefTensor,
  features: RefTensor[],
): RefTensor {
  for (const stage of plan.decoder) {
    const [n, cin, h, w] = y.shape;
    let fused: RefTensor = {
      data: convTranspose2dReference(
        y.data,
        get(run.params, `${stage.prefix}.up.weight`),
        get(run.params, `${stage.prefix}.up.bias`),
        { n, cin, h, w, cout: stage.cout },
      ),
      shape: [n, stage.cout, 2 * h, 2 * w],
    };
    if (stage.skip !== null) {
      const skip = features[stage.skip];
      fused = config.fusion === "multiply"
        ? { data: mulReference(fused.data, skip.data), shape: fused.shape }
        : {
          data: concatChannelsReference([fused.data, skip.data], [fused.shape, skip.shape]),
          shape: [n, fused.shape[1] + skip.shape[1], 2 * h, 2 * w],
        };
    }
    y = convBnRelu(run, fused, stage.conv);
  }
  return y;
}
