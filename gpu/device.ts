// This module is browser compatible.
/**
 * WebGPU adapter and device acquisition, shared by every kernel.
 *
 * @module
 */

/** Thrown when no WebGPU adapter or device can be had; the message says how to get one. */
export class GpuUnavailableError extends Error {
  /** What failed, without the advice (e.g. "requestAdapter() returned null"). */
  readonly detail: string;

  /** Makes the error with a message that says how to get an adapter. */
  constructor(detail: string) {
    super(
      `No usable WebGPU adapter (${detail}). On Linux without a GPU install Mesa's software ` +
        "drivers: `apt-get install mesa-vulkan-drivers` (Vulkan, lavapipe) or `libgl1-mesa-dri` " +
        "(OpenGL, llvmpipe); DENO_WEBGPU_BACKEND=vulkan|gl picks the backend.",
    );
    this.name = "GpuUnavailableError";
    this.detail = detail;
  }
}

let devicePromise: Promise<GPUDevice> | null = null;
let ready: GPUDevice | null = null;
let adapterInfo: GPUAdapterInfo | null = null;

/** Limits the model needs, raised to what the adapter offers. */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
  };
}

/** The bits of Deno's API used below, typed here so that this module also type-checks for browsers. */
interface DenoRuntime {
  env: { get(key: string): string | undefined; set(key: string, value: string): void };
  uid(): number | null;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): void;
}

/**
 * Under Deno without a desktop session, Mesa's drivers print two
 * `XDG_RUNTIME_DIR is invalid` lines that read as failures; a private
 * folder (one per user, reused) silences them. Browsers: nothing to do.
 */
function quietMesaWithoutSession(): void {
  const deno = (globalThis as { Deno?: DenoRuntime }).Deno;
  try {
    if (!deno || deno.env.get("XDG_RUNTIME_DIR")) return;
    const dir = `${deno.env.get("TMPDIR") ?? "/tmp"}/webseg-runtime-${deno.uid() ?? "user"}`;
    deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch { /* no env or sys permission, or Windows: the warnings stay, nothing breaks */ }
}

async function acquire(): Promise<GPUDevice> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new GpuUnavailableError("navigator.gpu is missing in this runtime");
  }
  quietMesaWithoutSession();
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new GpuUnavailableError("requestAdapter() returned null");
  adapterInfo = adapter.info;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: "webseg.device",
      requiredLimits: wantedLimits(adapter),
    });
  } catch (error) {
    throw new GpuUnavailableError(`requestDevice failed: ${(error as Error).message}`);
  }
  device.addEventListener("uncapturederror", (event) => {
    // Validation errors mean a bug of ours: make them loud rather than silently wrong.
    console.error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  device.lost.then((info) => {
    if (info.reason !== "destroyed") console.error(`WebGPU device lost: ${info.message}`);
    devicePromise = null;
    ready = null;
  });
  ready = device;
  return device;
}

/**
 * The process-wide GPU device, acquired on first use.
 *
 * @example
 * ```ts
 * import { getDevice } from "./device.ts";
 * const device = await getDevice();
 * console.log(device.limits.maxStorageBufferBindingSize);
 * ```
 */
export function getDevice(): Promise<GPUDevice> {
  if (!devicePromise) {
    devicePromise = acquire();
    devicePromise.catch(() => (devicePromise = null));
  }
  return devicePromise;
}

/**
 * The device already acquired by {@linkcode getDevice}, for synchronous code
 * (kernel dispatch, tensor creation).
 *
 * @example
 * ```ts
 * import { currentDevice, getDevice } from "./device.ts";
 * await getDevice();
 * const device = currentDevice();
 * console.log(device === await getDevice()); // true
 * ```
 */
export function currentDevice(): GPUDevice {
  if (!ready) throw new Error("GPU not initialised: `await getDevice()` before using tensors");
  return ready;
}

/**
 * One line naming the adapter in use (vendor, architecture, description)
 * and the backend the caller chose (`DENO_WEBGPU_BACKEND` in Deno: the
 * caller reads it, so this module stays free of the runtime's globals).
 *
 * @example
 * ```ts
 * import { describeAdapter } from "./device.ts";
 * console.log(await describeAdapter({ backend: "vulkan" })); // "mesa llvmpipe ... (backend: vulkan, …)"
 * ```
 */
export async function describeAdapter(options: { backend?: string } = {}): Promise<string> {
  const device = await getDevice();
  const info = adapterInfo;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description]
    .filter((s) => s && s.length > 0);
  const backend = options.backend || "default";
  return `${parts.join(" ") || "unknown adapter"} (backend: ${backend}, ` +
    `max storage binding ${(device.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB)`;
}
