// This module is browser compatible.
/**
 * Strided block copy behind every split and join of tensors (channel
 * concatenation and its gradient, taking a modality or a time step, joining
 * time steps). Both tensors are seen as `[outer, dim, inner]`; a run of
 * `count` blocks of `inner` elements moves from one range of `dim` to another:
 * as buffer copies when the runs are long and few, else by one kernel.
 * Not differentiable by itself: the ops built on it record their own backward.
 *
 * @module
 */

import { currentDevice } from "../device.ts";
import { dispatch, encoder, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

/** Where {@linkcode copyBlocks} reads and writes, in the `[outer, dim, inner]` view of each tensor. */
export interface BlockCopy {
  /** Size of the outermost axis (shared by both tensors). */
  outer: number;
  /** Contiguous elements per block. */
  inner: number;
  /** Blocks copied per outer index. */
  count: number;
  /** Size of the middle axis of the source. */
  srcDim: number;
  /** Size of the middle axis of the destination. */
  dstDim: number;
  /** First source block along the middle axis. */
  srcStart: number;
  /** First destination block along the middle axis. */
  dstStart: number;
}

/**
 * Reference of {@linkcode copyBlocks}: copies into `dst` in place and returns it.
 *
 * @example
 * ```ts
 * import { copyBlocksReference } from "./copy_blocks.ts";
 * const blocks = { outer: 1, inner: 2, count: 1, srcDim: 2, dstDim: 1, srcStart: 1, dstStart: 0 };
 * const dst = copyBlocksReference([1, 2, 3, 4], new Float64Array(2), blocks);
 * console.log(dst); // Float64Array(2) [3, 4]
 * ```
 */
export function copyBlocksReference(
  src: ArrayLike<number>,
  dst: Float64Array,
  blocks: BlockCopy,
): Float64Array {
  const { outer, inner, count, srcDim, dstDim, srcStart, dstStart } = blocks;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      for (let r = 0; r < inner; r++) {
        dst[(o * dstDim + dstStart + j) * inner + r] = src[(o * srcDim + srcStart + j) * inner + r];
      }
    }
  }
  return dst;
}

const COPY: Kernel = {
  name: "copy_blocks",
  code: /* wgsl */ `
struct P { n: u32, inner: u32, count: u32, srcDim: u32, dstDim: u32, srcStart: u32, dstStart: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= p.n) { return; }
  let r = i % p.inner;
  let q = i / p.inner;
  let j = q % p.count;
  let o = q / p.count;
  dst[(o * p.dstDim + p.dstStart + j) * p.inner + r] = src[(o * p.srcDim + p.srcStart + j) * p.inner + r];
}`,
};

// Runs short or many enough to be better served by one dispatch than by buffer copies.
const MAX_BUFFER_COPIES = 64;
const MIN_RUN = 256;

function checkSpan(t: { size: number }, dim: number, start: number, b: BlockCopy, what: string) {
  if (start < 0 || start + b.count > dim || b.outer * dim * b.inner !== t.size) {
    throw new RangeError(
      `copyBlocks: ${what} of ${t.size} elements is not [${b.outer}, ${dim}, ${b.inner}] ` +
        `with blocks ${start}..${start + b.count}`,
    );
  }
}

/**
 * Encodes the copy of `count` blocks per outer index from `src` to `dst` (not recorded on the tape).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { copyBlocks } from "./copy_blocks.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from([1, 2, 3, 4], [1, 2, 2]);
 * const y = Tensor.empty([1, 1, 2]);
 * // The second of x's two rows of 2 into y's only row.
 * copyBlocks(x, y, { outer: 1, inner: 2, count: 1, srcDim: 2, dstDim: 1, srcStart: 1, dstStart: 0 });
 * console.log(await y.read()); // Float32Array(2) [3, 4]
 * scope.end();
 * ```
 */
export function copyBlocks(src: Tensor, dst: Tensor, blocks: BlockCopy): void {
  checkSpan(src, blocks.srcDim, blocks.srcStart, blocks, "source");
  checkSpan(dst, blocks.dstDim, blocks.dstStart, blocks, "destination");
  const b = blocks;
  const run = b.count * b.inner;
  if (b.outer <= MAX_BUFFER_COPIES && run >= MIN_RUN && src.buffer !== dst.buffer) {
    // A buffer copy per contiguous run: a memcpy on CPU adapters, where the kernel's per-lane
    // loads cost ~10× more, and the copy engine's job on discrete GPUs.
    const commands = encoder.commands(currentDevice());
    for (let o = 0; o < b.outer; o++) {
      const from = src.offset + ((o * b.srcDim + b.srcStart) * b.inner) * 4;
      const to = dst.offset + ((o * b.dstDim + b.dstStart) * b.inner) * 4;
      commands.copyBufferToBuffer(src.buffer, from, dst.buffer, to, run * 4);
    }
    return;
  }
  const n = b.outer * run;
  dispatch(COPY, [src, dst], {
    params: [n, b.inner, b.count, b.srcDim, b.dstDim, b.srcStart, b.dstStart],
    workgroups: gridFor(n),
  });
}
