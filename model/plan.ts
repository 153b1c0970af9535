// This module is browser compatible.
/**
 * The network's layer plan, derived from a {@linkcode ModelConfig} alone (no
 * GPU): every parameter's name, shape and initialisation, and the wiring the
 * GPU network and the CPU reference both follow. Channel plan for widths
 * `[C1, C2, C3, C4]` and input `H × W`:
 *
 * - encoder stage k (k = 0..3): conv3×3 → BN → ReLU → max-pool; `C_k` channels at `H/2^(k+1)`.
 * - CMC k: 1×1 conv `M·C_k → C_k` over the M modalities' stage-k maps → `F[k]`
 *   (stacked encoder: `F[k]` is the encoder's map itself).
 * - convLSTM on `F[3]` (`C4` channels at `H/16`).
 * - decoder stage j (j = 0..3): transposed conv 2×2/2 to `[C3, C2, C1, C1][j]`
 *   channels, fused with `F[2 - j]` (stages 0-2; there is no full-resolution
 *   encoder map), conv3×3 → BN → ReLU.
 * - head: 1×1 conv `C1 → classes`.
 *
 * Convolutions followed by batch norm have no bias (BN's β takes its place;
 * folding BN for inference gives them one).
 *
 * @module
 */

import { modalityNames, type ModelConfig } from "./config.ts";
import { Random } from "../data/random.ts";
import { heNormal, orthogonal } from "./init.ts";

/** How a parameter starts. */
export type InitKind = "he" | "orthogonal" | "zeros" | "ones" | "lstm-bias";

/** One named tensor of the network. */
export interface ParamSpec {
  /** Stable readable name, e.g. `enc.flair.0.conv.weight`. */
  readonly name: string;
  /** Shape (conv weights [Cout, Cin, K, K]; transposed conv [Cin, Cout, 2, 2]). */
  readonly shape: readonly number[];
  /** Initialisation. */
  readonly init: InitKind;
  /** Fan-in for He-normal. */
  readonly fanIn: number;
  /** False for batch-norm running statistics (not trained by the optimiser). */
  readonly trainable: boolean;
}

/** A conv3×3 → batch norm → ReLU unit, by parameter name prefix. */
export interface ConvBnPlan {
  /** Prefix: `<prefix>.conv.weight`, `<prefix>.bn.gamma|beta|running_mean|running_var`. */
  readonly prefix: string;
  /** Input channels. */
  readonly cin: number;
  /** Output channels. */
  readonly cout: number;
}

/** Wiring of one decoder stage. */
export interface DecoderStagePlan {
  /** `dec.<j>`. */
  readonly prefix: string;
  /** Channels into the transposed conv. */
  readonly cin: number;
  /** Channels out of the transposed conv and of the stage. */
  readonly cout: number;
  /** Index k of the encoder map `F[k]` fused here, or null. */
  readonly skip: number | null;
  /** The stage's conv3×3 → BN → ReLU. */
  readonly conv: ConvBnPlan;
}

/** The whole wiring. */
export interface NetworkPlan {
  /** Encoder names (`flair`, `t1`, `t1c`, `t2`, or `stacked`) and their four stages. */
  readonly encoders: readonly { name: string; stages: readonly ConvBnPlan[] }[];
  /** Stages k that have a cross-modality convolution `cmc.<k>` (empty for stacked). */
  readonly cmc: readonly number[];
  /** Decoder stages, deepest first. */
  readonly decoder: readonly DecoderStagePlan[];
  /** Every tensor, trainable and not, in registration order. */
  readonly params: readonly ParamSpec[];
}

function convBnParams(plan: ConvBnPlan): ParamSpec[] {
  const { prefix, cin, cout } = plan;
  return [
    {
      name: `${prefix}.conv.weight`,
      shape: [cout, cin, 3, 3],
      init: "he",
      fanIn: cin * 9,
      trainable: true,
    },
    { name: `${prefix}.bn.gamma`, shape: [cout], init: "ones", fanIn: 0, trainable: true },
    { name: `${prefix}.bn.beta`, shape: [cout], init: "zeros", fanIn: 0, trainable: true },
    { name: `${prefix}.bn.running_mean`, shape: [cout], init: "zeros", fanIn: 0, trainable: false },
    { name: `${prefix}.bn.running_var`, shape: [cout], init: "ones", fanIn: 0, trainable: false },
  ];
}

/**
 * The layer plan of a config.
 *
 * @example
 * ```ts
 * import { modelConfig } from "./config.ts";
 * import { networkPlan } from "./plan.ts";
 * const plan = networkPlan(modelConfig("unet"));
 * console.log(plan.params.length, plan.params[0].name); // 50 enc.stacked.0.conv.weight
 * console.log(plan.params[0].shape); // [32, 4, 3, 3]
 * ```
 */
export function networkPlan(config: ModelConfig): NetworkPlan {
  const w = config.widths;
  const multimodal = config.encoder === "multimodal";
  const names = multimodal ? modalityNames(config) : ["stacked"];
  const firstIn = multimodal ? 1 : config.modalities;
  const encoders = names.map((name) => ({
    name,
    stages: w.map((cout, k) => ({
      prefix: `enc.${name}.${k}`,
      cin: k === 0 ? firstIn : w[k - 1],
      cout,
    })),
  }));
  // Without fusion only the deepest map is used, so only its CMC exists.
  const cmc = multimodal ? (config.fusion === "none" ? [3] : [0, 1, 2, 3]) : [];
  const outs = [w[2], w[1], w[0], w[0]];
  const ins = [w[3], w[2], w[1], w[0]];
  const decoder = outs.map((cout, j) => {
    const skip = config.fusion !== "none" && j < 3 ? 2 - j : null;
    const cin = config.fusion === "concat" && skip !== null ? 2 * cout : cout;
    return { prefix: `dec.${j}`, cin: ins[j], cout, skip, conv: { prefix: `dec.${j}`, cin, cout } };
  });

  const params: ParamSpec[] = [];
  for (const e of encoders) for (const s of e.stages) params.push(...convBnParams(s));
  const m = config.modalities;
  for (const k of cmc) {
    params.push(
      {
        name: `cmc.${k}.weight`,
        shape: [w[k], m * w[k], 1, 1],
        init: "he",
        fanIn: m * w[k],
        trainable: true,
      },
      { name: `cmc.${k}.bias`, shape: [w[k]], init: "zeros", fanIn: 0, trainable: true },
    );
  }
  if (config.sequence === "convlstm") {
    const c = w[3];
    params.push(
      { name: "lstm.x.weight", shape: [4 * c, c, 3, 3], init: "he", fanIn: c * 9, trainable: true },
      {
        name: "lstm.h.weight",
        shape: [4 * c, c, 3, 3],
        init: "orthogonal",
        fanIn: c * 9,
        trainable: true,
      },
      { name: "lstm.bias", shape: [4 * c], init: "lstm-bias", fanIn: 0, trainable: true },
    );
  }
  for (const d of decoder) {
    params.push(
      {
        name: `${d.prefix}.up.weight`,
        shape: [d.cin, d.cout, 2, 2],
        init: "he",
        fanIn: d.cin,
        trainable: true,
      },
      { name: `${d.prefix}.up.bias`, shape: [d.cout], init: "zeros", fanIn: 0, trainable: true },
      ...convBnParams(d.conv),
    );
  }
  params.push(
    {
      name: "head.weight",
      shape: [config.classes, w[0], 1, 1],
      init: "he",
      fanIn: w[0],
      trainable: true,
    },
    { name: "head.bias", shape: [config.classes], init: "zeros", fanIn: 0, trainable: true },
  );
  return { encoders, cmc, decoder, params };
}

/**
 * Initial values of one parameter: reproducible from (seed, name).
 * The convLSTM bias is 1 for the forget gate (gate order i, f, o, g) and 0 elsewhere.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import { initialValues, networkPlan } from "./plan.ts";
 * const [first] = networkPlan(DEFAULT_CONFIG).params;
 * const values = initialValues(first, { seed: 1 });
 * console.log(first.name, first.init, values.length); // enc.flair.0.conv.weight he 288
 * console.log(values.join() === initialValues(first, { seed: 1 }).join()); // true
 * ```
 */
export function initialValues(spec: ParamSpec, options: { seed: number }): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const random = Random.forName(options.seed, spec.name);
  switch (spec.init) {
    case "he":
      return heNormal(random, { size, fanIn: spec.fanIn });
    case "orthogonal":
      return orthogonal(random, { rows: spec.shape[0], cols: size / spec.shape[0] });
    case "zeros":
      return new Float32Array(size);
    case "ones":
      return new Float32Array(size).fill(1);
    case "lstm-bias": {
      const c = size / 4;
      return new Float32Array(size).fill(1, c, 2 * c);
    }
  }
}

/**
 * Number of trainable parameters of a config.
 *
 * @example
 * ```ts
 * import { modelConfig } from "./config.ts";
 * import { parameterCount } from "./plan.ts";
 * console.log(parameterCount(modelConfig("unet"))); // 314628
 * ```
 */
export function parameterCount(config: ModelConfig): number {
  return networkPlan(config).params.filter((p) => p.trainable)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
