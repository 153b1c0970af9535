// This module is browser compatible.
/**
 * The fused convLSTM cell update (paper §3.4): from gate pre-activations
 * `gates = x∗Wx + h∗Wh + b` laid out [N, 4C, H, W] in the order i, f, o, g and
 * the previous cell state c [N, C, H, W],
 * `i, f, o = σ(·)`, `g = tanh(·)`, `c' = f∘c + i∘g`, `h = o∘tanh(c')`.
 * The gate convolutions themselves are conv2d's job. Forward and backward
 * kernels, with plain-TypeScript references.
 *
 * @module
 */

import { recordOp } from "../autograd.ts";
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import { Tensor } from "../tensor.ts";

/** Dimensions of the cell state [N, C, H, W] for the references. */
export interface ConvLstmDims {
  /** Batch size. */
  n: number;
  /** Channels. */
  c: number;
  /** Height. */
  h: number;
  /** Width. */
  w: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Activations of element `i` of the state: gate indices and values. */
function activations(gates: ArrayLike<number>, i: number, chw: number) {
  const b = Math.floor(i / chw) * 4 * chw + (i % chw);
  const idx = [b, b + chw, b + 2 * chw, b + 3 * chw];
  return {
    idx,
    i: sigmoid(gates[idx[0]]),
    f: sigmoid(gates[idx[1]]),
    o: sigmoid(gates[idx[2]]),
    g: Math.tanh(gates[idx[3]]),
  };
}

/**
 * Reference forward in float64: the next hidden and cell states.
 *
 * @example
 * ```ts
 * import { convLstmCellReference } from "./conv_lstm_cell.ts";
 * // Zero pre-activations: i = f = o = 0.5 and g = 0, so c' = c / 2 and h = tanh(c') / 2.
 * const { h, c } = convLstmCellReference([0, 0, 0, 0], [2], { n: 1, c: 1, h: 1, w: 1 });
 * console.log(h[0].toFixed(4), c[0]); // 0.3808 1
 * ```
 */
export function convLstmCellReference(
  gates: ArrayLike<number>,
  c: ArrayLike<number>,
  dims: ConvLstmDims,
): { h: Float64Array; c: Float64Array } {
  const chw = dims.c * dims.h * dims.w;
  const size = dims.n * chw;
  const h = new Float64Array(size);
  const cNext = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const a = activations(gates, k, chw);
    cNext[k] = a.f * c[k] + a.i * a.g;
    h[k] = a.o * Math.tanh(cNext[k]);
  }
  return { h, c: cNext };
}

/**
 * Reference backward in float64: gradients of the gate pre-activations and of
 * the previous cell state, given the gradients of both outputs.
 *
 * @example
 * ```ts
 * import { convLstmCellBackwardReference } from "./conv_lstm_cell.ts";
 * const { dgates, dc } = convLstmCellBackwardReference(
 *   { gates: [0, 0, 0, 0], c: [2] },
 *   { h: [0], c: [1] },
 *   { n: 1, c: 1, h: 1, w: 1 },
 * );
 * console.log(dgates, dc); // Float64Array(4) [0, 0.5, 0, 0.5] Float64Array(1) [0.5]
 * ```
 */
export function convLstmCellBackwardReference(
  inputs: { gates: ArrayLike<number>; c: ArrayLike<number> },
  grads: { h: ArrayLike<number>; c: ArrayLike<number> },
  dims: ConvLstmDims,
): { dgates: Float64Array; dc: Float64Array } {
  const chw = dims.c * dims.h * dims.w;
  const size = dims.n * chw;
  const dgates = new Float64Array(4 * size);
  const dc = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const a = activations(inputs.gates, k, chw);
    const tc = Math.tanh(a.f * inputs.c[k] + a.i * a.g);
    const dcn = grads.c[k] + grads.h[k] * a.o * (1 - tc * tc);
    dgates[a.idx[0]] = dcn * a.g * a.i * (1 - a.i);
    dgates[a.idx[1]] = dcn * inputs.c[k] * a.f * (1 - a.f);
    dgates[a.idx[2]] = grads.h[k] * tc * a.o * (1 - a.o);
    dgates[a.idx[3]] = dcn * a.i * (1 - a.g * a.g);
    dc[k] = dcn * a.f;
  }
  return { dgates, dc };
}

// Shared WGSL: the inputs both passes read, index arithmetic and overflow-safe activations.
const HELPERS = /* wgsl */ `
struct P { n: u32, chw: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// tanh via exp of a non-positive argument, so large |x| cannot overflow to inf/inf.
fn tanh_safe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn gate_base(i: u32) -> u32 { return (i / p.chw) * 4u * p.chw + i % p.chw; }
// The activated gates (i, f, o, g) of the gate block starting at b.
fn activations(b: u32) -> vec4f {
  return vec4f(sigmoid(gates[b]), sigmoid(gates[b + p.chw]), sigmoid(gates[b + 2u * p.chw]),
               tanh_safe(gates[b + 3u * p.chw]));
}
`;

const FORWARD: Kernel = {
  name: "conv_lstm_cell.forward",
  code: /* wgsl */ `${HELPERS}
@group(0) @binding(3) var<storage, read_write> h_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> c_out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  let b = gate_base(i);
  let a = activations(b);
  let ig = a.x;
  let fg = a.y;
  let og = a.z;
  let gg = a.w;
  let cn = fg * c[i] + ig * gg;
  c_out[i] = cn;
  h_out[i] = og * tanh_safe(cn);
}`,
};

// Recomputes the activations instead of saving them: the cell is memory bound, so this costs nothing.
const BACKWARD: Kernel = {
  name: "conv_lstm_cell.backward",
  code: /* wgsl */ `${HELPERS}
@group(0) @binding(3) var<storage, read> gh: array<f32>;
@group(0) @binding(4) var<storage, read> gc: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgates: array<f32>;
@group(0) @binding(6) var<storage, read_write> dc: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  let b = gate_base(i);
  let a = activations(b);
  let ig = a.x;
  let fg = a.y;
  let og = a.z;
  let gg = a.w;
  let cp = c[i];
  let tc = tanh_safe(fg * cp + ig * gg);
  let dh = gh[i];
  let dcn = gc[i] + dh * og * (1.0 - tc * tc);
  dgates[b] = dcn * gg * ig * (1.0 - ig);
  dgates[b + p.chw] = dcn * cp * fg * (1.0 - fg);
  dgates[b + 2u * p.chw] = dh * tc * og * (1.0 - og);
  dgates[b + 3u * p.chw] = dcn * ig * (1.0 - gg * gg);
  dc[i] = dcn * fg;
}`,
};

/** The two outputs of {@linkcode convLstmCell}. */
export interface ConvLstmState {
  /** Hidden state h [N, C, H, W]. */
  h: Tensor;
  /** Cell state c [N, C, H, W]. */
  c: Tensor;
}

function checkShapes(gates: readonly number[], c: readonly number[]): void {
  const ok = gates.length === 4 && c.length === 4 && gates[0] === c[0] &&
    gates[1] === 4 * c[1] && gates[2] === c[2] && gates[3] === c[3];
  if (!ok) {
    throw new RangeError(
      `convLstmCell: gates [${gates}] must be [N, 4C, H, W] for cell state [${c}] = [N, C, H, W]`,
    );
  }
}

/**
 * One convLSTM step from gate pre-activations (order i, f, o, g along
 * channels) and the previous cell state. Both outputs are differentiable.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { convLstmCell } from "./conv_lstm_cell.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * // conv(x, Wx) + conv(h, Wh) + b: gates i, f, o, g of 2 channels.
 * const gates = Tensor.zeros([1, 8, 2, 2]);
 * const state = convLstmCell(gates, Tensor.from(new Float32Array(8).fill(2), [1, 2, 2, 2]));
 * console.log(state.h.shape, (await state.c.read())[0]); // [1, 2, 2, 2] 1
 * scope.end();
 * ```
 */
export function convLstmCell(gates: Tensor, c: Tensor): ConvLstmState {
  checkShapes(gates.shape, c.shape);
  const [, channels, height, width] = c.shape;
  const params = [c.size, channels * height * width];
  const h = Tensor.empty(c.shape, { label: "conv_lstm_cell.h" });
  const cNext = Tensor.empty(c.shape, { label: "conv_lstm_cell.c" });
  dispatch(FORWARD, [gates, c, h, cNext], { params, workgroups: gridFor(c.size) });
  recordOp("conv_lstm_cell", [gates, c], [h, cNext], ([gh, gc]) => {
    const dgates = Tensor.empty(gates.shape, { label: "conv_lstm_cell.dgates" });
    const dc = Tensor.empty(c.shape, { label: "conv_lstm_cell.dc" });
    dispatch(BACKWARD, [gates, c, gh, gc, dgates, dc], { params, workgroups: gridFor(c.size) });
    return [dgates, dc];
  });
  return { h, c: cNext };
}
