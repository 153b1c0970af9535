// This module is browser compatible.
// What the page and its worker say to each other.

import type { Modality } from "../data/cases.ts";
import type { LabelConvention, Region } from "../data/labels.ts";

/** The page asks the worker to segment one case. */
export interface SegmentRequest {
  /** The four modality files. */
  modalities: Record<Modality, File>;
  /** The case's labels, to score against. */
  seg?: File;
  /** A checkpoint to use instead of the built-in model. */
  checkpoint?: File;
  /** Mirror test-time augmentation. */
  tta: boolean;
}

/** What the worker tells the page. */
export type WorkerMessage =
  | { type: "ready"; adapter: string }
  | { type: "unavailable"; message: string }
  | { type: "progress"; slicesDone: number; slicesTotal: number }
  | { type: "warning"; line: string }
  | {
    type: "done";
    labels: Uint8Array;
    convention: LabelConvention;
    seconds: number;
    dice?: Record<Region, number>;
  }
  | { type: "failed"; message: string };
