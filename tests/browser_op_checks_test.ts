import assert from "node:assert/strict";
import { OP_SAMPLES } from "./_op_checks.ts";
import type { OpSampleResult } from "./_browser_op_checks.ts";
import { browserTest, testPage } from "./_browser.ts";

browserTest(
  "Chromium: the kernels' forward and backward match their references on the browser's WebGPU",
  (site) => testPage(site, "tests/_browser_op_checks.ts", "op_checks"),
  async ({ page, origin, log }) => {
    await page.goto(`${origin}/op_checks.html`);
    await page.waitForFunction(() => "runOpSamples" in globalThis);
    const { adapter, results } = await page.evaluate(() =>
      (globalThis as unknown as {
        runOpSamples(): Promise<{ adapter: string; results: OpSampleResult[] }>;
      }).runOpSamples()
    );
    assert.match(adapter, /swiftshader|google/i, log.join("\n"));
    assert.equal(results.length, OP_SAMPLES.length);
    const failed = results.filter((r) => r.error).map((r) => `${r.name}: ${r.error}`);
    assert.deepEqual(failed, [], log.join("\n"));
  },
);
