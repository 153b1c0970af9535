// A fresh temporary folder per test, removed afterwards even when the test fails.

/**
 * Runs `fn` with a new temporary folder and removes the folder when `fn` settles.
 *
 * @example
 * ```ts
 * await withTempDir("example_", async (dir) => {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * });
 * ```
 */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
