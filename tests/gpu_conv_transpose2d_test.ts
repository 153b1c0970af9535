import {
  convTranspose2d,
  convTranspose2dBackwardReference,
  type ConvTranspose2dDims,
  convTranspose2dReference,
} from "../gpu/ops/conv_transpose2d.ts";
import { checkGradient, checkOp } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

async function check([n, cin, h, w, cout]: number[], withBias = true, tol = 1e-4): Promise<void> {
  const d: ConvTranspose2dDims = { n, cin, h, w, cout };
  const shapes = [[n, cin, h, w], [cin, cout, 2, 2]];
  if (withBias) shapes.push([cout]);
  await checkOp({
    shapes,
    reference: ([x, wt, b]) => convTranspose2dReference(x, wt, b ?? null, d),
    gpu: ([x, wt, b]) => convTranspose2d(x, wt, { bias: b ?? null }),
    referenceBackward: ([x, wt, b], g) => {
      const r = convTranspose2dBackwardReference(x, wt, g, d);
      return b ? [r.dx, r.dw, r.db] : [r.dx, r.dw];
    },
    atol: tol,
    rtol: tol,
  });
}

gpuTest("convTranspose2d: GPU matches reference on odd shapes", async () => {
  for (const c of [[1, 1, 1, 1, 1], [2, 3, 5, 7, 2], [1, 5, 3, 9, 3], [3, 2, 4, 11, 5]]) {
    await check(c);
  }
  await check([2, 3, 5, 7, 2], false);
});

gpuTest("convTranspose2d: realistic channels 64→32 at 15×13", async () => {
  await check([2, 64, 15, 13, 32], true, 1e-3);
});

Deno.test("convTranspose2d: reference backward matches finite differences", () => {
  const d: ConvTranspose2dDims = { n: 2, cin: 3, h: 2, w: 3, cout: 2 };
  checkGradient({
    shapes: [[d.n, d.cin, d.h, d.w], [d.cin, d.cout, 2, 2], [d.cout]],
    forward: ([x, w, b]) => convTranspose2dReference(x, w, b, d),
    backward: ([x, w], g) => {
      const r = convTranspose2dBackwardReference(x, w, g, d);
      return [r.dx, r.dw, r.db];
    },
  });
});
