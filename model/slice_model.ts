// This module is browser compatible.
/**
 * What the inference pipeline needs of a network: windows of normalised
 * multi-modal slices in, class scores or classes out, a recurrent state
 * carried between windows.
 *
 * @module
 */

import type { LabelConvention } from "../data/labels.ts";

/** A depth-ordered run of normalised slices of all modalities, padded in-plane. */
export interface SliceWindow {
  /** Depth index (z) of the first slice. */
  start: number;
  /** Number of slices `T` in `data`. */
  depth: number;
  /**
   * Number of real slices: the last window of a volume at least `T` deep is
   * filled up to `T` with zero slices after its real ones, so that every
   * window has the same size (the GPU reuses its buffers) and the padding,
   * coming last, cannot affect the real slices' recurrent state.
   */
  valid: number;
  /** Number of modalities (4: FLAIR, T1, T1c, T2). */
  channels: number;
  /** Padded slice height (the volume's y size rounded up to the network's multiple). */
  height: number;
  /** Padded slice width (the volume's x size rounded up likewise). */
  width: number;
  /** Voxels, layout `[T, channels, height, width]`, x fastest. */
  data: Float32Array;
  /** Slices below this depth index are in no later window (their scores are final after this one). */
  settled: number;
  /** Total depth of the volume. */
  total: number;
}

/** What {@linkcode SliceModel.step} returns for one window. */
export interface SliceStepResult<State> {
  /** Class probabilities `[T, classes, height, width]` (when asked for `"probabilities"`). */
  probabilities?: Float32Array;
  /** Arg-max classes `[T, height, width]` (when asked for `"classes"`). */
  classes?: Uint8Array;
  /** The recurrent state after the window's last slice, to pass to the next window. */
  state: State;
}

/** The network as the pipeline sees it. */
export interface SliceModel<State = unknown> {
  /** Number of output classes. */
  readonly classes: number;
  /** Label convention of the classes (class `c` is label `labelConvention(conv).labels[c]`). */
  readonly convention: LabelConvention;
  /** Slice height and width must be multiples of this (16 for four 2×2 poolings). */
  readonly multiple: number;
  /** Number of modalities expected per slice. */
  readonly modalities: number;
  /**
   * Runs the network over a window, starting from `state` (null: a fresh
   * sequence). `want` says which output to return; arg-max on the device
   * saves reading back all class scores. With a null state it may be called
   * again before an earlier call settles (the model stage keeps one windowed
   * window in flight), so a step must not share mutable state with another.
   */
  step(
    window: SliceWindow,
    state: State | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<State>>;
  /** Frees what a state holds (GPU buffers); called once a state is no longer needed. */
  releaseState?(state: State): void;
}
