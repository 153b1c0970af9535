// Headless Chromium with WebGPU and WebGL2 on the CPU (SwiftShader), for the page's tests and benchmark.

import { type Browser, chromium } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to drive: `$CHROMIUM`, else the first installed of the usual paths. */
export const CHROMIUM: string | undefined = Deno.env.get("CHROMIUM") ??
  CANDIDATES.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });

/** WebGPU through SwiftShader's Vulkan, WebGL2 through ANGLE on SwiftShader, no GPU needed. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader",
  "--enable-unsafe-swiftshader",
  "--use-angle=swiftshader",
];

/**
 * Starts {@linkcode CHROMIUM} with `args` (default {@linkcode CHROMIUM_FLAGS}).
 *
 * @throws {Error} when no Chromium is installed, saying how to get one.
 * @example
 * ```ts ignore
 * import { launchChromium } from "./_chromium.ts";
 * const browser = await launchChromium();
 * await browser.close();
 * ```
 */
export async function launchChromium(
  args: readonly string[] = CHROMIUM_FLAGS,
): Promise<Browser> {
  if (!CHROMIUM) {
    throw new Error("No Chromium: apt-get install chromium, or set CHROMIUM=/path/to/chrome");
  }
  return await chromium.launch({ executablePath: CHROMIUM, args: [...args] });
}
