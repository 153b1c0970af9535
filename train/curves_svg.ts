// This module is browser compatible.
/**
 * Training curves as a standalone SVG: mean training loss per epoch (left)
 * and validation Dice of the whole / core / enhancing regions (right), with
 * the start of phase 2 marked.
 *
 * @module
 */

/** One epoch's numbers, as the trainer records them. */
export interface EpochRecord {
  /** Epoch number, counted from 1 over both phases. */
  epoch: number;
  /** Training phase of the epoch. */
  phase: 1 | 2;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Validation Dice per region (NaN when not measured). */
  dice: { whole: number; core: number; enhancing: number };
}

const W = 360, H = 240, PAD = 40;
const COLOURS = { loss: "#333333", whole: "#2b8a3e", core: "#c92a2a", enhancing: "#1c7ed6" };

/**
 * Renders the curves of `history` into an SVG document.
 *
 * @example
 * ```ts
 * import { curvesSvg } from "./curves_svg.ts";
 * const svg = curvesSvg([
 *   { epoch: 1, phase: 1, loss: 1.2, dice: { whole: 0.5, core: 0.3, enhancing: 0.2 } },
 *   { epoch: 2, phase: 2, loss: 0.4, dice: { whole: 0.8, core: 0.6, enhancing: 0.5 } },
 * ]);
 * svg.startsWith("<svg"); // true: a standalone document, e.g. for a file or an <img>
 * ```
 */
export function curvesSvg(
  history: readonly EpochRecord[],
  options: { title?: string } = {},
): string {
  const epochs = history.map((r) => r.epoch);
  const x0 = Math.min(...epochs, 1), x1 = Math.max(...epochs, x0 + 1);
  const losses = history.map((r) => r.loss).filter(Number.isFinite);
  const lossMax = Math.max(...losses, 1e-6) * 1.05;
  const phase2 = history.find((r) => r.phase === 2)?.epoch;
  const left = panel(0, "training loss", 0, lossMax, x0, x1, phase2, [
    { name: "loss", colour: COLOURS.loss, points: history.map((r) => [r.epoch, r.loss]) },
  ]);
  const right = panel(W, "validation Dice", 0, 1, x0, x1, phase2, [
    { name: "whole", colour: COLOURS.whole, points: history.map((r) => [r.epoch, r.dice.whole]) },
    { name: "core", colour: COLOURS.core, points: history.map((r) => [r.epoch, r.dice.core]) },
    {
      name: "enhancing",
      colour: COLOURS.enhancing,
      points: history.map((r) => [r.epoch, r.dice.enhancing]),
    },
  ]);
  const title = options.title
    ? `<text x="${W}" y="16" text-anchor="middle" font-size="13">${escapeXml(options.title)}</text>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" ` +
    `font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n` +
    `${title}\n<g transform="translate(0,20)">\n${left}\n${right}\n</g>\n</svg>\n`;
}

interface Series {
  name: string;
  colour: string;
  points: number[][];
}

function panel(
  ox: number,
  label: string,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
  phase2: number | undefined,
  series: Series[],
): string {
  const sx = (x: number) => ox + PAD + (x - x0) / (x1 - x0) * (W - 2 * PAD);
  const sy = (y: number) => H - PAD + (y - y0) / (y1 - y0) * -(H - 2 * PAD);
  const parts = [
    `<rect x="${ox + PAD}" y="${PAD}" width="${W - 2 * PAD}" height="${H - 2 * PAD}" ` +
    `fill="none" stroke="#999"/>`,
    `<text x="${ox + W / 2}" y="${PAD - 8}" text-anchor="middle">${label}</text>`,
    `<text x="${ox + W / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const y = y0 + (y1 - y0) * k / 4;
    parts.push(
      `<text x="${ox + PAD - 4}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  parts.push(
    `<text x="${sx(x0)}" y="${H - PAD + 14}" text-anchor="middle">${x0}</text>`,
    `<text x="${sx(x1)}" y="${H - PAD + 14}" text-anchor="middle">${x1}</text>`,
  );
  if (phase2 !== undefined) {
    const x = sx(phase2 - 0.5);
    parts.push(
      `<line x1="${x}" y1="${PAD}" x2="${x}" y2="${
        H - PAD
      }" stroke="#aaa" stroke-dasharray="4 3"/>`,
      `<text x="${x + 3}" y="${PAD + 12}" fill="#888">phase 2</text>`,
    );
  }
  series.forEach((s, k) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length > 0) {
      const d = pts.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      parts.push(`<path d="${d.join(" ")}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>`);
      for (const [x, y] of pts) {
        parts.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${s.colour}"/>`,
        );
      }
    }
    if (series.length > 1) {
      const ly = PAD + 14 + 13 * k;
      parts.push(
        `<line x1="${ox + W - PAD - 70}" y1="${ly - 4}" x2="${ox + W - PAD - 56}" y2="${ly - 4}" ` +
          `stroke="${s.colour}" stroke-width="2"/>`,
        `<text x="${ox + W - PAD - 52}" y="${ly}">${s.name}</text>`,
      );
    }
  });
  return parts.join("\n");
}

function fmt(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2);
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}
