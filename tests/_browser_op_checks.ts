// Bundled for Chromium: the op-check sample, run on the browser's WebGPU, results left on `globalThis`.
import { describeAdapter } from "../gpu/device.ts";
import { OP_SAMPLES } from "./_op_checks.ts";

/** One sample's outcome. */
export interface OpSampleResult {
  name: string;
  error?: string;
}

async function runOpSamples(): Promise<{ adapter: string; results: OpSampleResult[] }> {
  const adapter = await describeAdapter({ backend: "browser" });
  const results: OpSampleResult[] = [];
  for (const sample of OP_SAMPLES) {
    try {
      await sample.run();
      results.push({ name: sample.name });
    } catch (error) {
      results.push({ name: sample.name, error: (error as Error).message });
    }
  }
  return { adapter, results };
}

(globalThis as { runOpSamples?: typeof runOpSamples }).runOpSamples = runOpSamples;
