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
export { type Kept, scoped, Tensor, type TensorOptions, TensorScope } from "./tensor.ts";
export { type BackwardOptions, isRecording, recordOp, Tape } from "./autograd.ts";
export { add, addBackwardReference, type AddOptions, addReference } from "./ops/add.ts";
export {
  conv2d,
  conv2dBackward,
  type Conv2dBackwardOptions,
  conv2dBackwardReference,
  type Conv2dDims,
  type Conv2dOptions,
  conv2dReference,
} from "./ops/conv2d.ts";
export { type PackedConv2d, prepackConv2d } from "./ops/conv2d_prepack.ts";
export {
  convTranspose2d,
  convTranspose2dBackward,
  type ConvTranspose2dBackwardOptions,
  convTranspose2dBackwardReference,
  type ConvTranspose2dDims,
  type ConvTranspose2dOptions,
  convTranspose2dReference,
} from "./ops/conv_transpose2d.ts";
export type { ConvTile } from "./ops/_conv_wgsl.ts";
export type { ChunkedGradTile } from "./ops/_weight_grad_chunked_wgsl.ts";
export type { WinogradTile } from "./ops/_winograd_wgsl.ts";
export type { WindowGradTile } from "./ops/_weight_grad_window_wgsl.ts";
export { relu, reluBackwardReference, reluReference } from "./ops/relu.ts";
export { mul, mulBackwardReference, mulReference } from "./ops/mul.ts";
export { sum, sumBackwardReference, sumReference } from "./ops/reduce.ts";
export {
  concatChannels,
  concatChannelsBackwardReference,
  concatChannelsReference,
} from "./ops/concat.ts";
export {
  maxPool2x2,
  maxPool2x2BackwardReference,
  maxPool2x2Reference,
  type MaxPoolReferenceOptions,
} from "./ops/max_pool.ts";
export {
  batchNorm,
  batchNormBackwardReference,
  type BatchNormBackwardReferenceOptions,
  type BatchNormOptions,
  type BatchNormParams,
  batchNormReference,
  type BatchNormReferenceOptions,
  type BatchNormReferenceParams,
} from "./ops/batch_norm.ts";
export {
  foldBatchNorm,
  type FoldBatchNormOptions,
  foldBatchNormReference,
} from "./ops/batch_norm_fold.ts";
export {
  convLstmCell,
  convLstmCellBackwardReference,
  convLstmCellReference,
  type ConvLstmDims,
  type ConvLstmState,
} from "./ops/conv_lstm_cell.ts";
export {
  type CrossEntropyReferenceOptions,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackwardReference,
  type SoftmaxCrossEntropyOptions,
  softmaxCrossEntropyReference,
} from "./ops/softmax_cross_entropy.ts";
export { softmax, softmaxReference } from "./ops/softmax.ts";
export { argmaxChannels, argmaxChannelsReference } from "./ops/argmax.ts";
export {
  type FlatBindings,
  type OptimizerState,
  PARAMETER_ALIGNMENT,
  ParameterStore,
  type ParameterStoreOptions,
} from "./parameters.ts";
export { type AdamOptions, adamReference, type AdamReferenceState, adamStep } from "./ops/adam.ts";
export { type BlockCopy, copyBlocks, copyBlocksReference } from "./ops/copy_blocks.ts";
