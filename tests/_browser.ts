// Browser tests: Chromium (Debian's package) driven by playwright-core; skipped without one.
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../cli/_chromium.ts";
import { bundle, serveSite } from "../cli/_site.ts";
import { withTempDir } from "./_temp_dir.ts";

if (!CHROMIUM) {
  console.log(
    "browser tests skipped: no Chromium (apt-get install chromium, or set CHROMIUM=/path/to/chrome)",
  );
}

/** What a browser test gets: a page of a fresh browser, and a site folder served at `origin`. */
export interface BrowserContext {
  page: Page;
  browser: Browser;
  /** Served at `origin` (e.g. `http://127.0.0.1:41234`). */
  site: string;
  origin: string;
  /** Console lines and uncaught errors of the page, for failure messages. */
  log: string[];
}

/**
 * A test with Chromium: `prepare` fills the served folder, then `fn` drives
 * the page (Chromium started with `options.args`, default the WebGPU flags).
 * Skipped (one line at load) when no Chromium is installed.
 */
export function browserTest(
  name: string,
  prepare: (site: string) => Promise<void>,
  fn: (context: BrowserContext) => Promise<void>,
  options: { args?: readonly string[] } = {},
): void {
  Deno.test({
    name,
    ignore: !CHROMIUM,
    // playwright-core keeps its pipe and timers to the browser process past close.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withTempDir("browser_test_", async (site) => {
        await prepare(site);
        const server = serveSite(site, { port: 0 });
        const browser = await launchChromium(options.args);
        try {
          const page = await browser.newPage({ acceptDownloads: true });
          const log: string[] = [];
          page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
          page.on("pageerror", (e) => log.push(`page error: ${e.message}`));
          await fn({ page, browser, site, origin: `http://127.0.0.1:${server.addr.port}`, log });
        } finally {
          await browser.close();
          await server.shutdown();
        }
      }),
  });
}

/** Bundles a test entry for the browser into `site/<name>.js` with a page that loads it. */
export async function testPage(site: string, entry: string, name: string): Promise<void> {
  await bundle(entry, `${site}/${name}.js`);
  await Deno.writeTextFile(
    `${site}/${name}.html`,
    `<!doctype html><meta charset="utf-8"><script type="module" src="${name}.js"></script>`,
  );
}
