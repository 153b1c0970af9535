// This module is browser compatible.
/**
 * An error caused by a bad input file: carries the file's path so that the
 * CLI can print one line naming the file and the problem.
 *
 * @example
 * ```ts
 * import { InputError } from "./input_error.ts";
 * const error = new InputError("scan.nii.gz", "truncated gzip stream");
 * console.log(error.message); // "scan.nii.gz: truncated gzip stream"
 * console.log(error.path, error instanceof Error); // "scan.nii.gz" true
 * ```
 */
export class InputError extends Error {
  /** The file (or folder) the problem was found in. */
  readonly path: string;
  /** The problem alone, without the path. */
  readonly problem: string;

  /** Makes an error whose message is `path: problem`. */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`${path}: ${problem}`, options);
    this.name = "InputError";
    this.path = path;
    this.problem = problem;
  }
}
