/**
 * The usage check every command starts with: `--help` prints the usage and
 * ends with 0; a wrong number of positional arguments prints it to stderr and
 * ends with 2.
 *
 * @module
 */

/** What {@linkcode usageExit} checks. */
export interface UsageCheck {
  /** Whether `--help` was given. */
  help?: boolean;
  /** The positional arguments given. */
  positionals?: readonly string[];
  /** Allowed count of positionals, inclusive; `max` defaults to `min`. */
  min?: number;
  /** Upper bound of the count (Infinity for any number). */
  max?: number;
  /** Anything else that makes the call malformed (e.g. a missing required option). */
  malformed?: boolean;
}

/**
 * The exit code when help or a malformed call ends the command, else `null`.
 *
 * @example
 * ```ts
 * import { usageExit } from "./_usage.ts";
 * const exit = usageExit("usage: deno task x IN", { help: false, positionals: ["a"], min: 1 });
 * // exit === null: go on
 * ```
 */
export function usageExit(usage: string, check: UsageCheck): number | null {
  if (check.help) {
    console.log(usage);
    return 0;
  }
  const n = check.positionals?.length ?? 0;
  const min = check.min ?? 0;
  if (check.malformed || n < min || n > (check.max ?? min)) {
    console.error(usage);
    return 2;
  }
  return null;
}
