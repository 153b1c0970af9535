/**
 * The GPU layer: device, tensors, kernels and their CPU references, autograd, Adam.
 *
 * @module
 */

export { currentDevice, describeAdapter, getDevice, GpuUnavailableError } from "./device.ts";
export {
  type Binding,
  dispatch,
  type DispatchOptions,
  f32Bits,
  flush,
  gridFor,
  type Kernel,
} from "./kernel.ts";
export { type Kept, scoped, Tensor, type TensorOptions, TensorScope } from "./tensor.ts";
export { isRecording, recordOp, Tape } from "./autograd.ts";
export { add, addBackwardReference, type AddOptions, addReference } from "./ops/add.ts";
