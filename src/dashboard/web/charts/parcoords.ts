/**
 * Parallel coordinates: one vertical axis per parameter and one for the loss, one line per
 * evaluated point coloured by its loss rank (viridis, the best yellow and drawn on top). Above 4,000
 * points the lines are lineSample's: the best quarter and an even spread of the rest.
 */
import { type Direction, extent, formatNumber, lineSample } from "../analysis.ts";
import { cssVar } from "../dom.ts";
import { viridisTable } from "../palette.ts";
import type { PointStore } from "../store.ts";
import { padded, prepare, type Scale, scale } from "./canvas.ts";

/** drawParallel draws the parallel coordinates of store into canvas. */
export function drawParallel(canvas: HTMLCanvasElement, store: PointStore, direction: Direction): void {
  const plot = prepare(canvas, 320);
  const { ctx, width, height } = plot;
  const top = 28;
  const bottom = height - 24;
  const cols = store.params.map((p, j) => ({
    name: p.name,
    log: p.log === true,
    xs: store.view(store.cols[j] as Float64Array),
    labels: store.labels(j),
  }));
  const loss = store.view(store.loss);
  const axesCount = cols.length + 1;
  const left = 56;
  const right = width - 56;
  const gap = axesCount > 1 ? (right - left) / (axesCount - 1) : 0;
  const scales: Scale[] = cols.map((c) => {
    if (c.labels) return scale(-0.5, Math.max(0.5, c.labels.length - 0.5), bottom, top);
    const log = c.log && extent(c.xs)[0] > 0;
    return scale(...padded(extent(c.xs), log, 0.02), bottom, top, log);
  });
  const lossScale = scale(...padded(extent(loss), false, 0.02), bottom, top);
  const lines = lineSample(loss, direction);
  const table = viridisTable(64);
  const buckets: number[][] = table.map(() => []);
  lines.forEach((i, k) => {
    buckets[Math.min(63, Math.floor((k / Math.max(1, lines.length - 1)) * 63))]?.push(i);
  });
  ctx.lineWidth = 1;
  ctx.globalAlpha = lines.length > 1000 ? 0.35 : 0.7;
  buckets.forEach((group, b) => {
    if (group.length === 0) return;
    ctx.strokeStyle = table[b] as string;
    ctx.beginPath();
    for (const i of group) {
      let started = false;
      cols.forEach((c, j) => {
        const v = c.xs[i] as number;
        if (!Number.isFinite(v)) {
          started = false;
          return;
        }
        const px = left + j * gap;
        const py = (scales[j] as Scale)(v);
        if (started) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        started = true;
      });
      const l = loss[i] as number;
      if (started) ctx.lineTo(left + cols.length * gap, lossScale(l));
    }
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
  const fg = cssVar("--fg");
  const muted = cssVar("--muted");
  const drawAxis = (px: number, s: Scale, title: string, labels?: string[]) => {
    ctx.strokeStyle = fg;
    ctx.beginPath();
    ctx.moveTo(Math.round(px) + 0.5, top);
    ctx.lineTo(Math.round(px) + 0.5, bottom);
    ctx.stroke();
    ctx.fillStyle = fg;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(title.slice(0, 16), px, top - 8);
    ctx.fillStyle = muted;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    const ticks = labels ? labels.map((_, i) => i) : s.ticks(4);
    for (const t of ticks)
      ctx.fillText(labels ? (labels[t] ?? "").slice(0, 10) : formatNumber(t), px + 4, s(t));
  };
  cols.forEach((c, j) => {
    drawAxis(left + j * gap, scales[j] as Scale, c.name, c.labels);
  });
  drawAxis(left + cols.length * gap, lossScale, "loss");
  canvas.dataset.drawn = String(lines.length);
  canvas.setAttribute(
    "aria-label",
    `Parallel coordinates of ${cols.length} parameters and the loss: ${lines.length} lines, coloured by loss rank, best in yellow`,
  );
}
