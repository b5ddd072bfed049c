/**
 * Optimisation history: each evaluated point's loss by point id, the best loss so far as a step
 * line, and the first id of each generation marked. 100,000 points are drawn through gridDecimate.
 */
import { bestSoFar, type Direction, extent, formatNumber, gridDecimate, stepChanges } from "../analysis.ts";
import { cssVar } from "../dom.ts";
import { okabeIto } from "../palette.ts";
import type { PointStore } from "../store.ts";
import { axes, dots, type Frame, padded, prepare, scale } from "./canvas.ts";

/** Hit finds the point under the pointer (for the chart's read-out). */
export type Hit = (x: number, y: number) => number | undefined;

/** drawHistory draws the history into canvas; it returns how to find the point under the pointer. */
export function drawHistory(
  canvas: HTMLCanvasElement,
  store: PointStore,
  direction: Direction,
  logY: boolean,
): Hit {
  const plot = prepare(canvas, 300);
  const { ctx, width, height } = plot;
  const frame: Frame = { left: 64, top: 10, right: width - 12, bottom: height - 36 };
  const n = store.size;
  const ids = store.view(store.ids);
  const loss = store.view(store.loss);
  const canLog = logY && extent(loss)[0] > 0;
  const x = scale(...padded([ids[0] ?? 0, ids[n - 1] ?? 1]), frame.left, frame.right);
  const y = scale(...padded(extent(loss), canLog), frame.bottom, frame.top, canLog);
  axes(plot, frame, x, y, { x: "point id", y: canLog ? "loss (log)" : "loss" });

  ctx.save();
  ctx.beginPath();
  ctx.rect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
  ctx.clip();
  // Generation boundaries, when they are far enough apart to read.
  const starts: number[] = [];
  for (let i = 1; i < n; i++) if (store.generation[i] !== store.generation[i - 1]) starts.push(i);
  if (starts.length > 0 && (frame.right - frame.left) / starts.length >= 6) {
    ctx.strokeStyle = cssVar("--grid-strong");
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    for (const i of starts) {
      const px = Math.round(x(ids[i] as number)) + 0.5;
      ctx.moveTo(px, frame.top);
      ctx.lineTo(px, frame.bottom);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const px = (i: number) => x(ids[i] as number);
  const py = (i: number) => {
    const l = loss[i] as number;
    return Number.isNaN(l) ? l : y(l);
  };
  const best = bestSoFar(loss, direction);
  const steps = stepChanges(best);
  ctx.strokeStyle = okabeIto.vermillion;
  ctx.lineWidth = 2;
  ctx.beginPath();
  steps.forEach((i, k) => {
    const bx = x(ids[i] as number);
    const by = y(best[i] as number);
    if (k === 0) ctx.moveTo(bx, by);
    else {
      ctx.lineTo(bx, y(best[steps[k - 1] as number] as number));
      ctx.lineTo(bx, by);
    }
  });
  ctx.stroke();
  // The points on top of the line: the points that set a new best lie on it.
  const kept = gridDecimate(n, px, py, width, height, 2);
  ctx.globalAlpha = 0.75;
  dots(ctx, kept, px, py, cssVar("--points"), 3);
  ctx.globalAlpha = 1;
  ctx.restore();
  canvas.dataset.drawn = String(kept.length);
  canvas.setAttribute(
    "aria-label",
    `Optimisation history: ${n} points, best loss ${formatNumber(best[n - 1])}; ${starts.length + (n ? 1 : 0)} generations`,
  );
  return (mx, my) => {
    let found: number | undefined;
    let d = 64;
    for (const i of kept) {
      const dd = (px(i) - mx) ** 2 + (py(i) - my) ** 2;
      if (dd < d) {
        d = dd;
        found = i;
      }
    }
    return found;
  };
}
