import {
  convTranspose2dBackwardReference,
  type ConvTranspose2dDims,
  convTranspose2dReference,
} from "../gpu/ops/conv_transpose2d.ts";
import { checkGradient } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { checkConvTranspose2d } from "./_op_checks.ts";

gpuTest("convTranspose2d: GPU matches reference on odd shapes", async () => {
  for (const c of [[1, 1, 1, 1, 1], [2, 3, 5, 7, 2], [1, 5, 3, 9, 3], [3, 2, 4, 11, 5]]) {
    await checkConvTranspose2d(c);
  }
  await checkConvTranspose2d([2, 3, 5, 7, 2], false);
});

gpuTest("convTranspose2d: realistic channels 64→32 at 15×13", async () => {
  await checkConvTranspose2d([2, 64, 15, 13, 32], true, 1e-3);
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
