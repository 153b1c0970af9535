/**
 * What the pipeline needs of a network, and the records that flow between
 * its stages: windows of normalised multi-modal slices in, per-slice class
 * scores or labels out.
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
   * saves reading back all class scores.
   */
  step(
    window: SliceWindow,
    state: State | null,
    options: { want: "probabilities" | "classes" },
  ): Promise<SliceStepResult<State>>;
  /** Frees what a state holds (GPU buffers); called once a state is no longer needed. */
  releaseState?(state: State): void;
}

/** Class scores (or classes) of one padded slice, as the model stage emits them. */
export interface ScoreSlice {
  /** Depth index. */
  z: number;
  /** Padded height. */
  height: number;
  /** Padded width. */
  width: number;
  /** Number of classes. */
  classes: number;
  /** Averaged probabilities `[classes, height, width]`, when the stage kept them. */
  probabilities?: Float32Array;
  /** Arg-max classes `[height, width]`, when the model returned those directly. */
  argmax?: Uint8Array;
}

/** Where the original slice sits inside the padded one. */
export interface Crop {
  /** Original width (x size). */
  width: number;
  /** Original height (y size). */
  height: number;
  /** Padded width. */
  paddedWidth: number;
  /** Padded height. */
  paddedHeight: number;
  /** Columns of padding before the original's first column. */
  left: number;
  /** Rows of padding before the original's first row. */
  top: number;
}

/** One output slice of labels, cropped back to the volume's in-plane size. */
export interface LabelSlice {
  /** Depth index. */
  z: number;
  /** Labels in the model's convention, `[height, width]`, x fastest. */
  labels: Uint8Array;
}

/**
 * Time spent in each part of the pipeline, in milliseconds, summed over the
 * calls each stage makes (stages overlap in time, so the parts may add up to
 * more than the wall-clock time).
 */
export interface StageTimes {
  /** Reading, decompressing, normalising and padding the inputs. */
  decode: number;
  /** Running the model (dispatch, device work, read-back) and averaging scores. */
  model: number;
  /** Arg-max, cropping, relabelling. */
  label: number;
  /** Encoding, compressing and writing the output. */
  write: number;
}

/**
 * A fresh all-zero {@linkcode StageTimes}.
 *
 * @example
 * ```ts
 * const times = newStageTimes();
 * times.decode += 12.5;
 * ```
 */
export function newStageTimes(): StageTimes {
  return { decode: 0, model: 0, label: 0, write: 0 };
}
