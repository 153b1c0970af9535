// This module is browser compatible.
// Weight gradient with dy bound where it lies: one uniform binding per output channel of the tile,
// each a run of that channel's NCHW rows, so dy is never copied into windows and one dispatch
// covers ~16K floats of eight channels (the windowed kernel, _weight_grad_window_wgsl.ts, copies
// dy first and, at 240² × 64 channels, dispatches once per image row). Lanes are input channels
// and read the same dy address: one scalar load for all of them (a broadcast on GPUs too). A
// dispatch is only ⌈cin / 64⌉ × 8 workgroups, plenty for a CPU adapter's cores but low occupancy
// on a discrete GPU, as for the windowed kernel.
import { dispatch } from "../kernel.ts";
import { Tensor } from "../tensor.ts";
import { UNIFORM_FLOATS } from "./_conv_layout.ts";
import { convInput, type Source } from "./_conv_texture.ts";
import { sumChunks } from "./_weight_grad_chunked_wgsl.ts";
import { rowsKernel } from "./_weight_grad_rows_code.ts";
import { DEFAULT_WINDOW_GRAD_TILE, windows } from "./_weight_grad_window_wgsl.ts";
import type { WindowGradTile } from "./tiles.ts";

/** Bytes a uniform binding's offset must be a multiple of (WebGPU's default limit). */
const OFFSET_ALIGN = 256;
const ALIGN_FLOATS = OFFSET_ALIGN / 4;

/** Input channels per lane of the 1×1 weight gradient (measured fastest, bench/README.md). */
const CHANNELS_PER_LANE_1X1 = 4;

/** Row splits per dispatch, each summing into its own partial dw: lanes enough for the cores. */
const SPLITS = 8;

/** How dy's rows are cut into bands: `rows` per band (band starts aligned), `bands` per image. */
export interface RowBands {
  rows: number;
  bands: number;
}

/**
 * The bands for x [n, cin, h, w] and dy [n, cout, h, w] whose data starts `offset` bytes into
 * its buffer, or null where dy's rows cannot be bound in place (dy not whole 256-byte blocks or
 * at an unaligned offset, rows not whole steps of `px` pixels, the whole of dy shorter than one
 * binding, or few input channels).
 * {@linkcode rowsWeightGrad} also leaves to the windowed kernel the shapes it dispatches less for.
 *
 * @example
 * ```ts
 * import { rowBands } from "./_weight_grad_rows_wgsl.ts";
 * console.log(rowBands([9, 64, 240, 240], 64, 0, 8)); // { rows: 68, bands: 4 }
 * console.log(rowBands([9, 64, 60, 60], 64, 0, 4)); // { rows: 60, bands: 1 }
 * console.log(rowBands([1, 16, 60, 60], 3, 0, 4)); // null: dy not whole 256-byte blocks
 * ```
 */
export function rowBands(
  shape: readonly number[],
  cout: number,
  offset: number,
  px: number,
): RowBands | null {
  const [n, cin, h, w] = shape;
  const plane = h * w;
  if (cin < 16 || px % 4 !== 0 || w % px !== 0 || offset % OFFSET_ALIGN !== 0) return null;
  if ((n * cout * plane) % ALIGN_FLOATS !== 0 || n * cout * plane < UNIFORM_FLOATS) return null;
  // Aligned planes: bands start every `step` rows, at aligned offsets. Else a binding starts up to
  // 60 floats before its band (the aligned offset below it), which the band leaves room for.
  const aligned = plane % ALIGN_FLOATS === 0;
  const fit = Math.floor((UNIFORM_FLOATS - (aligned ? 0 : ALIGN_FLOATS - 4)) / w);
  const step = aligned ? ALIGN_FLOATS / gcd(w, ALIGN_FLOATS) : 1;
  const rows = Math.min(h, Math.floor(fit / step) * step);
  if (rows < 1) return null;
  return { rows, bands: Math.ceil(h / rows) };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * dw [cout, cin, k, k] of a stride-1 conv with dy's rows bound in place, or null where
 * {@linkcode rowBands} says they cannot be (the windowed or chunked kernel then runs).
 *
 * @example
 * ```ts
 * import { getDevice } from "../device.ts";
 * import { Tensor } from "../tensor.ts";
 * import { TensorScope } from "../tensor_scope.ts";
 * import { rowsWeightGrad } from "./_weight_grad_rows_wgsl.ts";
 * await getDevice();
 * const scope = TensorScope.begin();
 * const x = Tensor.from(new Float32Array(16 * 64 * 64).fill(1), [1, 16, 64, 64]);
 * const gy = Tensor.from(new Float32Array(4 * 64 * 64).fill(1), [1, 4, 64, 64]);
 * const dw = rowsWeightGrad(x, gy, { k: 3 })!;
 * const values = await dw.read(); // each tap: how many output pixels see an input pixel there
 * console.log(dw.shape, values[0], values[4]); // [4, 16, 3, 3] 3969 4096
 * scope.end();
 * ```
 */
export function rowsWeightGrad(
  x: Tensor,
  dy: Tensor,
  options: { k: number; tile?: WindowGradTile; shape?: readonly number[] },
): Tensor | null {
  const [n, cin, h, w] = x.shape;
  const cout = dy.shape[1];
  const { k } = options;
  // Rows of whole steps: 4-pixel steps where 8 do not divide the row (60² maps).
  const tile = options.tile ??
    (w % DEFAULT_WINDOW_GRAD_TILE.px === 0
      ? DEFAULT_WINDOW_GRAD_TILE
      : { ...DEFAULT_WINDOW_GRAD_TILE, px: 4 });
  if ((dy.buffer.usage & GPUBufferUsage.UNIFORM) === 0) return null; // e.g. a parameter view
  if (tile.ci !== undefined && !(Number.isInteger(tile.ci) && tile.ci >= 1)) {
    throw new RangeError(`conv: ${tile.ci} input channels per lane`);
  }
  const bands = rowBands(x.shape, cout, dy.offset, tile.px);
  if (!bands || tile.co % 4 !== 0 || tile.co > 8 || Math.ceil(cin / 64) > 65535) return null;
  // Small planes fit many channels into one window: the windowed kernel dispatches less there.
  const win = windows(cout, h, w, tile.co);
  if (win && win.bands * win.coGroups <= bands.bands * Math.ceil(cout / tile.co)) return null;
  const shape = options.shape ?? [cout, cin, k, k];
  const plane = h * w;
  const total = n * cout * plane;
  // The first band has the most rows, so it writes every split's partial sums.
  const share = Math.ceil(bands.rows / SPLITS);
  const splits = Math.ceil(bands.rows / share);
  const part = Tensor.empty([splits, cout, cin, k, k], { label: "conv.dw.part" });
  const wp = w + 4;
  const pad = (k - 1) / 2;
  const source: Source = tile.texture ? "texture" : "padded";
  const input = convInput(x, source, { pad, wp, hp: h + 2 * pad }, "padded");
  // 1×1 reading a texture: blocks of input channels per lane, so each dy load feeds several FMAs.
  const cib = k === 1 && input.source === "texture" ? (tile.ci ?? CHANNELS_PER_LANE_1X1) : 1;
  const kernel = rowsKernel(k, tile, input.source, cib);
  for (let i = 0; i < n; i++) {
    for (let band = 0; band < bands.bands; band++) {
      const y0 = band * bands.rows;
      const rows = Math.min(bands.rows, h - y0);
      for (let coBase = 0; coBase < cout; coBase += tile.co) {
        const rowsOf: GPUBufferBinding[] = [];
        const offsets: number[] = [];
        for (let c = 0; c < tile.co; c++) {
          // Channels past the end bind the last one: their sums are never stored.
          const start = ((i * cout + Math.min(coBase + c, cout - 1)) * h + y0) * w;
          // Bound from the aligned offset at or below the band; the last binding of dy ends where
          // dy does (aligned: dy is a whole number of aligned blocks).
          const below = Math.floor(start / ALIGN_FLOATS) * ALIGN_FLOATS;
          const base = Math.min(below, total - UNIFORM_FLOATS);
          rowsOf.push({
            buffer: dy.buffer,
            offset: dy.offset + base * 4,
            size: UNIFORM_FLOATS * 4,
          });
          offsets.push((start - base) / 4);
        }
        dispatch(kernel, [...rowsOf, input.binding, part], {
          params: [
            i,
            cin,
            h,
            w,
            cout,
            y0,
            rows,
            coBase,
            i === 0 && band === 0 ? 1 : 0,
            wp,
            share,
            ...offsets,
          ],
          workgroups: [Math.ceil(cin / (64 * cib)), Math.ceil(rows / share)],
        });
      }
    }
  }
  input.release();
  const dw = sumChunks(part, { chunks: splits, shape });
  part.release();
  return dw;
}
