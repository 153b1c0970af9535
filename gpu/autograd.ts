// This module is browser compatible.
/**
 * Reverse-mode autograd: ops record a backward closure on the active tape;
 * {@linkcode Tape.backward} replays them in reverse, accumulating gradients.
 *
 * @module
 */

import { Tensor } from "./tensor.ts";
import { add } from "./ops/add.ts";

/** One recorded op: its inputs, outputs, and how to map output gradients to input gradients. */
interface Node {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly backward: (grads: Tensor[]) => readonly (Tensor | null)[];
}

let active: Tape | null = null;

/** Options of {@linkcode Tape.backward}. */
export interface BackwardOptions {
  /** Keep the gradients of intermediate tensors (op outputs); by default each is freed once used. */
  retainGrads?: boolean;
  /**
   * Release every op output but `output` once its op's backward has run (nothing reads it after:
   * its consumers came later and are done), so a step's saved activations do not all stay
   * allocated to its end. Only when the caller reads no intermediate tensor after `backward`
   * (every op's output is a fresh tensor, never one of its inputs); ignored with `retainGrads`.
   */
  releaseSaved?: boolean;
}

/** Records ops run inside {@linkcode Tape.run} and computes gradients from them. */
export class Tape {
  #nodes: Node[] = [];

  /** Number of recorded ops. */
  get length(): number {
    return this.#nodes.length;
  }

  /**
   * Runs `fn` with this tape recording.
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tape } from "./autograd.ts";
   * import { sum } from "./ops/reduce.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const x = Tensor.from([1, 2], [2], { requiresGrad: true });
   * const tape = new Tape();
   * const loss = tape.run(() => sum(x));
   * console.log(tape.length, await loss.read()); // 1 Float32Array(1) [3]
   * tape.backward(loss);
   * loss.release();
   * x.release();
   * ```
   */
  run<T>(fn: () => T): T {
    const previous = active;
    active = this;
    try {
      return fn();
    } finally {
      active = previous;
    }
  }

  /** @internal Adds a node; called by {@linkcode recordOp}. */
  push(node: Node): void {
    this.#nodes.push(node);
  }

  /**
   * Back-propagates from `output` (seeded with `seed`, default ones for a
   * scalar) through every recorded op, accumulating into `.grad` of the
   * tensors that are no op's output (inputs and parameters).
   *
   * @example
   * ```ts
   * import { getDevice } from "./device.ts";
   * import { Tape } from "./autograd.ts";
   * import { sum } from "./ops/reduce.ts";
   * import { Tensor } from "./tensor.ts";
   * await getDevice();
   * const x = Tensor.from([1, 2], [2], { requiresGrad: true });
   * const tape = new Tape();
   * const loss = tape.run(() => sum(x));
   * tape.backward(loss);
   * console.log(await x.grad!.read()); // Float32Array(2) [1, 1]
   * loss.release();
   * x.release(); // and its gradient
   * ```
   */
  backward(output: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
    accumulate(output, seed ?? Tensor.from(new Float32Array(output.size).fill(1), output.shape));
    for (let i = this.#nodes.length - 1; i >= 0; i--) {
      const node = this.#nodes[i];
      if (!node.outputs.some((o) => o.grad)) continue;
      // An output nothing depended on gets a zero gradient, so kernels need no special case.
      const outGrads = node.outputs.map((o) => o.grad ?? (o.grad = Tensor.zeros(o.shape)));
      const grads = node.backward(outGrads);
      node.inputs.forEach((input, k) => {
        const gk = grads[k];
        if (gk && input.requiresGrad) accumulate(input, gk);
        else gk?.release();
      });
      // Every consumer of these outputs came later and is done: their gradients are dead now.
      if (!options.retainGrads) {
        for (const o of node.outputs) {
          o.grad?.release();
          o.grad = null;
        }
      }
      if (options.releaseSaved && !options.retainGrads) {
        for (const o of node.outputs) if (o !== output) o.release();
      }
    }
    this.#nodes = [];
  }
}

/** Adds `grad` into `t.grad`, taking ownership of `grad` (a copy while `t.grad` is cleared). */
function accumulate(t: Tensor, grad: Tensor): void {
  if (!t.grad) {
    t.grad = grad;
    return;
  }
  if (t.grad.zeroed) t.grad.copyFrom(grad);
  else add(t.grad, grad, { into: t.grad });
  grad.release();
}

/**
 * Records an op on the active tape when any input needs a gradient; its
 * outputs then need one too. Called by every differentiable op. `backward`
 * gets one gradient per output and returns one fresh tensor (or null) per
 * input: never the incoming gradient itself, never the same tensor twice.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { recordOp, Tape } from "./autograd.ts";
 * import { add } from "./ops/add.ts";
 * import { Tensor } from "./tensor.ts";
 * await getDevice();
 * // y = 2x: the gradient of x is gy twice, as a fresh tensor.
 * const x = Tensor.from([1, 2], [2], { requiresGrad: true });
 * const tape = new Tape();
 * const y = tape.run(() => {
 *   const out = Tensor.from([2, 4], [2]);
 *   recordOp("double", [x], out, ([gy]) => [add(gy, gy)]);
 *   return out;
 * });
 * tape.backward(y, Tensor.from([1, 1], [2]));
 * console.log(await x.grad!.read()); // Float32Array(2) [2, 2]
 * y.release();
 * x.release();
 * ```
 */
export function recordOp(
  name: string,
  inputs: readonly Tensor[],
  output: Tensor | readonly Tensor[],
  backward: (grads: Tensor[]) => readonly (Tensor | null)[],
): void {
  if (!active || !inputs.some((t) => t.requiresGrad)) return;
  const outputs = output instanceof Tensor ? [output] : output;
  for (const o of outputs) o.requiresGrad = true;
  active.push({ name, inputs, outputs, backward });
}

/**
 * Whether ops are being recorded now (ops skip saving for backward otherwise).
 *
 * @example
 * ```ts
 * import { isRecording, Tape } from "./autograd.ts";
 * console.log(isRecording(), new Tape().run(() => isRecording())); // false true
 * ```
 */
export function isRecording(): boolean {
  return active !== null;
}
