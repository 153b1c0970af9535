// What one memory access costs on this adapter, by where the data lives: the measurement behind
// reading conv inputs from textures (gpu/ops/_conv_texture.ts). Each case runs a loop of 512
// accesses per invocation at lane-varying addresses (a gather or scatter) or lane-uniform ones,
// over 512 workgroups of 64; "net" subtracts the loop without an access.
// `--help` for the flags.
import { describeAdapter, getDevice } from "../gpu/device.ts";
import { dispatch, flush } from "../gpu/kernel.ts";
import { Tensor } from "../gpu/tensor.ts";
import { benchArgs, benchInt } from "./_args.ts";

const values = benchArgs("usage: deno run -A bench/load_costs.ts [--reps 5]", {
  reps: { type: "string", default: "5" },
});
const reps = benchInt("reps", values.reps, 1);
const device = await getDevice();
console.log(`Adapter: ${await describeAdapter({ backend: Deno.env.get("DENO_WEBGPU_BACKEND") })}`);

const ITER = 512, GROUPS = 512, LANES = 64;
// a = lane-varying address, u = lane-uniform address (same for every lane of a workgroup).
const a = "(base + i * 97u)", u = "(wid.x + i * 97u)";
const CASES: { name: string; floats: number; body: string }[] = [
  { name: "nothing (loop only)", floats: 0, body: "let v = f32(i) * 1.0001;" },
  { name: "storage f32, gather", floats: 1, body: `let v = xs[${a} & 16383u];` },
  {
    name: "storage vec4, gather",
    floats: 4,
    body: `let q = xs4[${a} & 4095u]; let v = q.x + q.y + q.z + q.w;`,
  },
  { name: "storage f32, uniform address", floats: 1, body: `let v = xs[${u} & 16383u];` },
  {
    name: "uniform vec4, gather",
    floats: 4,
    body: `let q = xu[${a} & 4095u]; let v = q.x + q.y + q.z + q.w;`,
  },
  {
    name: "uniform vec4, uniform address",
    floats: 4,
    body: `let q = xu[${u} & 4095u]; let v = q.x + q.y + q.z + q.w;`,
  },
  { name: "workgroup f32, gather", floats: 1, body: `let v = sh[${a} & 1023u];` },
  {
    name: "texture rgba32float, gather",
    floats: 4,
    body:
      `let q = textureLoad(xt, vec3u(${a} & 15u, (${a} >> 4u) & 15u, (${a} >> 8u) & 15u), 0); let v = q.x + q.y + q.z + q.w;`,
  },
  {
    name: "storage f32 store, scatter",
    floats: 1,
    body: `ys[${a} & 16383u] = f32(i); let v = 0.0;`,
  },
  {
    name: "storage vec4 store, scatter",
    floats: 4,
    body: `ys4[${a} & 4095u] = vec4f(f32(i)); let v = 0.0;`,
  },
  {
    name: "texture rgba32float store, scatter",
    floats: 4,
    body:
      `textureStore(yt, vec3u(${a} & 15u, (${a} >> 4u) & 15u, (${a} >> 8u) & 15u), vec4f(f32(i))); let v = 0.0;`,
  },
];

function kernelFor(body: string): { name: string; code: string } {
  return {
    name: "probe.load_cost",
    code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> xs4: array<vec4f>;
@group(0) @binding(2) var<uniform> xu: array<vec4f, 4096>;
@group(0) @binding(3) var xt: texture_3d<f32>;
@group(0) @binding(4) var<storage, read_write> ys: array<f32>;
@group(0) @binding(5) var<storage, read_write> ys4: array<vec4f>;
@group(0) @binding(6) var yt: texture_storage_3d<rgba32float, write>;
var<workgroup> sh: array<f32, 1024>;
@compute @workgroup_size(${LANES})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  for (var k = li; k < 1024u; k += ${LANES}u) { sh[k] = f32(k); }
  workgroupBarrier();
  let base = gid.x * 13u;
  var acc = 0.0;
  for (var i = 0u; i < ${ITER}u; i++) { ${body} acc += v; }
  // Reads every binding (so "auto" layouts keep them all) and keeps acc alive.
  if (acc == -1.0) {
    ys[0] = xs[0] + xs4[0].x + xu[0].x + textureLoad(xt, vec3u(0u), 0).x + sh[0];
    ys4[0] = vec4f(acc);
    textureStore(yt, vec3u(0u), vec4f(acc));
  }
}`,
  };
}

const texture = (usage: number) =>
  device.createTexture({ size: [16, 16, 16], dimension: "3d", format: "rgba32float", usage });
const src = Tensor.zeros([16384]);
const dstScalar = Tensor.zeros([16384]);
const dstVec4 = Tensor.zeros([16384]);
const xt = texture(GPUTextureUsage.TEXTURE_BINDING).createView();
const yt = texture(GPUTextureUsage.STORAGE_BINDING).createView();
const bindings = [src, src, src.binding(), xt, dstScalar, dstVec4, yt];

async function timeCase(body: string, reps: number): Promise<number[]> {
  const kernel = kernelFor(body);
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    dispatch(kernel, bindings, { workgroups: GROUPS });
    flush();
    await device.queue.onSubmittedWorkDone();
    if (r > 0) times.push(performance.now() - t0); // the first run compiles
  }
  return times.sort((x, y) => x - y);
}

const accesses = ITER * GROUPS * LANES;
const rows: string[] = [];
let loop = 0;
for (const c of CASES) {
  const times = await timeCase(c.body, reps);
  const ns = (times[0] * 1e6) / accesses;
  if (c.floats === 0) loop = ns;
  const net = ns - loop;
  const perFloat = c.floats ? (net / c.floats).toFixed(2) : "";
  rows.push(
    `| ${c.name} | ${times[0].toFixed(1)} | ${ns.toFixed(2)} | ${
      c.floats ? net.toFixed(2) : ""
    } | ${perFloat} |`,
  );
}
console.log(
  `\n${reps} runs each, fastest; ns per access and lane (${accesses} accesses per run)\n`,
);
console.log("| access | ms | ns | net ns | net ns per float |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(r);

// The fixed cost of a dispatch: many one-workgroup dispatches, each with its own bind group.
const TINY = {
  name: "probe.dispatch",
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) { y[li] = y[li] + 1.0; }`,
};
const DISPATCHES = 2000;
let bestPer = Infinity;
for (let r = 0; r <= reps; r++) {
  const t0 = performance.now();
  for (let i = 0; i < DISPATCHES; i++) dispatch(TINY, [dstScalar], { workgroups: 1 });
  flush();
  await device.queue.onSubmittedWorkDone();
  if (r > 0) bestPer = Math.min(bestPer, (performance.now() - t0) / DISPATCHES);
}
console.log(
  `\none dispatch (one workgroup of 64, own bind group, encoded and run): ${
    (bestPer * 1000).toFixed(1)
  } µs`,
);
for (const t of [src, dstScalar, dstVec4]) t.release();
