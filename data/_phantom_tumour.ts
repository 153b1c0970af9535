// This module is browser compatible.
/**
 * Private to the phantoms: how many tumours, where they go (deep, at the
 * surface, across the midline) and what they are made of, in the anatomy's
 * brain-normalised coordinates. `_phantom_paint.ts` paints them.
 *
 * @module
 */

import { BG, type Geometry } from "./_phantom_anatomy.ts";
import type { Random } from "./random.ts";

/** A closed interval [lo, hi] a value is drawn from uniformly. */
export type Span = readonly [number, number];

/** Where a tumour sits: the classic deep white matter, the cortex, or across the midline. */
type Site = "deep" | "surface" | "midline";

/** How tumours are drawn: the tumour part of the phantoms' resolved settings. */
export interface TumourSettings {
  /** Weight of each tumour count, index 0 for one tumour. */
  countWeights: readonly number[];
  /** Keep tumours apart by their full reach (one connected component each) instead of the classic 0.5. */
  separate: boolean;
  /** Core radius of the first tumour, relative to the brain's half-axes. */
  size: Span;
  /** Core radius of any further tumour. */
  satelliteSize: Span;
  /** Boundary irregularity, 0 (round) .. 1 (lobulated and ragged); classic 0.5. */
  irregularity: Span;
  /** Oedema radius relative to the core radius. */
  oedema: Span;
  /** Largest oedema radius, relative to the brain's half-axes. */
  maxOedema: number;
  /** Necrotic core extent, in the core's normalised radius. */
  necrosisSize: Span;
  /** Enhancing rim thickness, in the core's normalised radius. */
  rim: Span;
  /** Share of tumours near the brain surface. */
  surfaceShare: number;
  /** Share of tumours across the midline (corpus callosum). */
  midlineShare: number;
  /** Share of tumours without an enhancing part. */
  nonEnhancingShare: number;
  /** Share of enhancing tumours with a necrotic core. */
  necrosisShare: number;
}

/** One tumour in brain-normalised coordinates. */
export interface Tumour {
  /** Centre. */
  c: [number, number, number];
  /** Core radius. */
  rc: number;
  /** Oedema radius over core radius. */
  edema: number;
  /** Whether it has an enhancing rim. */
  enhancing: boolean;
  /** Necrotic core extent (0: none). */
  necrosis: number;
  /** Rim thickness. */
  rim: number;
  /** Seed of its noise fields. */
  seed: number;
  /** Amplitude of the noise displacing the core's boundary (classic 0.7). */
  amp: number;
  /** Amplitude of the noise displacing the oedema's boundary (classic 0.6). */
  edemaAmp: number;
  /** Lobulation: relative amplitude of a direction-dependent radius (classic 0). */
  lobes: number;
}

/**
 * Draws the tumours: count, site, size, parts and shape. `rng` is the
 * phantom's classic stream (its draws are today's when the settings are
 * classic), `aux` a separate stream for what classic phantoms never drew.
 *
 * @example
 * ```ts
 * import { placeTumours } from "./_phantom_tumour.ts";
 * import { anatomy } from "./_phantom_anatomy.ts";
 * import { Random } from "./random.ts";
 * const tissue = new Uint8Array(32 * 32 * 24);
 * const geo = anatomy(tissue, [32, 32, 24], Random.forPhantom(1), [1, 1, 1]);
 * const tumours = placeTumours(new Random(1), new Random(2), {
 *   countWeights: [0, 0, 1], separate: true, size: [0.1, 0.2], satelliteSize: [0.1, 0.15],
 *   irregularity: [0.5, 0.5], oedema: [1.5, 2], maxOedema: 0.5, necrosisSize: [0.4, 0.5], rim: [0.2, 0.3],
 *   surfaceShare: 0, midlineShare: 0, nonEnhancingShare: 0.2, necrosisShare: 0.8,
 * }, { geo, tissue });
 * tumours.length; // 3
 * ```
 */
export function placeTumours(
  rng: Random,
  aux: Random,
  s: TumourSettings,
  brain: { geo: Geometry; tissue: Uint8Array },
): Tumour[] {
  const count = drawCount(rng, s.countWeights);
  const tumours: Tumour[] = [];
  const inBrain = (c: readonly number[]) => brain.tissue[voxelOf(brain.geo, c)] !== BG;
  for (let n = 0; n < count; n++) {
    const a = aux.next();
    const site: Site = a < s.midlineShare
      ? "midline"
      : a < s.midlineShare + s.surfaceShare
      ? "surface"
      : "deep";
    const irregularity = aux.range(s.irregularity[0], s.irregularity[1]);
    const fits = (c: [number, number, number], at = site) =>
      at === "deep" ? Math.hypot(...c) < 0.62 : inBrain(c);
    if (!s.separate && site === "deep") {
      // Classic: position first, then the parts, 0.5 apart (oedema may touch).
      let c: [number, number, number] = [0.3, 0, 0];
      for (let tries = 0; tries < 50; tries++) {
        c = candidate(rng, site, 0);
        if (fits(c) && tumours.every((o) => distance(o.c, c) > 0.5)) break;
      }
      tumours.push({ c, ...drawParts(rng, s, n, irregularity) });
      continue;
    }
    const t: Tumour = { c: [0.3, 0, 0], ...drawParts(rng, s, n, irregularity) };
    const where = { site, fits, geo: brain.geo, count, separate: s.separate };
    if (place(rng, t, tumours, where)) tumours.push(t);
  }
  return tumours;
}

const distance = (a: readonly number[], b: readonly number[]) =>
  Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/**
 * Finds `t` a centre at its site. Not `separate`: 0.5 from the others, as
 * classic's. `separate`: its extent two voxels from every other's, shrinking
 * it (oedema first, then core, never below a core of 2.5 voxels in-plane) and then
 * trying deep sites when crowded; false when there is no room.
 */
function place(
  rng: Random,
  t: Tumour,
  placed: readonly Tumour[],
  where: {
    site: Site;
    fits: (c: [number, number, number], site: Site) => boolean;
    geo: Geometry;
    count: number;
    separate: boolean;
  },
): boolean {
  const voxel = 1 / Math.min(...where.geo.axes);
  const apart = where.separate;
  const minRc = 2.5 / Math.min(where.geo.axes[0], where.geo.axes[1]); // in-plane: slices may be thick
  const shrink = () => {
    if (t.edema > 1.2) t.edema = Math.max(1.2, t.edema * 0.85);
    else t.rc = Math.max(minRc, t.rc * 0.85);
  };
  if (apart) {
    t.rc = Math.max(t.rc, minRc);
    // Leave room for the others: at most 1.1 brain radii of extent shared between them.
    for (let i = 0; i < 30 && tumourExtent(t) > 1.1 / where.count; i++) shrink();
  }
  const gap = (o: Tumour) => apart ? tumourExtent(o) + tumourExtent(t) + 2 * voxel : 0.5;
  for (let tries = 0; tries < (apart ? 400 : 50); tries++) {
    if (apart && tries > 0 && tries % 40 === 0) shrink();
    const site = apart && tries >= 200 ? "deep" : where.site; // no room there: anywhere deep
    t.c = candidate(rng, site, t.rc);
    if (where.fits(t.c, site) && placed.every((o) => distance(o.c, t.c) > gap(o))) return true;
  }
  return !apart;
}

/** Count drawn with one uniform, counting down from the largest (so classic's `u < 0.2 ? 2 : 1` holds). */
function drawCount(rng: Random, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  const u = rng.next();
  let acc = 0;
  for (let n = weights.length; n >= 1; n--) {
    acc += weights[n - 1] / total;
    if (u < acc) return n;
  }
  return 1;
}

/** A centre at `site` for a core of radius `rc` (brain-normalised). */
function candidate(rng: Random, site: Site, rc: number): [number, number, number] {
  if (site === "midline") {
    // Butterfly glioma: centred on the corpus callosum, above the ventricles.
    return [rng.range(-0.05, 0.05), rng.range(-0.35, 0.35), rng.range(0.1, 0.35)];
  }
  if (site === "surface") {
    // Mostly sideways, so the tumour meets the cortex within an axial slice; the core reaches the surface.
    const d = [rng.range(-1, 1), rng.range(-1, 1), rng.range(-0.4, 0.6)];
    const norm = Math.hypot(...d) || 1, r = Math.max(0.6, 1 - rc * rng.range(0, 0.6));
    return [d[0] / norm * r, d[1] / norm * r, d[2] / norm * r];
  }
  const side = rng.next() < 0.5 ? -1 : 1;
  return [side * rng.range(0.16, 0.5), rng.range(-0.5, 0.5), rng.range(-0.3, 0.45)];
}

function drawParts(
  rng: Random,
  s: TumourSettings,
  n: number,
  irregularity: number,
): Omit<Tumour, "c"> {
  const enhancing = rng.next() > s.nonEnhancingShare;
  const size = n === 0 ? s.size : s.satelliteSize;
  const rc = rng.range(size[0], size[1]);
  return {
    rc,
    edema: Math.min(rng.range(s.oedema[0], s.oedema[1]), s.maxOedema / rc),
    enhancing,
    necrosis: enhancing && rng.next() < s.necrosisShare
      ? rng.range(s.necrosisSize[0], s.necrosisSize[1])
      : 0,
    rim: rng.range(s.rim[0], s.rim[1]),
    seed: rng.int(),
    // Classic (0.5) gives exactly today's 0.7 and 0.6 and no lobes.
    amp: 1.4 * Math.min(irregularity, 0.5) + 0.5 * Math.max(0, irregularity - 0.5),
    edemaAmp: 1.2 * Math.min(irregularity, 0.5) + 0.4 * Math.max(0, irregularity - 0.5),
    lobes: Math.max(0, irregularity - 0.5),
  };
}

function voxelOf(geo: Geometry, c: readonly number[]): number {
  const [X, Y] = geo.dims;
  const at = [0, 1, 2].map((a) =>
    Math.max(0, Math.min(geo.dims[a] - 1, Math.round(geo.centre[a] + c[a] * geo.axes[a])))
  );
  return (at[2] * Y + at[1]) * X + at[0];
}

/**
 * Distance from the centre beyond which the tumour's shape never reaches
 * (brain-normalised).
 *
 * @example
 * ```ts
 * import { tumourExtent } from "./_phantom_tumour.ts";
 * tumourExtent({
 *   c: [0, 0, 0], rc: 0.2, edema: 2, enhancing: true, necrosis: 0.4, rim: 0.3, seed: 1,
 *   amp: 0.7, edemaAmp: 0.6, lobes: 0,
 * }); // 0.2 * 2 * 1.3 * 1.05
 * ```
 */
export function tumourExtent(t: Tumour): number {
  const shape = (1 + t.lobes / 2) * Math.max(t.edema * (1 + t.edemaAmp / 2), 1 + t.amp / 2);
  return t.rc * shape * 1.05;
}
