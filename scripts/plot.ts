/**
 * A small SVG line plot of convergence curves (best loss so far per evaluation), with no
 * dependencies: axes, ticks, one polyline per series and a legend.
 */

/** Series is one named curve. */
export interface Series {
  name: string;
  values: number[];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"];

/** convergenceSvg draws the series against the evaluation number. */
export function convergenceSvg(title: string, series: Series[], width = 640, height = 400): string {
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const x = (i: number) => m.left + (i / Math.max(1, n - 1)) * (width - m.left - m.right);
  const y = (v: number) => m.top + (1 - (v - lo) / span) * (height - m.top - m.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">evaluations</text>`,
    `<text x="16" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.top + height - m.bottom) / 2})">best loss so far</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = lo + (span * t) / 4;
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(3)}</text>`);
    const i = Math.round(((n - 1) * t) / 4);
    parts.push(`<text x="${x(i)}" y="${height - m.bottom + 16}" text-anchor="middle">${i + 1}</text>`);
  }
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/>`);
    parts.push(`<rect x="${width - 220}" y="${m.top + 8 + k * 18}" width="14" height="4" fill="${colour}"/>`);
    parts.push(`<text x="${width - 200}" y="${m.top + 14 + k * 18}">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
