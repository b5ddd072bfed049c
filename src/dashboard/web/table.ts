/**
 * The points table: every point of a request, sortable by any column and filtered by state, with
 * CSV and JSON export. Only the rows in view are in the DOM (fixed row height), so 100,000 points
 * scroll as fast as 10.
 */

import { formatNumber } from "./analysis.ts";
import { requestPath } from "./api.ts";
import { h, keepFocus, replace } from "./dom.ts";
import type { PointStore } from "./store.ts";

const ROW = 26;
const stateNames = ["new", "evaluated", "failed"];

type Column = { key: string; title: string; value: (i: number) => number | string | null };

/** PointsTable renders a store's points. */
export class PointsTable {
  readonly el: HTMLElement;
  private readonly store: PointStore;
  private readonly scroller: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly head: HTMLTableRowElement;
  private readonly count: HTMLElement;
  private readonly exports: HTMLElement;
  private order: number[] = [];
  private sortKey = "id";
  private descending = false;
  private filter = "all";
  private columns: Column[] = [];
  private readonly base: string;
  private readonly setOf: (id: number) => string;

  constructor(store: PointStore, ns: string, name: string, pointsPerSet: number | undefined) {
    this.store = store;
    this.base = requestPath(ns, name);
    this.setOf = (id) => (pointsPerSet ? `${name}-${Math.ceil(id / pointsPerSet)}` : "–");
    const select = h(
      "select",
      { id: "state-filter", onchange: (e: Event) => this.setFilter((e.target as HTMLSelectElement).value) },
      ["all", ...stateNames].map((s) => h("option", { value: s }, s)),
    );
    this.count = h("span", { className: "muted", "aria-live": "polite" });
    this.exports = h("span", { className: "exports" });
    this.head = h("tr");
    this.body = h("tbody");
    this.scroller = h(
      "div",
      {
        className: "scroller",
        tabindex: "0",
        role: "region",
        "aria-label": "Points (scroll with the arrow keys)",
      },
      h("table", { className: "points" }, h("thead", {}, this.head), this.body),
    );
    this.scroller.addEventListener("scroll", () => this.renderRows());
    this.el = h(
      "div",
      {},
      h(
        "div",
        { className: "toolbar" },
        h("label", { for: "state-filter" }, "State "),
        select,
        this.count,
        this.exports,
      ),
      this.scroller,
    );
    this.refresh();
  }

  private setFilter(value: string): void {
    this.filter = value;
    this.refresh();
  }

  private sortBy(key: string): void {
    this.descending = this.sortKey === key ? !this.descending : false;
    this.sortKey = key;
    this.refresh();
  }

  private makeColumns(): Column[] {
    const s = this.store;
    return [
      { key: "id", title: "id", value: (i) => s.ids[i] as number },
      { key: "generation", title: "generation", value: (i) => s.generation[i] as number },
      { key: "state", title: "state", value: (i) => stateNames[s.state[i] as number] as string },
      {
        key: "loss",
        title: "loss",
        value: (i) => (Number.isNaN(s.loss[i] as number) ? null : (s.loss[i] as number)),
      },
      ...s.params.map((p, j) => ({
        key: `p:${p.name}`,
        title: p.name,
        value: (i: number) => {
          const v = s.value(j, i);
          return typeof v === "number" || typeof v === "string" ? v : v === null ? null : JSON.stringify(v);
        },
      })),
      { key: "set", title: "set", value: (i) => this.setOf(s.ids[i] as number) },
      { key: "reason", title: "reason", value: (i) => s.reasons[String(s.ids[i])] ?? null },
    ];
  }

  /** refresh sorts and filters again (after a change) and redraws. */
  refresh(): void {
    keepFocus(() => this.draw());
  }

  private draw(): void {
    const s = this.store;
    this.columns = this.makeColumns();
    const want = stateNames.indexOf(this.filter);
    const rows: number[] = [];
    for (let i = 0; i < s.size; i++) if (want < 0 || s.state[i] === want) rows.push(i);
    const col = this.columns.find((c) => c.key === this.sortKey) ?? (this.columns[0] as Column);
    if (col.key !== "id" || this.descending) {
      const keys = rows.map((i) => col.value(i));
      const pos = rows.map((_, k) => k);
      const sign = this.descending ? -1 : 1;
      pos.sort((a, b) => {
        const x = keys[a];
        const y = keys[b];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1; // empty cells last
        if (y === null || y === undefined) return -1;
        return sign * (x < y ? -1 : 1);
      });
      this.order = pos.map((k) => rows[k] as number);
    } else this.order = rows;
    this.count.textContent = ` ${this.order.length} of ${s.size} points`;
    const q = this.filter === "all" ? "" : `?state=${this.filter}`;
    replace(
      this.exports,
      h("a", { href: `${this.base}/points.csv${q}`, download: "" }, "Export CSV"),
      " ",
      h("a", { href: `${this.base}/points.json${q}`, download: "" }, "Export JSON"),
    );
    replace(
      this.head,
      this.columns.map((c) =>
        h(
          "th",
          {
            scope: "col",
            "aria-sort": c.key === this.sortKey ? (this.descending ? "descending" : "ascending") : "none",
          },
          h(
            "button",
            {
              type: "button",
              className: "sort",
              "data-key": `sort:${c.key}`,
              onclick: () => this.sortBy(c.key),
            },
            c.title,
          ),
        ),
      ),
    );
    this.renderRows();
  }

  /** update redraws the rows in view (values changed, order kept). */
  update(): void {
    this.renderRows();
  }

  private renderRows(): void {
    const view = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW) - 5);
    const last = Math.min(this.order.length, first + Math.ceil(view / ROW) + 10);
    const spacer = (px: number) => {
      const tr = h("tr", { className: "spacer", "aria-hidden": "true" });
      tr.style.height = `${px}px`;
      return tr;
    };
    const rows: HTMLElement[] = [spacer(first * ROW)];
    for (let k = first; k < last; k++) {
      const i = this.order[k] as number;
      const tr = h("tr", { "data-id": String(this.store.ids[i]) });
      for (const c of this.columns) {
        const v = c.value(i);
        const plain = c.key === "id" || c.key === "generation";
        const text = typeof v === "number" ? (plain ? String(v) : formatNumber(v)) : (v ?? "–");
        tr.append(
          h("td", { className: c.key === "loss" ? "loss num" : typeof v === "number" ? "num" : c.key }, text),
        );
      }
      rows.push(tr);
    }
    rows.push(spacer((this.order.length - last) * ROW));
    replace(this.body, rows);
  }
}
