/**
 * The requests page: every request the user may read, with phase, method, progress, best loss and
 * age; sortable columns, a text filter and a phase filter; rows follow the watch live.
 */
import type { ListStreamEvents, RequestRow } from "../wire.ts";
import { formatNumber } from "./analysis.ts";
import { follow, getJson, type Stream } from "./api.ts";
import { age, h, keepFocus, replace } from "./dom.ts";

type Key = "namespace" | "name" | "phase" | "method" | "progress" | "best" | "age";

const columns: { key: Key; title: string }[] = [
  { key: "namespace", title: "Namespace" },
  { key: "name", title: "Name" },
  { key: "phase", title: "Phase" },
  { key: "method", title: "Method" },
  { key: "progress", title: "Progress" },
  { key: "best", title: "Best loss" },
  { key: "age", title: "Age" },
];

const progressOf = (r: RequestRow) => (r.maxPoints ? (r.evaluated + r.failed) / r.maxPoints : 0);

function sortValue(r: RequestRow, key: Key): string | number {
  switch (key) {
    case "progress":
      return progressOf(r);
    case "best":
      return r.bestLoss ?? Number.POSITIVE_INFINITY;
    case "age":
      return -(Date.parse(r.created ?? "") || 0);
    case "phase":
      return r.phase ?? "";
    default:
      return r[key];
  }
}

/** progressBar is a labelled progress bar of a request. */
export function progressBar(r: RequestRow): HTMLElement {
  const max = r.maxPoints ?? Math.max(r.total, 1);
  const done = r.evaluated + r.failed;
  return h(
    "span",
    { className: "progress-cell" },
    h("progress", { max, value: done, "aria-label": `${r.name}: ${done} of ${max} points done` }),
    h("span", { className: "muted" }, ` ${r.evaluated}/${max}${r.failed ? ` (${r.failed} failed)` : ""}`),
  );
}

/** phaseBadge shows a phase in a colour (with its name: colour is never the only cue). */
export function phaseBadge(phase: string | undefined): HTMLElement {
  return h("span", { className: `badge phase-${(phase ?? "none").toLowerCase()}` }, phase ?? "—");
}

/** showList renders the requests page into main; it returns the stream to close on leaving. */
export async function showList(main: HTMLElement): Promise<Stream> {
  const rows = new Map<string, RequestRow>();
  let sortKey: Key = "age";
  let descending = false;
  const text = h("input", {
    id: "filter",
    type: "search",
    placeholder: "namespace, name, method…",
    autocomplete: "off",
  });
  const phase = h(
    "select",
    { id: "phase-filter" },
    ["all", "Pending", "Generating", "Waiting", "Finished", "SubFinished", "Failed", "Suspended"].map((p) =>
      h("option", { value: p }, p),
    ),
  );
  const head = h("tr");
  const body = h("tbody");
  const status = h("p", { className: "muted", "aria-live": "polite" });
  const render = () => keepFocus(draw);
  const draw = () => {
    const q = text.value.trim().toLowerCase();
    const shown = [...rows.values()].filter(
      (r) =>
        (phase.value === "all" || r.phase === phase.value) &&
        (!q || `${r.namespace}/${r.name} ${r.method} ${r.phase ?? ""}`.toLowerCase().includes(q)),
    );
    const sign = descending ? -1 : 1;
    shown.sort((a, b) => {
      const x = sortValue(a, sortKey);
      const y = sortValue(b, sortKey);
      return x === y ? a.name.localeCompare(b.name) : sign * (x < y ? -1 : 1);
    });
    replace(
      head,
      columns.map((c) =>
        h(
          "th",
          {
            scope: "col",
            "aria-sort": c.key === sortKey ? (descending ? "descending" : "ascending") : "none",
          },
          h(
            "button",
            {
              type: "button",
              className: "sort",
              "data-key": `sort:${c.key}`,
              onclick: () => {
                descending = sortKey === c.key ? !descending : false;
                sortKey = c.key;
                render();
              },
            },
            c.title,
          ),
        ),
      ),
    );
    replace(
      body,
      shown.map((r) =>
        h(
          "tr",
          { "data-request": `${r.namespace}/${r.name}` },
          h("td", {}, r.namespace),
          h(
            "td",
            {},
            h(
              "a",
              {
                href: `#/r/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`,
                "data-key": `request:${r.namespace}/${r.name}`,
              },
              r.name,
            ),
          ),
          h("td", { title: r.message }, phaseBadge(r.phase)),
          h("td", {}, r.method),
          h("td", {}, progressBar(r)),
          h("td", { className: "num" }, formatNumber(r.bestLoss)),
          h("td", { className: "num" }, age(r.created)),
        ),
      ),
    );
    status.textContent = `${shown.length} of ${rows.size} requests`;
  };
  text.addEventListener("input", render);
  phase.addEventListener("change", render);
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const set = (list: RequestRow[]) => {
    rows.clear();
    for (const r of list) rows.set(key(r.namespace, r.name), r);
    render();
  };
  replace(
    main,
    h("h1", {}, "Requests"),
    h(
      "div",
      { className: "toolbar" },
      h("label", { for: "filter" }, "Filter "),
      text,
      h("label", { for: "phase-filter" }, " Phase "),
      phase,
    ),
    h(
      "div",
      { className: "card" },
      h("table", { className: "requests" }, h("thead", {}, head), body),
      status,
    ),
  );
  set((await getJson<{ rows: RequestRow[] }>("api/requests")).rows);
  return follow<ListStreamEvents>("api/requests/stream", {
    snapshot: (d) => set(d.rows),
    upsert: (d) => {
      rows.set(key(d.row.namespace, d.row.name), d.row);
      render();
    },
    remove: (d) => {
      rows.delete(key(d.namespace, d.name));
      render();
    },
  });
}
