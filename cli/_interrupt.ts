// Ctrl-C, a scheduler's SIGTERM, or the death of `deno task` as an abort signal: stop at the next safe point.

import { removeActiveTemps } from "../io/temp_files.ts";

/** Seconds after the first signal during which further ones are the same Ctrl-C arriving again. */
export const GRACE_SECONDS = 3;

/** An abort signal fed by SIGINT/SIGTERM, until disposed. */
export interface Interrupt extends Disposable {
  /** Aborted on the first signal. */
  readonly signal: AbortSignal;
}

/** The parent at start-up: if `deno task` dies before the listener exists, the change is still seen. */
const LAUNCH_PARENT = Deno.build.os === "windows" ? 0 : Deno.ppid;

/** Whether this process was started by `deno task`, which may die without passing a signal on. */
function startedByDenoTask(): boolean {
  return Deno.env.get("INIT_CWD") !== undefined &&
    (Deno.env.get("npm_config_user_agent") ?? "").startsWith("deno/");
}

/**
 * Listens for SIGINT (and SIGTERM off Windows): the first aborts `signal`;
 * more within {@linkcode GRACE_SECONDS} are ignored (`deno task` forwards
 * the terminal's Ctrl-C to a child that already got it from the terminal,
 * so one keypress arrives twice); one after that leaves at once, exit 130,
 * removing the temporary files being written. Under `deno task`, the task
 * runner's death (`kill -9`) counts as a signal, so the child does not run
 * on orphaned. Dispose it to stop listening.
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
  let firstAt = 0;
  const stop = () => {
    if (!controller.signal.aborted) {
      firstAt = performance.now();
      console.error(
        `stopping at the next safe point (a signal after ${GRACE_SECONDS} s more leaves at once)`,
      );
      controller.abort();
    } else if (performance.now() - firstAt > GRACE_SECONDS * 1000) {
      removeActiveTemps();
      Deno.exit(130); // asked again, well after the first: leave at once
    }
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  const watch = startedByDenoTask() && Deno.build.os !== "windows"
    ? setInterval(() => Deno.ppid !== LAUNCH_PARENT && !controller.signal.aborted && stop(), 500)
    : undefined;
  if (watch !== undefined) {
    Deno.unrefTimer(watch);
    if (Deno.ppid !== LAUNCH_PARENT) queueMicrotask(stop); // died before we listened
  }
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => {
      for (const s of signals) Deno.removeSignalListener(s, stop);
      clearInterval(watch);
    },
  };
}
