// This module is browser compatible.
// Bias gradient of the convs (private to gpu/ops): dy summed over n, h, w as partial sums over row
// chunks, then a sum over chunks, no barriers (the chunking of the chunked weight gradient).
import { dispatch, type Kernel } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { chunking, sumChunks } from "./_weight_grad_chunked_wgsl.ts";

// Partial bias gradients: invocation (chunk, co) sums dy over the rows of its chunk.
const BIAS_GRAD: Kernel = {
  name: "conv.bias_grad",
  code: /* wgsl */ `
struct P { n: u32, c: u32, h: u32, w: u32, rowsPerChunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chunk = gid.x;
  let c = gid.y;
  if (chunk >= p.chunks) { return; }
  var s = 0.0;
  let r1 = min((chunk + 1u) * p.rowsPerChunk, p.n * p.h);
  for (var r = chunk * p.rowsPerChunk; r < r1; r++) {
    let base = ((r / p.h * p.c + c) * p.h + r % p.h) * p.w;
    for (var i = 0u; i < p.w; i++) { s += dy[base + i]; }
  }
  part[chunk * p.c + c] = s;
}`,
};

/**
 * Bias gradient [c]: dy [n, c, h, w] summed over n, h, w.
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { biasGrad } from "./_bias_grad_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const db = biasGrad(Tensor.from([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2])); // [n 2, c 2, h 1, w 2]
 * console.log(await db.read()); // Float32Array(2) [14, 22]
 * scope.end();
 * ```
 */
export function biasGrad(dy: Tensor): Tensor {
  const [n, c, h, w] = dy.shape;
  const { rowsPerChunk, chunks } = chunking({ rows: n * h, lanesPerChunk: c, floatsPerChunk: c });
  const part = Tensor.empty([chunks, c], { label: "conv.db.part" });
  dispatch(BIAS_GRAD, [dy, part], {
    params: [n, c, h, w, rowsPerChunk, chunks],
    workgroups: [Math.ceil(chunks / 64), c],
  });
  const db = sumChunks(part, { chunks, shape: [c] });
  part.release();
  return db;
}
