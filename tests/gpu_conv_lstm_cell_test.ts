import { Tape } from "../gpu/autograd.ts";
import {
  convLstmCell,
  convLstmCellBackwardReference,
  convLstmCellReference,
} from "../gpu/ops/conv_lstm_cell.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, checkGradient, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";
import { cellInputs, type CellShape, checkConvLstmCell } from "./_op_checks.ts";

type Shape = CellShape;
const dimsOf = ([n, c, h, w]: Shape) => ({ n, c, h, w });
const gatesOf = ([n, c, h, w]: Shape): Shape => [n, 4 * c, h, w];
const SHAPES: Shape[] = [[1, 1, 1, 1], [1, 3, 5, 7], [2, 5, 9, 13], [3, 64, 15, 15]];

for (const output of ["h", "c"] as const) {
  gpuTest(
    `convLstmCell: GPU output ${output} matches reference, forward and backward`,
    async () => {
      for (const s of SHAPES) await checkConvLstmCell(s, output);
    },
  );
}

gpuTest(
  "convLstmCell: gradients of both outputs at once, and saturated gates stay finite",
  async () => {
    const s: Shape = [2, 3, 7, 5];
    const dims = dimsOf(s);
    const [g, c] = cellInputs(s, 11);
    g[0] = 80; // tanh/σ of large arguments must not turn into NaN
    g[1] = -80;
    g[g.length - 1] = 80;
    const gates = Tensor.from(g, gatesOf(s), { requiresGrad: true });
    const cell = Tensor.from(c, s, { requiresGrad: true });
    const gh = randomArray(c.length, 21);
    const gc = randomArray(c.length, 22);
    const seedC = Tensor.from(gc, s);
    const seedH = Tensor.from(gh, s);
    const tape = new Tape();
    const out = tape.run(() => convLstmCell(gates, cell));
    out.c.grad = seedC;
    tape.backward(out.h, seedH);
    const want = convLstmCellBackwardReference({ gates: g, c }, { h: gh, c: gc }, dims);
    const ref = convLstmCellReference(g, c, dims);
    assertClose(await out.h.read(), ref.h, { what: "h" });
    assertClose(await out.c.read(), ref.c, { what: "c" });
    assertClose(await gates.grad!.read(), want.dgates, { what: "dgates" });
    assertClose(await cell.grad!.read(), want.dc, { what: "dc" });
  },
);

Deno.test("convLstmCell: reference backward matches finite differences", () => {
  for (const s of [[1, 1, 1, 1], [2, 3, 4, 5]] as Shape[]) {
    const dims = dimsOf(s);
    const size = s[0] * s[1] * s[2] * s[3];
    checkGradient({
      shapes: [gatesOf(s), s],
      inputs: cellInputs(s, 5),
      forward: ([g, c]) => {
        const r = convLstmCellReference(g, c, dims);
        const both = new Float64Array(2 * size);
        both.set(r.h);
        both.set(r.c, size);
        return both;
      },
      backward: ([g, c], grad) => {
        const r = convLstmCellBackwardReference(
          { gates: g, c },
          { h: grad.subarray(0, size), c: grad.subarray(size) },
          dims,
        );
        return [r.dgates, r.dc];
      },
    });
  }
});
