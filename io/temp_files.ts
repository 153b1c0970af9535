/**
 * Temporary files of the atomic writer: their names (which say the writing
 * process and host), the ones this process has open (removed on a hard
 * exit), and the sweep that removes those of dead processes.
 *
 * @module
 */

/**
 * `<path>.tmp-<pid>-<8 hex>@<host>`; older versions wrote no `@<host>` (read
 * as this host's) and the trainer once wrote `<path>.tmp-<pid>-<13-digit ms>`.
 */
const TEMP_NAME = /\.tmp-(\d+)-(?:([0-9a-f]{8})(?:@([A-Za-z0-9._-]+))?|\d{13})$/;

/** The host part when the name cannot be had: such files are never swept (whose are they?). */
const UNKNOWN_HOST = "unknown-host";

const active = new Set<string>();
let hostName: string | undefined;

/** This host's name, for temp names (shared storage holds several hosts' files). */
function host(): string {
  if (hostName === undefined) {
    try {
      hostName = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted"
        ? Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "_")
        : UNKNOWN_HOST;
    } catch {
      hostName = UNKNOWN_HOST;
    }
  }
  return hostName;
}

/**
 * A fresh temporary name beside `path`, registered as this process's until
 * {@linkcode releaseTempName}; {@linkcode removeActiveTemps} removes the
 * registered ones.
 *
 * @example
 * ```ts
 * import { releaseTempName, tempNameFor } from "./temp_files.ts";
 * const temp = tempNameFor("out/case.nii.gz");
 * console.log(temp.startsWith(`out/case.nii.gz.tmp-${Deno.pid}-`)); // true
 * releaseTempName(temp);
 * ```
 */
export function tempNameFor(path: string): string {
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}@${host()}`;
  active.add(temp);
  return temp;
}

/**
 * Forgets a temporary name (renamed into place, or removed).
 *
 * @example
 * ```ts
 * import { releaseTempName, tempNameFor } from "./temp_files.ts";
 * releaseTempName(tempNameFor("x.bin"));
 * ```
 */
export function releaseTempName(temp: string): void {
  active.delete(temp);
}

/**
 * Removes, synchronously, every temporary file this process is writing:
 * for a process that must exit at once (a second Ctrl-C) and still leave
 * nothing half-written behind.
 *
 * @example
 * ```ts
 * import { removeActiveTemps, tempNameFor } from "./temp_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(tempNameFor(`${dir}/a.txt`), "half");
 * removeActiveTemps();
 * console.log([...Deno.readDirSync(dir)].length); // 0
 * await Deno.remove(dir);
 * ```
 */
export function removeActiveTemps(): void {
  for (const temp of active) {
    try {
      Deno.removeSync(temp);
    } catch { /* never made, or already gone */ }
  }
  active.clear();
}

/** Whether process `pid` runs on this host (unknown counts as alive: such files are kept). */
async function alive(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    // Only a readable /proc that lacks the pid says "dead" (not a permission error, not hidepid).
    if (!(await Deno.stat("/proc/1").then(() => true, () => false))) return true;
    return await Deno.stat(`/proc/${pid}`).then(
      () => true,
      (error) => !(error instanceof Deno.errors.NotFound),
    );
  }
  if (Deno.build.os === "windows") return true;
  try {
    const { code } = await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
      .output();
    return code === 0;
  } catch {
    return true;
  }
}

/**
 * Removes the atomic writer's temporary files in `dir` (hidden ones too)
 * whose writing process is gone: written on this host by a pid that no
 * longer runs. Files of live processes (another shard writing into the same
 * folder) and of other hosts are left alone. Returns the names removed; a
 * missing folder has none.
 *
 * @example
 * ```ts
 * import { sweepStaleTemps } from "./temp_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.nii.gz.tmp-999999999-0badf00d`, "left by a killed run");
 * await Deno.writeTextFile(`${dir}/b.nii.gz.tmp-${Deno.pid}-12345678`, "being written");
 * console.log(await sweepStaleTemps(dir)); // ["a.nii.gz.tmp-999999999-0badf00d"]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sweepStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  const entries = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
  const here = host();
  for (const entry of entries) {
    const m = entry.isFile ? TEMP_NAME.exec(entry.name) : null;
    if (!m || here === UNKNOWN_HOST || (m[3] !== undefined && m[3] !== here)) continue;
    if (await alive(Number(m[1]))) continue;
    try {
      await Deno.remove(`${dir}/${entry.name}`);
      removed.push(entry.name);
    } catch { /* another run swept it first */ }
  }
  return removed.sort();
}
