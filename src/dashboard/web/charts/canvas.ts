/**
 * The plain-canvas plotting the charts share: a sharp canvas at the device's pixel ratio, linear
 * and logarithmic scales, and axes with ticks and labels in the theme's colours.
 */
import { formatNumber, logTicks, niceTicks } from "../analysis.ts";
import { cssVar, h } from "../dom.ts";

/** Scale maps data values to pixels and back. */
export interface Scale {
  (v: number): number;
  invert(px: number): number;
  ticks(count?: number): number[];
  log: boolean;
}

/** scale maps [d0, d1] to [r0, r1], on a log10 axis when log (d0 > 0). */
export function scale(d0: number, d1: number, r0: number, r1: number, log = false): Scale {
  if (!Number.isFinite(d0) || !Number.isFinite(d1)) [d0, d1] = [0, 1];
  if (d0 === d1) [d0, d1] = [d0 - 0.5, d1 + 0.5];
  const f = log ? Math.log10 : (v: number) => v;
  const g = log ? (v: number) => 10 ** v : (v: number) => v;
  const a = f(d0);
  const b = f(d1);
  const s = ((v: number) => r0 + ((f(v) - a) / (b - a)) * (r1 - r0)) as Scale;
  s.invert = (px) => g(a + ((px - r0) / (r1 - r0)) * (b - a));
  s.ticks = (count = 5) => (log ? logTicks(d0, d1) : niceTicks(d0, d1, count));
  s.log = log;
  return s;
}

/** padded widens [lo, hi] by a fraction on each side (a little room around the points). */
export function padded([lo, hi]: [number, number], log = false, f = 0.04): [number, number] {
  if (!Number.isFinite(lo)) return [0, 1];
  if (log && lo > 0) return [lo / (hi / lo) ** f, hi * (hi / lo) ** f];
  const d = hi - lo || Math.abs(lo) || 1;
  return [lo - d * f, hi + d * f];
}

/** Plot is a prepared canvas: its 2D context and size in CSS pixels. */
export interface Plot {
  ctx: CanvasRenderingContext2D;
  width: number;
  height: number;
}

/** chartCanvas is a canvas that describes itself to screen readers (role img, a label). */
export function chartCanvas(label: string, className = "chart"): HTMLCanvasElement {
  return h("canvas", { role: "img", "aria-label": label, className });
}

/** prepare sizes a canvas for its box and the pixel ratio, and clears it. */
export function prepare(canvas: HTMLCanvasElement, height: number): Plot {
  const width = Math.max(200, Math.floor(canvas.parentElement?.clientWidth ?? 600));
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  return { ctx, width, height };
}

/** Frame is the plotting area inside the axes. */
export interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** axes draws the x and y axes with their ticks, grid lines and titles. */
export function axes(
  { ctx }: Plot,
  frame: Frame,
  x: Scale,
  y: Scale,
  titles: { x: string; y: string },
  xLabels?: string[],
): void {
  const fg = cssVar("--muted");
  const grid = cssVar("--grid");
  ctx.strokeStyle = grid;
  ctx.fillStyle = fg;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of y.ticks(5)) {
    const py = Math.round(y(t)) + 0.5;
    if (py < frame.top - 1 || py > frame.bottom + 1) continue;
    ctx.beginPath();
    ctx.moveTo(frame.left, py);
    ctx.lineTo(frame.right, py);
    ctx.stroke();
    ctx.fillText(formatNumber(t), frame.left - 4, py);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xt = xLabels
    ? xLabels.map((_, i) => i)
    : x.ticks(Math.max(2, Math.floor((frame.right - frame.left) / 80)));
  for (const t of xt) {
    const px = Math.round(x(t)) + 0.5;
    if (px < frame.left - 1 || px > frame.right + 1) continue;
    ctx.beginPath();
    ctx.moveTo(px, frame.bottom);
    ctx.lineTo(px, frame.bottom + 4);
    ctx.stroke();
    ctx.fillText(xLabels ? (xLabels[t] ?? "").slice(0, 12) : formatNumber(t), px, frame.bottom + 6);
  }
  ctx.strokeStyle = fg;
  ctx.strokeRect(frame.left + 0.5, frame.top + 0.5, frame.right - frame.left, frame.bottom - frame.top);
  ctx.fillText(titles.x, (frame.left + frame.right) / 2, frame.bottom + 20);
  ctx.save();
  ctx.translate(12, (frame.top + frame.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(titles.y, 0, 0);
  ctx.restore();
}

/** dots draws small squares at the given indices (fast: one path per colour). */
export function dots(
  ctx: CanvasRenderingContext2D,
  indices: readonly number[],
  px: (i: number) => number,
  py: (i: number) => number,
  colour: string | ((i: number) => string),
  size = 3,
): void {
  const half = size / 2;
  if (typeof colour === "string") {
    ctx.fillStyle = colour;
    ctx.beginPath();
    for (const i of indices) ctx.rect(px(i) - half, py(i) - half, size, size);
    ctx.fill();
    return;
  }
  const groups = new Map<string, number[]>();
  for (const i of indices) {
    const c = colour(i);
    const g = groups.get(c);
    if (g) g.push(i);
    else groups.set(c, [i]);
  }
  for (const [c, g] of groups) dots(ctx, g, px, py, c, size);
}
