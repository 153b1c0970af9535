// Shared op checker: GPU against the CPU reference, and reference backward against finite differences.
// No node:assert here: the browser op checks bundle this file for Chromium.
import { Random } from "../data/random.ts";
import { Tape } from "../gpu/autograd.ts";
import { Tensor } from "../gpu/tensor.ts";

/** Deterministic uniform numbers in [lo, hi): the shared generator started from the raw `seed`. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  return new Random(seed).uniforms(n, lo, hi);
}

/** Throws `message` unless `condition` holds. */
function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere, naming the worst element. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-4, rtol = 1e-4, what = "value" } = {},
): void {
  ensure(
    actual.length === expected.length,
    `${what}: length ${actual.length} ≠ ${expected.length}`,
  );
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  ensure(
    worst < 0,
    `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
      `(atol ${atol}, rtol ${rtol})`,
  );
}

/** What {@linkcode checkOp} compares. */
export interface OpCheck {
  /** Input shapes; inputs are random in [-1, 1) unless `inputs` is given. */
  shapes: number[][];
  /** Optional fixed inputs (overrides the random ones). */
  inputs?: Float64Array[];
  /** CPU reference of the forward pass. */
  reference: (inputs: Float64Array[]) => Float64Array;
  /** GPU forward pass. */
  gpu: (inputs: Tensor[]) => Tensor;
  /** CPU reference of the backward pass: input gradients given the output gradient. */
  referenceBackward?: (inputs: Float64Array[], grad: Float64Array) => (Float64Array | null)[];
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Runs the GPU forward against the reference and, when a reference backward is
 * given, the GPU backward (through the tape) against it with a random output gradient.
 */
export async function checkOp(check: OpCheck): Promise<void> {
  const seed = check.seed ?? 1;
  const inputs = check.inputs ?? check.shapes.map((s, k) => randomArray(sizeOf(s), seed + k));
  const tensors = inputs.map((a, k) => Tensor.from(a, check.shapes[k], { requiresGrad: true }));
  const tape = new Tape();
  const y = tape.run(() => check.gpu(tensors));
  const expected = check.reference(inputs);
  const tol = { atol: check.atol ?? 1e-4, rtol: check.rtol ?? 1e-4 };
  assertClose(await y.read(), expected, { ...tol, what: "forward" });
  if (!check.referenceBackward) return;
  const grad = randomArray(y.size, seed + 100);
  tape.backward(y, Tensor.from(grad, y.shape));
  const want = check.referenceBackward(inputs, grad);
  for (let k = 0; k < tensors.length; k++) {
    if (!want[k]) continue;
    const g = tensors[k].grad;
    ensure(g, `backward: input ${k} got no gradient`);
    assertClose(await g.read(), want[k]!, { ...tol, what: `gradient of input ${k}` });
  }
}

/** What {@linkcode checkGradient} compares. */
export interface GradientCheck {
  shapes: number[][];
  inputs?: Float64Array[];
  /** Reference forward (float64). */
  forward: (inputs: Float64Array[]) => Float64Array;
  /** Reference backward: gradients of each input (null to skip one). */
  backward: (inputs: Float64Array[], grad: Float64Array) => (Float64Array | null)[];
  /** Check at most this many elements per input (evenly spread). */
  samples?: number;
  eps?: number;
  tol?: number;
  seed?: number;
}

/** Checks a reference backward against central finite differences of the reference forward, in float64. */
export function checkGradient(check: GradientCheck): void {
  const seed = check.seed ?? 7;
  const inputs = check.inputs ?? check.shapes.map((s, k) => randomArray(sizeOf(s), seed + k));
  const y = check.forward(inputs);
  const grad = randomArray(y.length, seed + 100);
  const loss = (xs: Float64Array[]) => check.forward(xs).reduce((s, v, i) => s + v * grad[i], 0);
  const analytic = check.backward(inputs, grad);
  const eps = check.eps ?? 1e-6;
  const tol = check.tol ?? 1e-5;
  inputs.forEach((x, k) => {
    const a = analytic[k];
    if (!a) return;
    ensure(a.length === x.length, `gradient ${k} has the wrong length`);
    const step = Math.max(1, Math.floor(x.length / (check.samples ?? 64)));
    for (let i = 0; i < x.length; i += step) {
      const keep = x[i];
      x[i] = keep + eps;
      const up = loss(inputs);
      x[i] = keep - eps;
      const down = loss(inputs);
      x[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(numeric - a[i]);
      ensure(
        err <= tol * (1 + Math.abs(numeric)),
        `input ${k} element ${i}: analytic ${a[i]}, finite differences ${numeric}`,
      );
    }
  });
}
