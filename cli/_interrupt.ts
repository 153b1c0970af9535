// Ctrl-C and a scheduler's SIGTERM as an abort signal: the first stops at the next safe point, a second leaves at once.

/** An abort signal fed by SIGINT/SIGTERM, until disposed. */
export interface Interrupt extends Disposable {
  /** Aborted on the first signal. */
  readonly signal: AbortSignal;
}

/**
 * Listens for SIGINT (and SIGTERM off Windows): the first aborts `signal`,
 * a second exits with 130 at once. Dispose it to stop listening.
 *
 * @example
 * ```ts
 * import { listenForInterrupt } from "./_interrupt.ts";
 * using interrupt = listenForInterrupt();
 * console.log(interrupt.signal.aborted); // false
 * ```
 */
export function listenForInterrupt(): Interrupt {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) Deno.exit(130); // a second Ctrl-C: leave at once
    controller.abort();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => {
      for (const s of signals) Deno.removeSignalListener(s, stop);
    },
  };
}
