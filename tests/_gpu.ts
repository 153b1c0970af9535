// Shared GPU test helpers: one device for every test file; each test releases what it made.
import { getDevice } from "../gpu/device.ts";
import { flush } from "../gpu/kernel.ts";
import { TensorScope } from "../gpu/tensor.ts";

/** Registers a GPU test: the device is ready, and tensors made inside are released afterwards. */
export function gpuTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name,
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
