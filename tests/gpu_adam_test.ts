import assert from "node:assert/strict";
import { dispatch, encoder, flush, gridFor, LINEAR_INDEX } from "../gpu/kernel.ts";
import { adamReference, adamStep } from "../gpu/ops/adam.ts";
import { PARAMETER_ALIGNMENT, ParameterStore } from "../gpu/parameters.ts";
import { Tensor } from "../gpu/tensor.ts";
import { assertClose, randomArray } from "./_check_op.ts";
import { gpuTest } from "./_gpu.ts";

// Odd sizes, so every parameter but the first starts after padding.
const SHAPES: Record<string, number[]> = { a: [3, 5], b: [1], c: [2, 3, 3, 3], d: [130] };

function makeStore(seed: number): ParameterStore {
  const store = new ParameterStore({ capacity: 4096 });
  let k = 0;
  for (const [name, shape] of Object.entries(SHAPES)) {
    store.add(name, shape, randomArray(shape.reduce((a, b) => a * b, 1), seed + k++));
  }
  return store;
}

// Writes a value into a view through a kernel, so the test sees exactly what kernels see.
const FILL = {
  name: "test.fill",
  code: `
struct P { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i < p.n) { y[i] = p.value + f32(i); }
}`,
};

gpuTest("ParameterStore: views are 256-byte aligned and bind to their own span", async () => {
  const store = makeStore(1);
  try {
    assert.equal(store.count, 15 + 1 + 54 + 130);
    assert.equal(store.length, 64 + 64 + 64 + 192);
    for (const [name, t] of store.entries()) {
      assert.equal(t.offset % 256, 0, `${name} offset ${t.offset}`);
      assert.equal(t.grad!.offset, t.offset);
      assert.ok(t.requiresGrad);
    }
    const c = store.get("c");
    dispatch(FILL, [c], { params: [c.size, 0x40000000 /* 2.0 */], workgroups: gridFor(c.size) });
    const values = await store.read();
    assertClose(values.get("c")!, Float64Array.from({ length: 54 }, (_, i) => 2 + i));
    // Neighbours are untouched by a kernel bound to the view.
    assertClose(values.get("b")!, randomArray(1, 2), { what: "b" });
    assertClose(values.get("d")!, randomArray(130, 4), { what: "d" });
    assert.deepEqual([...store.entries()].map(([n]) => n), ["a", "b", "c", "d"]);
  } finally {
    store.destroy();
  }
});

gpuTest("ParameterStore: load/read round trip and clear errors", async () => {
  const store = makeStore(1);
  try {
    const values = new Map(
      Object.entries(SHAPES).map((
        [n, s],
        k,
      ) => [n, randomArray(s.reduce((a, b) => a * b), 40 + k)]),
    );
    store.load(values);
    const back = await store.read();
    for (const [name, v] of values) assertClose(back.get(name)!, v, { what: name });
    assert.throws(() => store.load(new Map([["a", new Float32Array(15)]])), /no values for "b"/);
    values.set("d", new Float64Array(3));
    assert.throws(() => store.load(values), /"d".*3 values, expected 130/);
    assert.throws(() => store.add("a", [1], [0]), /added twice/);
    assert.throws(() => store.add("e", [2, 2], [0]), /needs 4 initial values/);
    assert.throws(() => store.add("big", [5000], new Float32Array(5000)), /capacity/);
  } finally {
    store.destroy();
  }
});

/** Writes `grads` into the store's gradient views through a kernel. */
function setGrads(store: ParameterStore, grads: Map<string, Float64Array>): void {
  store.zeroGrad();
  for (const [name, g] of grads) {
    const t = store.get(name);
    const gt = Tensor.from(g, t.shape);
    dispatch(COPY, [t.grad!, gt], { params: [t.size], workgroups: gridFor(t.size) });
  }
}

gpuTest("adamStep: matches the reference over several steps, state survives a resume", async () => {
  const options = { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };
  const store = makeStore(10);
  const resumed = makeStore(77);
  try {
    const names = Object.keys(SHAPES);
    const ref = new Map<string, { param: Float64Array; m: Float64Array; v: Float64Array }>(
      names.map((n, k) => {
        const size = store.get(n).size;
        return [n, {
          param: randomArray(size, 10 + k),
          m: new Float64Array(size),
          v: new Float64Array(size),
        }];
      }),
    );
    for (let step = 1; step <= 5; step++) {
      // Gradients of very different scales exercise the moment normalisation.
      const grads = new Map(names.map((name, k) => {
        const size = store.get(name).size;
        return [name, randomArray(size, 100 * step + k, -(10 ** (k - 2)), 10 ** (k - 2))];
      }));
      for (const [name, g] of grads) {
        ref.set(name, adamReference({ ...ref.get(name)!, grad: g }, { ...options, step }));
      }
      setGrads(store, grads);
      adamStep(store, options);
      if (step > 3) {
        setGrads(resumed, grads);
        adamStep(resumed, options);
      }
      if (step === 3) {
        // Resume: a store with other values gets the parameters and optimizer state after step 3.
        resumed.load(await store.read());
        resumed.loadState(await store.readState());
        assert.equal(resumed.step, 3);
      }
    }
    assert.equal(store.step, 5);
    const got = await store.read();
    const state = await store.readState();
    for (const name of names) {
      const r = ref.get(name)!;
      assertClose(got.get(name)!, r.param, { atol: 1e-6, rtol: 1e-5, what: `${name} param` });
      assertClose(state.m.get(name)!, r.m, { atol: 1e-7, rtol: 1e-5, what: `${name} m` });
      assertClose(state.v.get(name)!, r.v, { atol: 1e-9, rtol: 1e-5, what: `${name} v` });
    }
    const again = await resumed.read();
    for (const name of names) {
      assertClose(again.get(name)!, got.get(name)!, { atol: 0, rtol: 0, what: `resumed ${name}` });
    }
  } finally {
    store.destroy();
    resumed.destroy();
  }
});

const COPY = {
  name: "test.copy",
  code: `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i < p.n) { y[i] = x[i]; }
}`,
};

gpuTest("adamStep: one dispatch over the whole store; padding stays zero", async () => {
  const store = makeStore(3);
  try {
    flush();
    const before = encoder.dispatchCount;
    adamStep(store, { lr: 0.1 });
    assert.equal(encoder.dispatchCount - before, 1);
    // Read the whole flat buffer, padding included, through an unaligned-size view.
    const flat = await new Tensor([store.length], store.bindings.param.buffer).read();
    for (const [, t] of store.entries()) {
      const start = t.offset / 4;
      const end = start + Math.ceil(t.size / PARAMETER_ALIGNMENT) * PARAMETER_ALIGNMENT;
      for (let i = start + t.size; i < end; i++) assert.equal(flat[i], 0, `padding at ${i}`);
    }
  } finally {
    store.destroy();
  }
});

Deno.test("adamReference: first step moves each weight by lr against its gradient's sign", () => {
  const r = adamReference({ param: [1, 1], grad: [0.5, -3], m: [0, 0], v: [0, 0] }, {
    lr: 0.1,
    step: 1,
  });
  assertClose(r.param, [0.9, 1.1], { atol: 1e-6 });
});
