// Kernel benchmark cases at the default network's shapes (240×240 input, widths 32-64-64-64),
// shared by kernels_bench.ts (deno bench) and kernels_report.ts (GFLOP/s table).
import { dispatch, f32Bits, type Kernel } from "../gpu/kernel.ts";
import { conv2d, conv2dBackward } from "../gpu/ops/conv2d.ts";
import { convTranspose2d, convTranspose2dBackward } from "../gpu/ops/conv_transpose2d.ts";
import type { ChunkedGradTile, ConvTile, WindowGradTile, WinogradTile } from "../gpu/ops/tiles.ts";
import { Tensor } from "../gpu/tensor.ts";

/** One timed kernel run: `run` encodes the work (not submitted) and releases what it made. */
export interface KernelCase {
  group: string;
  name: string;
  /** Floating-point operations of one run (multiply-add = 2). */
  flops: number;
  /** Allocates inputs; returns the encoder of one run and a disposer. */
  setup(): { run(): void; dispose(): void };
}

const inputs = new Map<string, Tensor>();

// Inputs are shared by every case of the same shape (variants compare on the same data).
function random(shape: number[], seed: number): Tensor {
  const key = `${shape}/${seed}`;
  const cached = inputs.get(key);
  if (cached) return cached;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  const t = Tensor.from(data, shape).keep();
  inputs.set(key, t);
  return t;
}

/** Releases the shared inputs (between groups of cases). */
export function releaseInputs(): void {
  for (const t of inputs.values()) t.release();
  inputs.clear();
}

/** A conv shape: batch, channels in and out, size (square), kernel. */
export interface ConvShape {
  label: string;
  n: number;
  cin: number;
  cout: number;
  size: number;
  k: number;
}

/** Training batch: batch 3 × sequence 3 slices per modality encoder. */
export const TRAIN_N = 9;

/** Every conv of the default network (MME + CMC + convLSTM + decoder), at batch n. */
export function networkConvs(n: number): ConvShape[] {
  return [
    { label: "enc1 3×3 1→32 @240", n, cin: 1, cout: 32, size: 240, k: 3 },
    { label: "enc2 3×3 32→64 @120", n, cin: 32, cout: 64, size: 120, k: 3 },
    { label: "enc3 3×3 64→64 @60", n, cin: 64, cout: 64, size: 60, k: 3 },
    { label: "enc4 3×3 64→64 @30", n, cin: 64, cout: 64, size: 30, k: 3 },
    { label: "lstm 3×3 64→256 @15", n, cin: 64, cout: 256, size: 15, k: 3 },
    { label: "dec1 3×3 64→64 @30", n, cin: 64, cout: 64, size: 30, k: 3 },
    { label: "dec2 3×3 64→64 @60", n, cin: 64, cout: 64, size: 60, k: 3 },
    { label: "dec3 3×3 32→32 @120", n, cin: 32, cout: 32, size: 120, k: 3 },
    { label: "dec4 3×3 32→32 @240", n, cin: 32, cout: 32, size: 240, k: 3 },
    { label: "probe 3×3 64→64 @120", n, cin: 64, cout: 64, size: 120, k: 3 },
    { label: "cmc1 1×1 128→32 @120", n, cin: 128, cout: 32, size: 120, k: 1 },
    { label: "cmc2 1×1 256→64 @60", n, cin: 256, cout: 64, size: 60, k: 1 },
    { label: "cmc4 1×1 256→64 @15", n, cin: 256, cout: 64, size: 15, k: 1 },
    { label: "head 1×1 32→4 @240", n, cin: 32, cout: 4, size: 240, k: 1 },
  ];
}

/** Transposed convs of the decoder: input size (square), channels. */
export function networkTransposed(n: number): ConvShape[] {
  return [
    { label: "up1 2×2/2 64→64 15→30", n, cin: 64, cout: 64, size: 15, k: 2 },
    { label: "up2 2×2/2 64→64 30→60", n, cin: 64, cout: 64, size: 30, k: 2 },
    { label: "up3 2×2/2 64→32 60→120", n, cin: 64, cout: 32, size: 60, k: 2 },
    { label: "up4 2×2/2 32→32 120→240", n, cin: 32, cout: 32, size: 120, k: 2 },
  ];
}

/** Options of the conv cases (register tiles, for tuning). */
export interface ConvCaseOptions {
  tile?: ConvTile;
  chunkedGradTile?: ChunkedGradTile;
  algorithm?: "winograd" | "direct";
  winogradTile?: WinogradTile;
  gradAlgorithm?: "rows" | "window" | "chunked";
  windowGradTile?: WindowGradTile;
  suffix?: string;
}

/** Forward, backward-to-input and backward-to-weights (+bias) cases of one conv. */
export function convCases(s: ConvShape, options: ConvCaseOptions = {}): KernelCase[] {
  const flops = 2 * s.n * s.size * s.size * s.cin * s.cout * s.k * s.k;
  const group = s.label;
  const tag = options.suffix ? ` ${options.suffix}` : "";
  const make = (pass: "forward" | "dx" | "dw") => () => {
    const x = random([s.n, s.cin, s.size, s.size], 1);
    const w = random([s.cout, s.cin, s.k, s.k], 2);
    const b = random([s.cout], 3);
    const gy = random([s.n, s.cout, s.size, s.size], 4);
    return {
      run() {
        if (pass === "forward") {
          conv2d(x, w, { ...options, bias: b }).release();
          return;
        }
        const g = conv2dBackward({ x, weight: w, gy }, {
          ...options,
          wantInput: pass === "dx",
          wantWeight: pass === "dw",
          wantBias: pass === "dw",
        });
        g.dx?.release();
        g.dw?.release();
        g.db?.release();
      },
      dispose() {},
    };
  };
  return [
    { group, name: `${s.label} forward${tag}`, flops, setup: make("forward") },
    { group, name: `${s.label} dx${tag}`, flops, setup: make("dx") },
    { group, name: `${s.label} dw+db${tag}`, flops, setup: make("dw") },
  ];
}

/** Forward and backward cases of one transposed conv (s.size = input size). */
export function transposedCases(s: ConvShape): KernelCase[] {
  const flops = 2 * s.n * s.size * s.size * s.cin * s.cout * 4;
  const make = (pass: "forward" | "dx" | "dw") => () => {
    const x = random([s.n, s.cin, s.size, s.size], 1);
    const w = random([s.cin, s.cout, 2, 2], 2);
    const b = random([s.cout], 3);
    const gy = random([s.n, s.cout, 2 * s.size, 2 * s.size], 4);
    return {
      run() {
        if (pass === "forward") {
          convTranspose2d(x, w, { bias: b }).release();
          return;
        }
        const g = convTranspose2dBackward({ x, weight: w, gy }, {
          wantInput: pass === "dx",
          wantWeight: pass === "dw",
          wantBias: pass === "dw",
        });
        g.dx?.release();
        g.dw?.release();
        g.db?.release();
      },
      dispose() {},
    };
  };
  return (["forward", "dx", "dw"] as const).map((pass) => ({
    group: s.label,
    name: `${s.label} ${pass === "dw" ? "dw+db" : pass}`,
    flops,
    setup: make(pass),
  }));
}

// Register-only FMA loop: 4 independent vec4 chains per invocation, nothing read in the loop.
const FMA_LOOP: Kernel = {
  name: "bench.fma_loop",
  code: /* wgsl */ `
struct P { iters: u32, a: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let a = vec4f(bitcast<f32>(p.a));
  let s = f32(gid.x) * 1e-9;
  var r0 = vec4f(s, s + 1.0, s + 2.0, s + 3.0);
  var r1 = r0 + 0.5; var r2 = r0 + 0.25; var r3 = r0 + 0.125;
  for (var i = 0u; i < p.iters; i++) {
    r0 = fma(r0, a, a); r1 = fma(r1, a, a); r2 = fma(r2, a, a); r3 = fma(r3, a, a);
    r0 = fma(r0, a, a); r1 = fma(r1, a, a); r2 = fma(r2, a, a); r3 = fma(r3, a, a);
  }
  let t = r0 + r1 + r2 + r3;
  out[gid.x] = t.x + t.y + t.z + t.w;
}`,
};

/** The FMA ceiling case. */
export function fmaCase(): KernelCase {
  const invocations = 64 * 512;
  const iters = 2048;
  return {
    group: "ceilings",
    name: "register-only FMA loop",
    flops: invocations * iters * 8 * 4 * 2,
    setup() {
      const out = Tensor.empty([invocations]);
      return {
        run: () =>
          dispatch(FMA_LOOP, [out], {
            params: [iters, f32Bits(0.999)],
            workgroups: invocations / 64,
          }),
        dispose: () => out.release(),
      };
    },
  };
}

// Tiled matmul C[m,n] = A[m,k]·B[k,n]: 8×8 invocations, each 4×4 outputs of a 32×32 tile,
// A and B tiles staged in workgroup memory.
const MATMUL: Kernel = {
  name: "bench.matmul_tiled",
  code: /* wgsl */ `
struct P { m: u32, n: u32, k: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
var<workgroup> ta: array<array<f32, 32>, 32>;
var<workgroup> tb: array<array<f32, 32>, 32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * 32u;
  let col0 = wid.x * 32u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < p.k; k0 += 32u) {
    for (var i = 0u; i < 16u; i++) {
      let e = (lid.y * 8u + lid.x) * 16u + i;
      let r = e / 32u; let q = e % 32u;
      ta[r][q] = a[(row0 + r) * p.k + k0 + q];
      tb[r][q] = b[(k0 + r) * p.n + col0 + q];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk++) {
      let bv = vec4f(tb[kk][lid.x * 4u], tb[kk][lid.x * 4u + 1u], tb[kk][lid.x * 4u + 2u], tb[kk][lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4f(ta[lid.y * 4u + i][kk]), bv, acc[i]); }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let o = (row0 + lid.y * 4u + i) * p.n + col0 + lid.x * 4u;
    c[o] = acc[i].x; c[o + 1u] = acc[i].y; c[o + 2u] = acc[i].z; c[o + 3u] = acc[i].w;
  }
}`,
};

/** The tiled matmul ceiling case (square, size a multiple of 32). */
export function matmulCase(size = 512): KernelCase {
  return {
    group: "ceilings",
    name: `tiled matmul ${size}²`,
    flops: 2 * size ** 3,
    setup() {
      const a = random([size, size], 5);
      const b = random([size, size], 6);
      const c = Tensor.empty([size, size]);
      return {
        run: () =>
          dispatch(MATMUL, [a, b, c], {
            params: [size, size, size],
            workgroups: [size / 32, size / 32],
          }),
        dispose: () => c.release(),
      };
    },
  };
}

/** Every case of the default network plus the ceilings. */
export function allCases(): KernelCase[] {
  return [
    fmaCase(),
    matmulCase(),
    ...networkConvs(TRAIN_N).flatMap((s) => convCases(s)),
    ...networkTransposed(TRAIN_N).flatMap((s) => transposedCases(s)),
    ...[1, 3].flatMap((n) =>
      networkConvs(n).filter((s) => s.label.startsWith("enc")).map((s) => ({
        ...convCases({ ...s, label: `${s.label} N=${n}` })[0],
        group: `inference N=${n}`,
      }))
    ),
  ];
}
