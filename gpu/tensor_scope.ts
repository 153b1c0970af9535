// This module is browser compatible.
/**
 * Tensor lifetimes by scope: tensors made inside a scope are released when
 * it ends, except those reachable from what it keeps.
 *
 * @module
 */

import { openScopes } from "./_open_scopes.ts";
import { Tensor } from "./tensor.ts";

/** Values {@linkcode scoped} can return: tensors, arrays or records of them, or anything else. */
export type Kept = unknown;

function collect(value: Kept, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) {
    into.add(value);
    if (value.grad) into.add(value.grad);
  } else if (value && typeof value === "object" && !seen.has(value)) {
    seen.add(value);
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

/**
 * An open scope: tensors made while it is the innermost one are released by
 * {@linkcode TensorScope.end}, except those reachable from what it keeps. Use
 * it around async work; {@linkcode scoped} is the synchronous shorthand.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { Tensor } from "./tensor.ts";
 * import { TensorScope } from "./tensor_scope.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2], [2]);
 * await x.read();
 * scope.end();
 * console.log(x.released); // true
 * ```
 */
export class TensorScope {
  #tensors = new Set<Tensor>();

  private constructor() {}

  /** Opens a scope nested in the current one. */
  static begin(): TensorScope {
    const scope = new TensorScope();
    openScopes.push(scope.#tensors);
    return scope;
  }

  /** Closes the scope (it must be the innermost), releasing all but `keep`'s tensors. */
  end(keep?: Kept): void {
    if (openScopes.at(-1) !== this.#tensors) {
      throw new Error("TensorScope.end: scopes closed out of order");
    }
    openScopes.pop();
    const returned = new Set<Tensor>();
    collect(keep, returned);
    // Kept tensors belong to the enclosing scope, if any.
    const parent = openScopes.at(-1);
    for (const t of this.#tensors) {
      if (!returned.has(t)) t.release();
      else parent?.add(t);
    }
  }
}

/**
 * Runs `fn` and releases every tensor it made, except those reachable from its
 * result (and tensors it `keep()`s).
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * import { add } from "./ops/add.ts";
 * import { Tensor } from "./tensor.ts";
 * import { scoped } from "./tensor_scope.ts";
 * await getDevice();
 * const y = scoped(() => {
 *   const a = Tensor.from([1, 2], [2]); // released when the scope ends
 *   return add(a, a); // kept: it is the result
 * });
 * console.log(await y.read()); // Float32Array(2) [2, 4]
 * y.release();
 * ```
 */
export function scoped<T>(fn: () => T): T {
  const scope = TensorScope.begin();
  let result: T | undefined;
  try {
    result = fn();
    return result;
  } finally {
    scope.end(result);
  }
}
