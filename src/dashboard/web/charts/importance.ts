/**
 * Parameter importance as labelled bars (HTML, so screen readers read the numbers): importance()
 * of analysis.ts on the evaluated points (at most 20,000 of them, evenly spaced by id).
 */
import { formatNumber, importance } from "../analysis.ts";
import { h } from "../dom.ts";
import type { PointStore } from "../store.ts";

const MAX_POINTS = 20_000;

/** importanceBars renders the importance of each parameter, the largest first. */
export function importanceBars(store: PointStore): HTMLElement {
  const evaluated: number[] = [];
  for (let i = 0; i < store.size; i++) if (!Number.isNaN(store.loss[i] as number)) evaluated.push(i);
  if (evaluated.length < 3)
    return h("p", { className: "muted" }, "Importance needs at least 3 evaluated points.");
  const step = Math.max(1, evaluated.length / MAX_POINTS);
  const rows: number[] = [];
  for (let k = 0; k < evaluated.length; k += step) rows.push(evaluated[Math.floor(k)] as number);
  const pick = (col: Float64Array) => Float64Array.from(rows, (i) => col[i] as number);
  const scores = importance(
    store.cols.map(pick),
    store.categories.map((c) => c !== undefined),
    pick(store.loss),
  );
  const order = scores.map((_, j) => j).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  return h(
    "ul",
    {
      className: "bars",
      "aria-label": "Parameter importance (share of the loss's variance explained, 0 to 1)",
    },
    order.map((j) => {
      const score = scores[j] as number;
      const bar = h("span", { className: "bar" });
      bar.style.width = `${Math.max(0.5, score * 100)}%`;
      return h(
        "li",
        {},
        h("span", { className: "bar-label" }, store.params[j]?.name ?? ""),
        h("span", { className: "bar-track" }, bar),
        h("span", { className: "bar-value" }, formatNumber(score)),
      );
    }),
  );
}
