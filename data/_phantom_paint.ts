// This module is browser compatible.
/**
 * Private to the phantoms: painting a tumour (enhancing rim, necrotic core,
 * non-enhancing parts, oedema; noise-displaced, optionally lobulated
 * boundaries) into the tissue volume.
 *
 * @module
 */

import { BG, CSF, ED, ET, type Geometry, NCR, NET, WM } from "./_phantom_anatomy.ts";
import { fbm, valueNoise } from "./_noise.ts";
import { type Tumour, tumourExtent } from "./_phantom_tumour.ts";
import { hashInts, Random } from "./random.ts";

/** The painted box's half-size: the extent, or classic's (larger) bound so its loops stay as they were. */
function tumourReach(t: Tumour): number {
  return Math.max(t.rc * t.edema * 1.4, tumourExtent(t));
}

/**
 * Paints one tumour into `tissue` (codes) and `texture` (multiplicative
 * intensity texture): the core overwrites any brain tissue, oedema only white
 * and grey matter.
 *
 * @example
 * ```ts
 * import { paintTumour } from "./_phantom_paint.ts";
 * import { ED, WM } from "./_phantom_anatomy.ts";
 * const tissue = new Uint8Array(16 * 16 * 16).fill(WM), texture = new Float32Array(tissue.length);
 * paintTumour(tissue, texture, { dims: [16, 16, 16], centre: [7.5, 7.5, 7.5], axes: [7, 7, 7] }, {
 *   c: [0, 0, 0], rc: 0.3, edema: 1.8, enhancing: true, necrosis: 0.4, rim: 0.3, seed: 1,
 *   amp: 0.7, edemaAmp: 0.6, lobes: 0,
 * });
 * tissue.includes(ED); // true
 * ```
 */
export function paintTumour(
  tissue: Uint8Array,
  texture: Float32Array,
  geo: Geometry,
  t: Tumour,
): void {
  const [X, Y, Z] = geo.dims;
  const reach = tumourReach(t);
  const lo = [0, 1, 2].map((a) =>
    Math.max(0, Math.floor(geo.centre[a] + (t.c[a] - reach) * geo.axes[a]))
  );
  const hi = [0, 1, 2].map((a) =>
    Math.min(geo.dims[a] - 1, Math.ceil(geo.centre[a] + (t.c[a] + reach) * geo.axes[a]))
  );
  const s1 = t.seed,
    s2 = hashInts(t.seed, 1, 2),
    s3 = hashInts(t.seed, 3, 4),
    s4 = hashInts(t.seed, 5, 6);
  const bumps = t.lobes > 0 ? lobeDirections(new Random(hashInts(t.seed, 7, 8))) : [];
  const f = 2.2 / t.rc;
  for (let k = lo[2]; k <= hi[2] && k < Z; k++) {
    const w = (k - geo.centre[2]) / geo.axes[2] - t.c[2];
    for (let j = lo[1]; j <= hi[1] && j < Y; j++) {
      const v = (j - geo.centre[1]) / geo.axes[1] - t.c[1];
      for (let i = lo[0]; i <= hi[0] && i < X; i++) {
        const at = (k * Y + j) * X + i;
        const here = tissue[at];
        if (here === BG) continue;
        const u = (i - geo.centre[0]) / geo.axes[0] - t.c[0];
        const d = Math.sqrt(u * u + v * v + w * w);
        if (d > reach) continue;
        const lobe = bumps.length > 0 && d > 0
          ? lobeFactor(bumps, t.lobes, u / d, v / d, w / d)
          : 1;
        const nu = u * f * 0.5, nv = v * f * 0.5, nw = w * f * 0.5;
        const s = d / (t.rc * lobe) + t.amp * (fbm(s1, nu, nv, nw) - 0.5);
        if (s < 1) {
          let code = NET;
          if (t.enhancing) {
            const rim = t.rim * (0.7 + 0.6 * valueNoise(s2, nu * 1.5, nv * 1.5, nw * 1.5));
            if (s > 1 - rim) code = valueNoise(s3, nu * 2, nv * 2, nw * 2) > 0.78 ? NET : ET;
            else if (t.necrosis > 0 && s < t.necrosis + 0.25) code = NCR;
          }
          tissue[at] = code;
          texture[at] = 0.9 + 0.2 * valueNoise(s4, nu * 3, nv * 3, nw * 3);
          continue;
        }
        if (here === CSF || here >= ED) continue;
        const e = d / (t.rc * t.edema * lobe) +
          t.edemaAmp * (fbm(s3, nu * 0.7, nv * 0.7, nw * 0.7) - 0.5);
        if (e < (here === WM ? 1 : 0.8)) {
          tissue[at] = ED;
          texture[at] = 0.93 + 0.14 * valueNoise(s4, nu * 2, nv * 2, nw * 2);
        }
      }
    }
  }
}

/** Four to six random unit vectors: the directions the lobes bulge towards. */
function lobeDirections(r: Random): number[][] {
  const out: number[][] = [];
  const count = 4 + r.below(3);
  while (out.length < count) {
    const d = [r.normal(), r.normal(), r.normal()];
    const n = Math.hypot(d[0], d[1], d[2]);
    if (n > 1e-6) out.push(d.map((x) => x / n));
  }
  return out;
}

/**
 * Radius factor in a direction (unit x, y, z): rounded bulges towards each
 * lobe direction, between 1 - lobes/2 and 1 + lobes/2, so the shape stays
 * star-shaped and smooth (cauliflower-like, as lobulated gliomas).
 */
function lobeFactor(bumps: number[][], lobes: number, x: number, y: number, z: number): number {
  let f = 0;
  for (const b of bumps) f = Math.max(f, Math.exp(5 * (b[0] * x + b[1] * y + b[2] * z - 1)));
  return 1 + lobes * (f - 0.5);
}
