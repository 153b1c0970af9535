// This module is browser compatible.
/**
 * Where the shipped checkpoint lives beside the module, and its bytes fetched
 * from there: from a checkout or an installed package a `file:` URL, from a
 * registry or a web server an `https:` one, so no caller needs a path.
 *
 * @module
 */

import { InputError } from "../data/input_error.ts";

/**
 * The shipped model (trained on synthetic phantoms: for trying the tool, not
 * for real scans), resolved against this module's own URL.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL_URL } from "./default_model.ts";
 * console.log(DEFAULT_MODEL_URL.pathname.endsWith("models/default.safetensors")); // true
 * ```
 */
export const DEFAULT_MODEL_URL: URL = new URL("../models/default.safetensors", import.meta.url);

/**
 * The bytes of a checkpoint at `url` (default {@linkcode DEFAULT_MODEL_URL}).
 *
 * @throws {InputError} one line naming the URL when it cannot be fetched.
 * @example
 * ```ts
 * import { fetchCheckpoint } from "./default_model.ts";
 * const bytes = await fetchCheckpoint();
 * console.log(bytes.length > 1000); // true: the shipped model's safetensors bytes
 * ```
 */
export async function fetchCheckpoint(url: URL | string = DEFAULT_MODEL_URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new InputError(String(url), `cannot be fetched (${(error as Error).message})`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new InputError(String(url), `cannot be fetched (HTTP ${response.status})`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
