/**
 * Colours that colour-blind readers can tell apart: Okabe and Ito's eight for categories, viridis
 * (perceptually uniform, readable in greyscale) for a continuous value such as the loss.
 */

/** okabeIto is the Okabe-Ito palette (black left out: it is the text colour). */
export const okabeIto = {
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  green: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  purple: "#CC79A7",
};

// viridis at 9 evenly spaced stops (matplotlib's values), interpolated linearly between them.
const stops: [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** viridis is the colour of t in [0, 1] (0 dark purple, 1 yellow). */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i] as [number, number, number];
  const b = stops[i + 1] as [number, number, number];
  const c = (k: number) => Math.round((a[k] as number) + ((b[k] as number) - (a[k] as number)) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
}

/** viridisTable is viridis at n steps (for drawing many lines without building strings each time). */
export function viridisTable(n = 64): string[] {
  return Array.from({ length: n }, (_, i) => viridis(i / (n - 1)));
}
