/**
 * Slice plots: for each parameter, the loss of every evaluated point against the parameter's value,
 * coloured by point id (viridis: early dark, late yellow), through gridDecimate.
 */
import { extent, formatNumber, gridDecimate } from "../analysis.ts";
import { h } from "../dom.ts";
import { viridisTable } from "../palette.ts";
import type { PointStore } from "../store.ts";
import { axes, chartCanvas, dots, type Frame, padded, prepare, scale } from "./canvas.ts";

/** sliceGrid makes one canvas per parameter, inside a grid element. */
export function sliceGrid(store: PointStore): { el: HTMLElement; canvases: HTMLCanvasElement[] } {
  const canvases = store.params.map((p) => chartCanvas(`Slice plot of ${p.name}`));
  const el = h("div", { className: "slices" }, ...canvases.map((c) => h("figure", {}, c)));
  return { el, canvases };
}

/** drawSlice draws the slice plot of parameter j. */
export function drawSlice(canvas: HTMLCanvasElement, store: PointStore, j: number): void {
  const plot = prepare(canvas, 220);
  const { ctx, width, height } = plot;
  const frame: Frame = { left: 56, top: 8, right: width - 10, bottom: height - 36 };
  const p = store.params[j];
  if (!p) return;
  const xs = store.view(store.cols[j] as Float64Array);
  const labels = store.labels(j);
  const loss = store.view(store.loss);
  const log = !labels && p.log === true && extent(xs)[0] > 0;
  const x = labels
    ? scale(-0.5, Math.max(0.5, labels.length - 0.5), frame.left, frame.right)
    : scale(...padded(extent(xs), log), frame.left, frame.right, log);
  const y = scale(...padded(extent(loss)), frame.bottom, frame.top);
  axes(plot, frame, x, y, { x: p.name, y: "loss" }, labels);
  const n = store.size;
  // Categories: spread the points a little around their value so they do not hide each other.
  const jitter = (i: number) => (labels ? (((i * 2654435761) % 1000) / 1000 - 0.5) * 0.5 : 0);
  const px = (i: number) => x((xs[i] as number) + jitter(i));
  const py = (i: number) => {
    const l = loss[i] as number;
    return Number.isNaN(l) ? l : y(l);
  };
  const kept = gridDecimate(n, px, py, width, height, 2);
  const table = viridisTable(32);
  ctx.globalAlpha = 0.8;
  dots(ctx, kept, px, py, (i) => table[Math.floor((i / Math.max(1, n - 1)) * 31)] as string, 3);
  ctx.globalAlpha = 1;
  canvas.dataset.drawn = String(kept.length);
  const [lo, hi] = extent(xs);
  canvas.setAttribute(
    "aria-label",
    `Slice plot of ${p.name}: loss against ${p.name}${labels ? ` (${labels.length} values)` : ` from ${formatNumber(lo)} to ${formatNumber(hi)}`}, coloured by point id`,
  );
}
