// This module is browser compatible.
// The epilogue of the Winograd F(2×2, 3×3) kernel (private to gpu/ops): output transform and stores.

// With `pool`, each 2×2 tile is one pixel of the 2×2/2 max-pooled output: its maximum plus the
// bias (ReLU if asked) is all that is stored (single input slice only: no partial sums to add).
function pooledStore(t: number, j: number, c: number): string {
  const v = (a: number, b: number) => `y${t}_${j}_${a}_${b}[${c}]`;
  return `{ let cg = p.coBase + cb + ${j * 4 + c}u; let px = ox0 / 2u + ${t}u;
    if (cg < p.cout && oy0 / 2u < p.h / 2u && px < p.w / 2u) {
      let v = max(max(${v(0, 0)}, ${v(0, 1)}), max(${v(1, 0)}, ${v(1, 1)})) + wt[(p.biasAt + cb + ${
    j * 4 + c
  }u) / 4u][(p.biasAt + cb + ${j * 4 + c}u) % 4u];
      y[((n * p.cout + cg) * (p.h / 2u) + oy0 / 2u) * (p.w / 2u) + px] = select(v, max(v, 0.0), p.relu == 1u); } }`;
}

/**
 * WGSL of the Winograd kernel's epilogue: the output transform Aᵀ·M·A of each tile and output
 * vec4 from the products m{tile}_{16 entries}_{vec4}, then bias (first input slice only), the
 * optional ReLU and the stores into y (or, with `pool`, one max-pooled pixel per tile).
 *
 * @example
 * ```ts
 * import { tileStores } from "./_winograd_stores.ts";
 * const lines = tileStores(2, 2, false);
 * console.log(lines.some((l) => l.includes("y[o]")), lines.join("").includes("m1_15_1")); // true true
 * ```
 */
export function tileStores(tiles: number, q: number, pool: boolean): string[] {
  const stores: string[] = [];
  for (let t = 0; t < tiles; t++) {
    for (let j = 0; j < q; j++) {
      const m = (i: number, k: number) => `m${t}_${i * 4 + k}_${j}`;
      // Aᵀ·M·A: s_i = rows combined, then columns.
      for (let i = 0; i < 4; i++) {
        stores.push(
          `let s${t}_${j}_${i}_0 = ${m(i, 0)} + ${m(i, 1)} + ${m(i, 2)}; let s${t}_${j}_${i}_1 = ${
            m(i, 1)
          } - ${m(i, 2)} - ${m(i, 3)};`,
        );
      }
      for (let b = 0; b < 2; b++) {
        const s = (i: number) => `s${t}_${j}_${i}_${b}`;
        stores.push(
          `let y${t}_${j}_0_${b} = ${s(0)} + ${s(1)} + ${s(2)}; let y${t}_${j}_1_${b} = ${s(1)} - ${
            s(2)
          } - ${s(3)};`,
        );
      }
      for (let c = 0; c < 4 && pool; c++) stores.push(pooledStore(t, j, c));
      for (let c = 0; c < 4 && !pool; c++) {
        stores.push(`{ let col = cb + ${j * 4 + c}u; let cg = p.coBase + col;
    if (cg < p.cout) { let bias = wt[(p.biasAt + col) / 4u][(p.biasAt + col) % 4u];`);
        for (let a = 0; a < 2; a++) {
          for (let b = 0; b < 2; b++) {
            stores.push(
              `      { let oy = oy0 + ${a}u; let ox = ox0 + ${
                2 * t + b
              }u; if (oy < p.h && ox < p.w) { let o = ((n * p.cout + cg) * p.h + oy) * p.w + ox;
        let v = select(y[o], bias, p.first == 1u) + y${t}_${j}_${a}_${b}[${c}];
        y[o] = select(v, max(v, 0.0), p.relu == 1u); } }`,
            );
          }
        }
        stores.push(`  } }`);
      }
    }
  }
  return stores;
}
