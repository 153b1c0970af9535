// This module is browser compatible.
/**
 * The trained network behind the pipeline's {@linkcode SliceModel}
 * interface: windows go to the GPU, class probabilities or arg-max classes
 * come back, the convLSTM state stays on the GPU between windows.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";
import { labelConvention } from "../data/labels.ts";
import { InputError } from "../data/input_error.ts";
import { SLICE_MULTIPLE } from "../data/preprocess.ts";
import { getDevice } from "../gpu/device.ts";
import { Tensor } from "../gpu/tensor.ts";
import { type CheckpointInfo, networkFromCheckpoint } from "./checkpoint.ts";
import { releaseState, type SegmentationNetwork, type StreamState } from "./network.ts";
import type { SliceModel, SliceStepResult, SliceWindow } from "./slice_model.ts";

/**
 * A {@linkcode SegmentationNetwork} as a {@linkcode SliceModel}. The state
 * is the convLSTM's `{ h, c }` (or null for variants without a convLSTM).
 *
 * @example
 * ```ts
 * import { NetworkSliceModel } from "./network_slice_model.ts";
 * const response = await fetch(new URL("../models/default.safetensors", import.meta.url));
 * const bytes = new Uint8Array(await response.arrayBuffer());
 * const model = await NetworkSliceModel.fromBytes(bytes, { path: "default.safetensors" });
 * const [depth, height, width] = [2, 16, 16];
 * const window = {
 *   start: 0, depth, valid: depth, channels: 4, height, width, settled: depth, total: depth,
 *   data: new Float32Array(depth * 4 * height * width), // normalised slices; all background here
 * };
 * const { classes, state } = await model.step(window, null, { want: "classes" });
 * console.log(model.convention, model.classes, classes!.length); // brats2017 4 512
 * model.releaseState(state);
 * model.release();
 * ```
 */
export class NetworkSliceModel implements SliceModel<StreamState | null> {
  /** The network (owned: {@linkcode NetworkSliceModel.release} frees it). */
  readonly network: SegmentationNetwork;
  /** What the checkpoint says about itself (config, convention, training history). */
  readonly info: CheckpointInfo;
  /** Number of output classes. */
  readonly classes: number;
  /** Label convention of the classes. */
  readonly convention: LabelConvention;
  /** In-plane multiple: four 2×2 poolings. */
  readonly multiple: number = SLICE_MULTIPLE;
  /** Modalities per slice. */
  readonly modalities: number;

  /**
   * Wraps a network; `info.labels` must have as many labels as the network has classes.
   *
   * @throws {RangeError} when they disagree.
   */
  constructor(network: SegmentationNetwork, info: CheckpointInfo) {
    const labels = labelConvention(info.labels).labels;
    if (labels.length !== network.config.classes) {
      throw new RangeError(
        `The network has ${network.config.classes} classes but ${info.labels} has ${labels.length} labels`,
      );
    }
    this.network = network;
    this.info = info;
    this.classes = network.config.classes;
    this.convention = info.labels;
    this.modalities = network.config.modalities;
  }

  /**
   * Decodes checkpoint bytes onto the GPU (acquiring the device first);
   * `path` only names them in errors.
   *
   * @throws {InputError} for a bad checkpoint; GpuUnavailableError without an adapter.
   */
  static async fromBytes(
    bytes: Uint8Array,
    options: { path?: string } = {},
  ): Promise<NetworkSliceModel> {
    const path = options.path ?? "<checkpoint>";
    await getDevice();
    const { network, info } = networkFromCheckpoint(bytes, { path });
    try {
      return new NetworkSliceModel(network, info);
    } catch (error) {
      network.release();
      throw new InputError(path, (error as Error).message);
    }
  }

  /** Runs one window; the input and output tensors are released before returning. */
  async step(
    window: SliceWindow,
    state: StreamState | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<StreamState | null>> {
    const input = Tensor.from(window.data, [
      window.depth,
      window.channels,
      window.height,
      window.width,
    ], {
      label: "pipeline.window",
    });
    let output: Tensor | undefined;
    let next: StreamState | null = null;
    try {
      const result = this.network.step(input, state, {
        output: options.want === "classes" ? "labels" : "probabilities",
      });
      next = result.state;
      output = options.want === "classes" ? result.labels : result.probabilities;
      const values = await output!.read();
      if (options.want === "probabilities") return { probabilities: values, state: next };
      return { classes: Uint8Array.from(values), state: next };
    } catch (error) {
      releaseState(next);
      throw error;
    } finally {
      input.release();
      output?.release();
    }
  }

  /** Frees a state's GPU tensors. */
  releaseState(state: StreamState | null): void {
    releaseState(state);
  }

  /** Frees the network's GPU tensors. */
  release(): void {
    this.network.release();
  }
}
