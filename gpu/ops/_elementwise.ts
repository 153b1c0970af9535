// This module is browser compatible.
// Element-wise kernels from one expression: a vec4 variant (4 contiguous vec4 per invocation) when the
// size allows, else f32. On llvmpipe this runs 2-3× faster than one f32 per invocation.
import { dispatch, gridFor, type Kernel, LINEAR_INDEX } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

/** A kernel pair: `inputs` (read) then `outputs` (written from WGSL expressions over inputs). */
export interface Elementwise {
  vec4: Kernel;
  scalar: Kernel;
}

const PER_INVOCATION = 4;

function build(name: string, inputs: string[], outputs: [string, string][], type: string): Kernel {
  const decl = [
    ...inputs.map((v, k) => `@group(0) @binding(${k + 1}) var<storage, read> ${v}_: array<T>;`),
    ...outputs.map(([v], k) =>
      `@group(0) @binding(${inputs.length + k + 1}) var<storage, read_write> ${v}_: array<T>;`
    ),
  ].join("\n");
  return {
    name,
    code: /* wgsl */ `
alias T = ${type};
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
${decl}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let base = (${LINEAR_INDEX}) * ${PER_INVOCATION}u;
  for (var k = 0u; k < ${PER_INVOCATION}u; k++) {
    let i = base + k;
    if (i >= p.n) { return; }
    ${inputs.map((v) => `let ${v} = ${v}_[i];`).join(" ")}
    ${outputs.map(([v, e]) => `${v}_[i] = ${e};`).join(" ")}
  }
}`,
  };
}

/** Builds the vec4 and f32 kernels; expressions use the input names and the type alias `T`. */
export function elementwise(
  name: string,
  inputs: string[],
  outputs: [string, string][],
): Elementwise {
  return {
    vec4: build(`${name}.vec4`, inputs, outputs, "vec4<f32>"),
    scalar: build(name, inputs, outputs, "f32"),
  };
}

/** Dispatches over `n` elements: inputs first, then outputs, in declaration order. */
export function runElementwise(kernels: Elementwise, tensors: Tensor[], n: number): void {
  const vec = n % 4 === 0;
  const items = vec ? n / 4 : n;
  dispatch(vec ? kernels.vec4 : kernels.scalar, tensors, {
    params: [items],
    workgroups: gridFor(Math.ceil(items / PER_INVOCATION)),
  });
}
