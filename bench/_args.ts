/**
 * Flags of the bench scripts, parsed as the CLI parses its commands
 * (`cli/_usage.ts`): `-h`/`--help` prints the script's usage and ends with
 * 0; an unknown flag, a stray argument or a bad value prints one line
 * naming the script and the problem and ends with 2, never a stack trace.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { parseWidths } from "../cli/_train_args.ts";
import { integerFlag, messageOf, parseCommand, type ParsedCommand } from "../cli/_usage.ts";

/** The script's path as run (`bench/model_report.ts`), for its error lines. */
function scriptName(): string {
  const path = new URL(Deno.mainModule).pathname;
  const at = path.lastIndexOf("/bench/");
  return at >= 0 ? path.slice(at + 1) : path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Ends the script with one line on stderr and exit code 2.
 *
 * @example
 * ```ts ignore
 * import { benchUsageError } from "./_args.ts";
 * benchUsageError('--reps "x" must be an integer >= 1'); // bench/x.ts: --reps "x" must be … (exit 2)
 * ```
 */
export function benchUsageError(problem: string): never {
  console.error(`${scriptName()}: ${problem} (--help for usage)`);
  Deno.exit(2);
}

/**
 * The flag values of `Deno.args` for `options` (positionals are refused;
 * a `required` flag left out prints the usage), or the script's end on
 * `--help` or a malformed call.
 *
 * @example
 * ```ts
 * import { benchArgs } from "./_args.ts";
 * const args = benchArgs("usage: deno run -A bench/x.ts [--reps N]", {
 *   reps: { type: "string", default: "3" },
 * });
 * console.log(args.reps); // "3" when run without flags
 * ```
 */
export function benchArgs<const O extends ParseArgsOptionsConfig>(
  usage: string,
  options: O,
  required: readonly (keyof O & string)[] = [],
): ParsedCommand<O>["values"] {
  let parsed;
  try {
    parsed = parseCommand(Deno.args, { usage, options, required });
  } catch (error) {
    benchUsageError(messageOf(error));
  }
  if (typeof parsed === "number") Deno.exit(parsed);
  return parsed.values;
}

/**
 * What `parse` returns, or the script's end with its error's one line (the CLI's flag parsers
 * throw one naming the flag and the value).
 *
 * @example
 * ```ts
 * import { benchFlag } from "./_args.ts";
 * import { parseWindow } from "../cli/_segment_args.ts";
 * console.log(benchFlag(() => parseWindow("3,1", false))); // { mode: "windowed", window: 3, overlap: 1 }
 * ```
 */
export function benchFlag<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    benchUsageError(messageOf(error));
  }
}

/**
 * An integer flag of at least `min`, or the script's end naming the flag.
 *
 * @example
 * ```ts
 * import { benchInt } from "./_args.ts";
 * console.log(benchInt("reps", "5", 1)); // 5
 * ```
 */
export function benchInt(name: string, text: string, min: number): number {
  return benchFlag(() => integerFlag(name, text, min)!);
}

/**
 * A comma-separated list of integers ≥ `min` (`count` of them when given),
 * or the script's end naming the flag.
 *
 * @example
 * ```ts
 * import { benchInts } from "./_args.ts";
 * console.log(benchInts("sizes", "240,128", 8)); // [240, 128]
 * ```
 */
export function benchInts(name: string, text: string, min: number, count?: number): number[] {
  const values = text.split(",").map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < min) || count && values.length !== count) {
    const what = count === 1
      ? `one integer >= ${min}`
      : `${count ?? ""} integers >= ${min}, comma-separated`.trimStart();
    benchUsageError(`--${name} "${text}" must be ${what}`);
  }
  return values;
}

/**
 * Comma-separated in-plane sizes of the model benchmarks: multiples of 16
 * (the network halves a slice four times; `count` of them when given), or
 * the script's end.
 *
 * @example
 * ```ts
 * import { benchSizes } from "./_args.ts";
 * console.log(benchSizes("sizes", "240,128")); // [240, 128]
 * ```
 */
export function benchSizes(name: string, text: string, count?: number): number[] {
  const sizes = benchInts(name, text, 16, count);
  if (sizes.some((s) => s % 16)) benchUsageError(`--${name} "${text}" must be multiples of 16`);
  return sizes;
}

/**
 * Semicolon-separated width sets of four channel counts each
 * (`"8,16,32,32;32,64,64,64"`; `count` sets when given), or the script's
 * end naming the flag.
 *
 * @example
 * ```ts
 * import { benchWidths } from "./_args.ts";
 * console.log(benchWidths("widths", "8,16,32,32;16,32,64,64")); // [[8, 16, 32, 32], [16, 32, 64, 64]]
 * ```
 */
export function benchWidths(
  name: string,
  text: string,
  count?: number,
): [number, number, number, number][] {
  const sets = text.split(";");
  if (count && sets.length !== count) {
    const what = count === 1 ? "one set" : `${count} sets`;
    benchUsageError(`--${name} "${text}" must be ${what} of 4 channel counts`);
  }
  return sets.map((set) => benchFlag(() => parseWidths(set)!));
}
