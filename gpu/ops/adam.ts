// This module is browser compatible.
/**
 * Adam (with optional decoupled weight decay, as in AdamW) over every
 * parameter of a {@linkcode ParameterStore} in ONE dispatch on its flat
 * buffers, with the plain-TypeScript reference.
 *
 * @module
 */

import { dispatch, f32Bits, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import type { ParameterStore } from "../parameters.ts";

/** Hyper-parameters of {@linkcode adamStep}. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** First-moment decay (default 0.9). */
  beta1?: number;
  /** Second-moment decay (default 0.999). */
  beta2?: number;
  /** Denominator guard (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay: each step also subtracts lr·weightDecay·w (default 0). */
  weightDecay?: number;
}

function resolve(options: AdamOptions): Required<AdamOptions> {
  const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...options };
  const bad = !(o.lr >= 0 && Number.isFinite(o.lr))
    ? `lr ${o.lr}`
    : !(o.beta1 >= 0 && o.beta1 < 1)
    ? `beta1 ${o.beta1}`
    : !(o.beta2 >= 0 && o.beta2 < 1)
    ? `beta2 ${o.beta2}`
    : !(o.eps > 0)
    ? `eps ${o.eps}`
    : !(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))
    ? `weightDecay ${o.weightDecay}`
    : "";
  if (bad) throw new RangeError(`adamStep: invalid ${bad}`);
  return o;
}

/** Parameters, gradients and moments for {@linkcode adamReference}. */
export interface AdamReferenceState {
  /** Parameter values. */
  param: ArrayLike<number>;
  /** Gradients. */
  grad: ArrayLike<number>;
  /** First moments. */
  m: ArrayLike<number>;
  /** Second moments. */
  v: ArrayLike<number>;
}

/**
 * Reference Adam step `step` (1-based) in float64, in the textbook form with
 * bias-corrected moments; returns the new parameters and moments.
 *
 * @example
 * ```ts
 * import { adamReference } from "./adam.ts";
 * const next = adamReference({ param: [1], grad: [0.5], m: [0], v: [0] }, { lr: 0.1, step: 1 });
 * console.log(next.param[0].toFixed(4), next.m[0].toFixed(2)); // 0.9000 0.05
 * ```
 */
export function adamReference(
  state: AdamReferenceState,
  options: AdamOptions & { step: number },
): { param: Float64Array; m: Float64Array; v: Float64Array } {
  const o = resolve(options);
  const n = state.param.length;
  const param = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = state.grad[i];
    m[i] = o.beta1 * state.m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * state.v[i] + (1 - o.beta2) * g * g;
    const mHat = m[i] / (1 - o.beta1 ** options.step);
    const vHat = v[i] / (1 - o.beta2 ** options.step);
    const w = state.param[i];
    param[i] = w - o.lr * o.weightDecay * w - o.lr * mHat / (Math.sqrt(vHat) + o.eps);
  }
  return { param, m, v };
}

// Bias correction is folded into the step size and epsilon on the CPU:
// lr·m̂/(√v̂+ε) = a·m/(√v+ε̂) with a = lr·√(1−β2ᵗ)/(1−β1ᵗ), ε̂ = ε·√(1−β2ᵗ).
const STEP: Kernel = {
  name: "adam.step",
  code: /* wgsl */ `
struct P { n4: u32, step_size: u32, beta1: u32, beta2: u32, eps_hat: u32, decay: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(2) var<storage, read> grad: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n4) { return; }
  let b1 = bitcast<f32>(p.beta1);
  let b2 = bitcast<f32>(p.beta2);
  let g = grad[i];
  let mi = b1 * m[i] + (1.0 - b1) * g;
  let vi = b2 * v[i] + (1.0 - b2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let w = param[i];
  param[i] = w - bitcast<f32>(p.decay) * w -
    bitcast<f32>(p.step_size) * mi / (sqrt(vi) + bitcast<f32>(p.eps_hat));
}`,
};

/**
 * One Adam step over all parameters of `store`, using the gradients in its
 * flat gradient buffer (it does not clear them: call `store.zeroGrad()`).
 * Increments `store.step`, which drives the bias correction. Encoded, not
 * submitted: nothing is read back.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { ParameterStore } from "../parameters.ts";
 * import { adamStep } from "./adam.ts";
 * await getDevice();
 * const store = new ParameterStore({ capacity: 1024 });
 * const w = store.add("w", [3], [1, 2, 3]);
 * w.grad!.write([1, -1, 0]); // what forward and backward would leave
 * adamStep(store, { lr: 0.1 });
 * const values = Array.from(await w.read(), (v) => v.toFixed(2));
 * console.log(store.step, values); // 1 ["0.90", "2.10", "3.00"]
 * store.destroy();
 * ```
 */
export function adamStep(store: ParameterStore, options: AdamOptions): void {
  const o = resolve(options);
  store.step += 1;
  const c1 = 1 - o.beta1 ** store.step;
  const c2 = Math.sqrt(1 - o.beta2 ** store.step);
  const n4 = store.length / 4;
  if (n4 === 0) return;
  const params = [
    n4,
    f32Bits(o.lr * c2 / c1),
    f32Bits(o.beta1),
    f32Bits(o.beta2),
    f32Bits(o.eps * c2),
    f32Bits(o.lr * o.weightDecay),
  ];
  const b = store.bindings;
  dispatch(STEP, [b.param, b.grad, b.m, b.v], { params, workgroups: gridFor(n4) });
}
