/**
 * `deno task web [--serve]`: builds the page that segments a dropped case in
 * the browser (WebGPU in a worker, NiiVue for the view) into a static site,
 * and serves it on localhost when asked.
 *
 * @module
 */

import { folderArg, integerFlag, parseCommand } from "./_usage.ts";
import { buildSite, serveSite, SITE_DIR } from "./_site.ts";
import { listenForInterrupt } from "./_interrupt.ts";

const USAGE = `usage: deno task web [options]

Builds the browser page into a static site: index.html, app.js (the page and NiiVue),
worker.js (the network, on WebGPU in a Web Worker) and the model. Nothing is fetched from
the network at run time, so any static web server (or this one) serves it, offline too.
  --out DIR      where to build (default web/dist)
  --model FILE   checkpoint the page uses when none is dropped (default models/default.safetensors)
  --serve        then serve the site on http://127.0.0.1:PORT/ until Ctrl-C
  --port N       port to serve on (default 8000; 0 picks a free one)

The page needs a browser with WebGPU: Chrome or Edge 113+, Safari 26, Firefox 141+ on
Windows, or Chromium started with --enable-unsafe-webgpu (on Linux also
--enable-features=Vulkan).`;

/**
 * Runs `web` with its arguments; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { run } from "./web.ts";
 * await run(["--serve", "--port", "8080"]); // builds web/dist, then serves it until Ctrl-C
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    usage: USAGE,
    options: {
      out: { type: "string" },
      model: { type: "string" },
      serve: { type: "boolean", default: false },
      port: { type: "string" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const out = values.out === undefined ? SITE_DIR : folderArg(values.out);
  const port = integerFlag("port", values.port, 0) ?? 8000;
  if (port > 65535) throw new RangeError(`--port "${values.port}" must be at most 65535`);
  const t0 = performance.now();
  const files = await buildSite(out, { model: values.model });
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  console.log(
    `built ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      Object.entries(files).map(([name, size]) => `${name} ${(size / 1024).toFixed(0)} KiB`)
        .join(", ") +
      ` (${(total / 2 ** 20).toFixed(1)} MiB)`,
  );
  if (!values.serve) return 0;
  using interrupt = listenForInterrupt();
  const server = serveSite(out, { port, signal: interrupt.signal });
  console.log(`serving ${out} at http://127.0.0.1:${server.addr.port}/ (Ctrl-C stops)`);
  await server.finished;
  return 0;
}
