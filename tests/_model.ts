// Shared helpers of the model tests: tiny configs, parameters read back by name, synthetic inputs.
import { type ModelConfig, modelConfig, type PresetName, PRESETS } from "../model/config.ts";
import type { SegmentationNetwork } from "../model/network.ts";
import { randomArray } from "./_check_op.ts";

/** Every preset at widths 4-4-4-4 (the tiny test size). */
export const TINY: [PresetName, ModelConfig][] = (Object.keys(PRESETS) as PresetName[]).map((
  name,
) => [name, modelConfig(name, { widths: [4, 4, 4, 4] })]);

/** All of a network's tensors (parameters and running statistics) read back by name. */
export async function readParams(net: SegmentationNetwork): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of net.tensors()) out.set(name, await t.read());
  return out;
}

/** A smooth synthetic input [N, M, H, W]: blobs of different intensity per modality plus noise. */
export function syntheticInput(shape: readonly number[], seed: number): Float64Array {
  const [n, m, h, w] = shape;
  const noise = randomArray(n * m * h * w, seed, -0.3, 0.3);
  const out = new Float64Array(noise.length);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const k = ((i * m + c) * h + y) * w + x;
          const r = Math.hypot(y - h * (0.4 + 0.05 * i), x - w * 0.55) / (h * 0.25);
          out[k] = (r < 1 ? 1 + 0.4 * c : -0.5 + 0.1 * c) + noise[k];
        }
      }
    }
  }
  return out;
}

/** Labels [N, 1, H, W] for {@linkcode syntheticInput}: a disc (class 1) with a core (class 3). */
export function syntheticLabels(shape: readonly number[]): Float32Array {
  const [n, , h, w] = shape;
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const r = Math.hypot(y - h * (0.4 + 0.05 * i), x - w * 0.55) / (h * 0.25);
        out[(i * h + y) * w + x] = r < 0.5 ? 3 : r < 1 ? 1 : r < 1.3 ? 2 : 0;
      }
    }
  }
  return out;
}
