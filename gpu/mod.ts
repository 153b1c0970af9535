// This module is browser compatible.
/**
 * The GPU layer: device, tensors, kernels and their CPU references, autograd, Adam.
 *
 * Every op is one file under `ops/` read top to bottom in the same order, like
 * llm.c's kernels: the module doc, the plain-TypeScript reference (forward,
 * then backward), the WGSL, then the dispatch that records on the tape.
 * `ops/relu.ts` is the template; where the WGSL is long it sits in a private
 * `_<op>_wgsl.ts` beside the op. Each op's test checks the dispatch against
 * the reference and the reference's backward against finite differences
 * through one shared checker (`tests/_check_op.ts`) before any benchmark.
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
export { Tensor, type TensorOptions } from "./tensor.ts";
export { type Kept, scoped, TensorScope } from "./tensor_scope.ts";
export { type BackwardOptions, isRecording, recordOp, Tape } from "./autograd.ts";
export { add, type AddOptions } from "./ops/add.ts";
export {
  conv2d,
  conv2dBackward,
  type Conv2dBackwardOptions,
  type Conv2dDims,
  type Conv2dOptions,
} from "./ops/conv2d.ts";
export { type PackedConv2d, prepackConv2d } from "./ops/conv2d_prepack.ts";
export {
  convTranspose2d,
  convTranspose2dBackward,
  type ConvTranspose2dBackwardOptions,
  type ConvTranspose2dDims,
  type ConvTranspose2dOptions,
} from "./ops/conv_transpose2d.ts";
export type { ChunkedGradTile, ConvTile, WindowGradTile, WinogradTile } from "./ops/tiles.ts";
export { relu } from "./ops/relu.ts";
export { mul } from "./ops/mul.ts";
export { sum } from "./ops/reduce.ts";
export { concatChannels } from "./ops/concat.ts";
export { maxPool2x2 } from "./ops/max_pool.ts";
export { batchNorm, type BatchNormOptions, type BatchNormParams } from "./ops/batch_norm.ts";
export { foldBatchNorm, type FoldBatchNormOptions } from "./ops/batch_norm_fold.ts";
export { convLstmCell, type ConvLstmDims, type ConvLstmState } from "./ops/conv_lstm_cell.ts";
export {
  softmaxCrossEntropy,
  type SoftmaxCrossEntropyOptions,
} from "./ops/softmax_cross_entropy.ts";
export { softDice } from "./ops/soft_dice.ts";
export { softmax } from "./ops/softmax.ts";
export { argmaxChannels } from "./ops/argmax.ts";
export {
  type FlatBindings,
  type OptimizerState,
  PARAMETER_ALIGNMENT,
  ParameterStore,
  type ParameterStoreOptions,
} from "./parameters.ts";
export { type AdamOptions, adamStep } from "./ops/adam.ts";
export { type BlockCopy, copyBlocks } from "./ops/copy_blocks.ts";
