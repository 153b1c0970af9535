// The web page as a static site: bundled by `deno bundle`, copied beside the model, served from a folder.

import { makeDir, pathKind } from "../io/files.ts";
import { tempNameFor } from "../io/temp_files.ts";

const ROOT = new URL("../", import.meta.url);
const path = (relative: string) => decodeURIComponent(new URL(relative, ROOT).pathname);

/** Where `deno task web` builds the site by default. */
export const SITE_DIR: string = path("web/dist");

/** The files of a built site and how large each is. */
export type SiteFiles = Record<string, number>;

/**
 * Bundles `entry` (relative to the project root) and everything it imports
 * into one minified browser script at `out`.
 *
 * @example
 * ```ts ignore
 * import { bundle } from "./_site.ts";
 * await bundle("web/worker.ts", "/tmp/worker.js");
 * ```
 */
export async function bundle(entry: string, out: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--minify", path(entry), "-o", out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry} failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
}

/**
 * Builds the page into `outDir`: `index.html`, `app.js` (the page and
 * NiiVue), `worker.js` (the network), `models/default.safetensors`. Built
 * beside `outDir` and swapped in, so a failed build leaves the old site.
 *
 * @example
 * ```ts ignore
 * import { buildSite } from "./_site.ts";
 * console.log(await buildSite("web/dist")); // { "index.html": 3521, "app.js": 2308578, ... }
 * ```
 */
export async function buildSite(
  outDir: string = SITE_DIR,
  options: { model?: string } = {},
): Promise<SiteFiles> {
  const parent = outDir.includes("/") ? outDir.slice(0, outDir.lastIndexOf("/")) || "/" : ".";
  await makeDir(parent);
  const temp = tempNameFor(outDir);
  try {
    await Deno.mkdir(`${temp}/models`, { recursive: true });
    await bundle("web/app.ts", `${temp}/app.js`);
    await bundle("web/worker.ts", `${temp}/worker.js`);
    await Deno.copyFile(path("web/index.html"), `${temp}/index.html`);
    await Deno.copyFile(
      options.model ?? path("models/default.safetensors"),
      `${temp}/models/default.safetensors`,
    );
    if (await pathKind(outDir) !== null) await Deno.remove(outDir, { recursive: true });
    await Deno.rename(temp, outDir);
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
  const files: SiteFiles = {};
  for (const name of ["index.html", "app.js", "worker.js", "models/default.safetensors"]) {
    files[name] = (await Deno.stat(`${outDir}/${name}`)).size;
  }
  return files;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  json: "application/json",
};

/**
 * Serves the files under `dir` on `hostname:port` (port 0: any free one)
 * until `signal` aborts; resolves to the server once it listens.
 *
 * @example
 * ```ts ignore
 * import { serveSite } from "./_site.ts";
 * const server = serveSite("web/dist", { port: 0 });
 * console.log(`http://127.0.0.1:${server.addr.port}/`);
 * await server.shutdown();
 * ```
 */
export function serveSite(
  dir: string,
  options: { port?: number; hostname?: string; signal?: AbortSignal } = {},
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    signal: options.signal,
    onListen: () => {},
  }, async (request) => {
    const name = decodeURIComponent(new URL(request.url).pathname).replace(/\/$/, "/index.html");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    if (name.split("/").includes("..")) return new Response("not found", { status: 404 });
    try {
      const file = await Deno.open(`${dir}${name}`);
      const { size, isFile } = await file.stat();
      if (!isFile) {
        file.close();
        return new Response("not found", { status: 404 });
      }
      const ext = name.slice(name.lastIndexOf(".") + 1);
      return new Response(request.method === "HEAD" ? (file.close(), null) : file.readable, {
        headers: {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "content-length": String(size),
          "cache-control": "no-cache",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}
