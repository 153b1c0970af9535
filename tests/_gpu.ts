// Shared GPU test helpers: one device for every test file; each test releases what it made.
import { getDevice, GpuUnavailableError } from "../gpu/device.ts";
import { flush } from "../gpu/kernel.ts";
import { TensorScope } from "../gpu/tensor_scope.ts";

/**
 * Set to 1 to test as if there were no adapter (how the skip path is checked
 * on a machine with one). A real "no adapter" on Linux, for comparison:
 * `DENO_WEBGPU_BACKEND=vulkan VK_ICD_FILENAMES=/nonexistent.json deno task test`.
 */
const NO_GPU_ENV = "WEBSEG_NO_GPU";
/** Set once the skip line is printed: test files share the process (and its environment). */
const NOTED_ENV = "WEBSEG_NO_GPU_NOTED";

async function probe(): Promise<boolean> {
  if (Deno.env.get(NO_GPU_ENV) === "1") return false;
  try {
    await getDevice();
    return true;
  } catch (error) {
    if (error instanceof GpuUnavailableError) return false;
    throw error;
  }
}

/** Whether a WebGPU device can be had (false also when `WEBSEG_NO_GPU=1`). */
export const hasGpu: boolean = await probe();

if (!hasGpu && Deno.env.get(NOTED_ENV) !== "1") {
  Deno.env.set(NOTED_ENV, "1");
  console.log("no WebGPU adapter: skipping GPU tests (on Linux install mesa-vulkan-drivers)");
}

/**
 * Registers a GPU test, ignored when there is no adapter: the device is
 * ready, and tensors made inside are released afterwards.
 */
export function gpuTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name,
    ignore: !hasGpu,
    // WebGPU keeps internal async work (mapAsync, device.lost) alive across tests.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await getDevice();
      const scope = TensorScope.begin();
      try {
        await fn();
      } finally {
        scope.end();
        flush();
      }
    },
  });
}
