/**
 * How every command starts: its flags parsed (`-h`/`--help` added), `--help`
 * printing the usage and ending with 0, a wrong number of positional
 * arguments or a missing required flag printing it to stderr and ending
 * with 2; plus the small checks of flag values the commands share, each
 * failing with one line that names the flag and the value.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

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
 * console.log(exit); // null: go on
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

const HELP = { help: { type: "boolean", short: "h", default: false } } as const;

/** The flags and positionals `parseArgs` gives for the options `O` (plus `help`). */
export type ParsedCommand<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; allowPositionals: true }>
>;

/** A command's flags and its usage rules, for {@linkcode parseCommand}. */
export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** The usage text, printed for `--help` and for a malformed call. */
  usage: string;
  /** The command's flags as `node:util` `parseArgs` takes them (`help` is added). */
  options: O;
  /** Allowed count of positionals, inclusive (default 0; without any, a positional is an error). */
  min?: number;
  /** Upper bound of the count; defaults to `min` (Infinity for any number). */
  max?: number;
  /** Flags the call must give; without one it is malformed. */
  required?: readonly (keyof O & string)[];
}

/**
 * Parses a command's arguments; returns the exit code when help or a
 * malformed call ends the command. Unknown flags throw a TypeError naming
 * the flag (as `parseArgs` does).
 *
 * @example
 * ```ts
 * import { parseCommand } from "./_usage.ts";
 * const parsed = parseCommand(["in", "--out", "x"], {
 *   usage: "usage: deno task x IN --out FILE",
 *   options: { out: { type: "string" } },
 *   min: 1,
 *   required: ["out"],
 * });
 * if (typeof parsed !== "number") console.log(parsed.positionals, parsed.values.out); // ["in"] "x"
 * ```
 */
export function parseCommand<const O extends ParseArgsOptionsConfig>(
  args: string[],
  spec: CommandSpec<O>,
): ParsedCommand<O> | number {
  const min = spec.min ?? 0, max = spec.max ?? min;
  const parsed = parseArgs({
    args,
    options: { ...spec.options, ...HELP },
    allowPositionals: max > 0,
  });
  const values = parsed.values as Record<string, unknown>;
  const exit = usageExit(spec.usage, {
    help: values.help === true,
    positionals: parsed.positionals,
    min,
    max,
    malformed: spec.required?.some((name) => values[name] === undefined),
  });
  return exit ?? parsed as ParsedCommand<O>;
}

/**
 * A folder argument without trailing slashes (`/` stays `/`).
 *
 * @example
 * ```ts
 * import { folderArg } from "./_usage.ts";
 * console.log(folderArg("out/pred//"), folderArg("/")); // "out/pred" "/"
 * ```
 */
export function folderArg(text: string): string {
  return text.replace(/\/+$/, "") || "/";
}

/**
 * An optional integer flag of at least `min` (undefined when not given);
 * `noun` words the error ("an integer" by default).
 *
 * @throws {RangeError} `--name "text" must be an integer >= min`.
 * @example
 * ```ts
 * import { integerFlag } from "./_usage.ts";
 * console.log(integerFlag("batch", "4", 1), integerFlag("batch", undefined, 1)); // 4 undefined
 * ```
 */
export function integerFlag(
  name: string,
  text: string | undefined,
  min: number,
  noun = "an integer",
): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`--${name} "${text}" must be ${noun} >= ${min}`);
  }
  return v;
}

/**
 * A number flag within `lo..hi` (a missing or empty value is an error too).
 *
 * @throws {RangeError} `--name "text" must be a number in lo..hi`.
 * @example
 * ```ts
 * import { numberFlag } from "./_usage.ts";
 * console.log(numberFlag("lr", "0.001", 1e-12, 10)); // 0.001
 * ```
 */
export function numberFlag(name: string, text: string | undefined, lo: number, hi: number): number {
  const v = Number(text);
  if (text === undefined || text === "" || !Number.isFinite(v) || v < lo || v > hi) {
    throw new RangeError(`--${name} "${text}" must be a number in ${lo}..${hi}`);
  }
  return v;
}

/**
 * An error's message alone (what a command prints for it).
 *
 * @example
 * ```ts
 * import { messageOf } from "./_usage.ts";
 * console.log(messageOf(new RangeError("bad")), messageOf("plain")); // "bad" "plain"
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
