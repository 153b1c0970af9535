import assert from "node:assert/strict";
import { Tensor } from "../gpu/tensor.ts";
import {
  conv2d,
  conv2dBackwardReference,
  type Conv2dOptions,
  conv2dReference,
} from "../gpu/ops/conv2d.ts";
import { prepackConv2d } from "../gpu/ops/conv2d_prepack.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { checkConv2d, conv2dDims } from "./_op_checks.ts";

// [n, cin, h, w, cout, k]: odd sizes, single channels, channel counts not multiples of the tiles.
const CASES: number[][] = [
  [1, 1, 1, 1, 1, 3],
  [1, 1, 5, 7, 1, 3],
  [2, 3, 9, 11, 5, 3],
  [1, 5, 4, 13, 9, 1],
  [3, 2, 6, 17, 13, 3],
  [2, 7, 3, 9, 4, 1],
];

gpuTest("conv2d: GPU matches reference on odd shapes, with bias", async () => {
  for (const c of CASES) await checkConv2d(c, true);
});

gpuTest("conv2d: GPU matches reference without bias", async () => {
  for (const c of CASES.slice(0, 3)) await checkConv2d(c, false);
});

gpuTest("conv2d: realistic channels 32→64 at 17×13 and 1×1 256→64", async () => {
  await checkConv2d([2, 32, 17, 13, 64, 3], true, { tol: 1e-3 });
  await checkConv2d([1, 256, 5, 7, 64, 1], true, { tol: 1e-3 });
});

gpuTest("conv2d: inputs wider than one uniform slice (Cin 600, 3×3)", async () => {
  await checkConv2d([1, 600, 3, 5, 6, 3], true, { tol: 1e-3 });
});

Deno.test("conv2d: reference backward matches finite differences", () => {
  for (const c of [[1, 2, 4, 5, 3, 3], [2, 3, 3, 4, 2, 1]]) {
    const d = conv2dDims(c);
    checkGradient({
      shapes: [[d.n, d.cin, d.h, d.w], [d.cout, d.cin, d.k, d.k], [d.cout]],
      forward: ([x, w, b]) => conv2dReference(x, w, b, d),
      backward: ([x, w], g) => {
        const r = conv2dBackwardReference(x, w, g, d);
        return [r.dx, r.dw, r.db];
      },
    });
  }
});

const VARIANTS: Conv2dOptions[] = [
  { algorithm: "direct" },
  { algorithm: "direct", tile: { px: 4, co: 4, padded: true } },
  { algorithm: "direct", tile: { px: 8, co: 8, padded: false } },
  { algorithm: "direct", tile: { px: 12, co: 4, texture: true } },
  {
    algorithm: "direct",
    tile: { px: 5, co: 12 },
    gradAlgorithm: "chunked",
    chunkedGradTile: { px: 3, co: 4, ci: 4 },
  },
  { gradAlgorithm: "chunked" },
  { gradAlgorithm: "chunked", chunkedGradTile: { px: 8, co: 4, ci: 3, texture: true } },
  { gradAlgorithm: "window", windowGradTile: { px: 3, co: 12 } },
  { gradAlgorithm: "window", windowGradTile: { px: 4, co: 8, padded: true } },
  { gradAlgorithm: "window", windowGradTile: { px: 4, co: 16, texture: true } },
  { algorithm: "winograd", winogradTile: { tiles: 3, co: 12 } },
  { algorithm: "winograd", winogradTile: { tiles: 2, co: 8, padded: true } },
  { algorithm: "winograd", winogradTile: { tiles: 4, co: 4, padded: true } },
  { algorithm: "winograd", winogradTile: { tiles: 6, co: 4, texture: true } },
];

gpuTest("conv2d: direct and Winograd kernels, other register tiles, agree", async () => {
  for (
    const c of [[2, 6, 7, 11, 13, 3], [1, 1, 1, 2, 1, 3], [2, 17, 6, 5, 14, 3], [1, 20, 3, 4, 5, 1]]
  ) {
    const d = conv2dDims(c);
    for (const options of VARIANTS) {
      await checkOp({
        shapes: [[d.n, d.cin, d.h, d.w], [d.cout, d.cin, d.k, d.k], [d.cout]],
        reference: ([x, w, b]) => conv2dReference(x, w, b, d),
        gpu: ([x, w, b]) => conv2d(x, w, { ...options, bias: b }),
        referenceBackward: ([x, w], g) => {
          const r = conv2dBackwardReference(x, w, g, d);
          return [r.dx, r.dw, r.db];
        },
      });
    }
  }
});

gpuTest("conv2d relu: the fused ReLU clamps the output and masks the gradient", async () => {
  // Cin 600 spreads the weights over several uniform slices: only the last may clamp.
  for (const c of [[2, 6, 7, 11, 13, 3], [1, 600, 3, 5, 6, 3], [2, 7, 3, 9, 4, 1]]) {
    // 1×1 convs run the direct kernel either way.
    for (const conv of c[5] === 3 ? [{}, { algorithm: "direct" as const }] : [{}]) {
      await checkConv2d(c, true, { tol: 1e-3, relu: true, conv });
    }
  }
});

gpuTest(
  "conv2d: inputs deeper than one texture (n·cin > 2048 planes) fold planes into its height",
  async () => {
    // The textures of x (forward, weight gradient) hold 2 × 1100 planes; 12 outputs span two co tiles.
    for (const conv of [{}, { algorithm: "direct" as const }]) {
      await checkConv2d([2, 1100, 3, 5, 12, 3], true, { tol: 1e-3, conv });
    }
    await checkConv2d([2, 1100, 3, 5, 12, 1], true, { tol: 1e-3 });
    // 3 input channels: the chunked weight gradient reads dy's 2 × 1100 planes from a folded texture.
    await checkConv2d([2, 3, 3, 5, 1100, 3], true, {
      tol: 1e-3,
      conv: { gradAlgorithm: "chunked" },
    });
  },
);

gpuTest(
  "conv2d: prepacked weights give the same output; re-packing follows a weight change",
  async () => {
    for (const [cin, cout, k] of [[6, 13, 3], [5, 9, 1]]) {
      const d = { n: 2, cin, h: 7, w: 9, cout, k };
      const xs = Float32Array.from({ length: d.n * cin * d.h * d.w }, (_, i) => Math.sin(i));
      const ws = Float32Array.from({ length: cout * cin * k * k }, (_, i) => Math.cos(i * 0.7));
      const bs = Float32Array.from({ length: cout }, (_, i) => i / 10);
      const x = Tensor.from(xs, [d.n, cin, d.h, d.w]);
      const w = Tensor.from(ws, [cout, cin, k, k]);
      const b = Tensor.from(bs, [cout]);
      let packed = prepackConv2d(w, { bias: b });
      const first = await conv2d(x, w, { bias: b, prepacked: packed }).read();
      const want = conv2dReference(xs, ws, bs, d);
      first.forEach((v, i) =>
        assert.ok(Math.abs(v - want[i]) < 1e-3, `y[${i}] ${v} vs ${want[i]}`)
      );
      assert.throws(() => conv2d(x, w, { bias: null, prepacked: packed }), /prepacked/);
      // New weights: the old pack is stale; a fresh pack follows the change.
      const ws2 = ws.map((v) => -2 * v);
      w.write(ws2);
      packed.release();
      assert.throws(() => conv2d(x, w, { bias: b, prepacked: packed }), /prepacked/);
      packed = prepackConv2d(w, { bias: b });
      const second = await conv2d(x, w, { bias: b, prepacked: packed }).read();
      const want2 = conv2dReference(xs, ws2, bs, d);
      second.forEach((v, i) => assert.ok(Math.abs(v - want2[i]) < 1e-3, `y2[${i}]`));
      assert.ok(second.some((v, i) => Math.abs(v - first[i]) > 1e-2), "output changed");
      for (const t of [x, w, b]) t.release();
      packed.release();
    }
  },
);
