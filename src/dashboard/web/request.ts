/**
 * One request's page: its state, optimisation history, parallel coordinates, slice plots,
 * parameter importance, points, generations, conditions and events, all following the watch
 * through server-sent events. The first full drawing is marked for the benchmark: performance marks
 * "hpo:data" (the data is in), "hpo:draw-start", "hpo:drawn" and "hpo:first-paint" (the frame
 * after), and body[data-painted].
 */
import type {
  ConditionRow,
  EventRow,
  GenerationRow,
  RequestDetail,
  RequestRow,
  RequestStreamEvents,
} from "../wire.ts";
import { formatNumber } from "./analysis.ts";
import { follow, getBinary, getJson, requestPath, type Stream } from "./api.ts";
import { chartCanvas } from "./charts/canvas.ts";
import { drawHistory, type Hit } from "./charts/history.ts";
import { importanceBars } from "./charts/importance.ts";
import { drawParallel } from "./charts/parcoords.ts";
import { drawSlice, sliceGrid } from "./charts/slice.ts";
import { age, duration, h, replace, section } from "./dom.ts";
import { phaseBadge, progressBar } from "./list.ts";
import { PointStore } from "./store.ts";
import { PointsTable } from "./table.ts";

const sections = [
  ["history", "History"],
  ["parallel", "Parallel coordinates"],
  ["slices", "Slices"],
  ["importance", "Importance"],
  ["points", "Points"],
  ["generations", "Generations"],
  ["conditions", "Conditions"],
  ["events", "Events"],
] as const;

/** showRequest renders the page of one request into main; it returns the stream to close on leaving. */
export async function showRequest(main: HTMLElement, ns: string, name: string): Promise<Stream> {
  const base = requestPath(ns, name);
  const early: [keyof RequestStreamEvents, unknown][] = [];
  let page: RequestPage | undefined;
  const live = h("span", { className: "badge live", "aria-live": "polite" }, "connecting");
  const stream = follow<RequestStreamEvents>(
    `${base}/stream`,
    Object.fromEntries(
      (["request", "points", "generations", "events", "deleted"] as const).map((k) => [
        k,
        (d: unknown) => (page ? page.apply(k, d) : early.push([k, d])),
      ]),
    ),
    (on) => {
      live.textContent = on ? "live" : "reconnecting";
      live.classList.toggle("off", !on);
    },
  );
  try {
    const [detail, points] = await Promise.all([
      getJson<RequestDetail>(base),
      getBinary(`${base}/points.bin`),
    ]);
    performance.mark("hpo:data");
    page = new RequestPage(main, detail, PointStore.decode(detail.params, points), live);
    for (const [k, d] of early.splice(0)) page.apply(k, d);
    page.firstPaint();
  } catch (e) {
    stream.close();
    throw e;
  }
  return {
    close: () => {
      stream.close();
      page?.close();
    },
  };
}

/** RequestPage is the rendered page and what keeps it current. */
class RequestPage {
  private row: RequestRow;
  private readonly store: PointStore;
  private readonly table: PointsTable;
  private readonly header = h("div", { className: "summary" });
  private readonly announce = h("p", { className: "sr-live", id: "last-update", "aria-live": "polite" });
  private readonly history = chartCanvas("Optimisation history");
  private readonly readout = h(
    "p",
    { className: "readout muted", "aria-live": "off" },
    "Point at a dot to read it.",
  );
  private readonly logY = h("input", { id: "log-y", type: "checkbox" });
  private readonly parallel = chartCanvas("Parallel coordinates");
  private readonly slices: ReturnType<typeof sliceGrid>;
  /** Slice plots are drawn when in view (or near it), and again when the points changed since. */
  private readonly slicesInView = new Set<number>();
  private readonly sliceVersion = new Map<number, number>();
  private readonly sliceObserver: IntersectionObserver;
  private readonly importance = h("div");
  private readonly generations = h("div");
  private readonly conditions = h("div");
  private readonly events = h("div");
  private hit: Hit = () => undefined;
  private drawTimer: number | undefined;
  private lastDrawMs = 0;
  private lastDrawAt = 0;
  private readonly resize: ResizeObserver;
  private hidden: string[];
  private readonly live: HTMLElement;

  constructor(main: HTMLElement, detail: RequestDetail, store: PointStore, live: HTMLElement) {
    this.live = live;
    this.row = detail.row;
    this.hidden = detail.hidden;
    this.store = store;
    this.table = new PointsTable(this.store, detail.row.namespace, detail.row.name, detail.pointsPerSet);
    this.slices = sliceGrid(this.store);
    this.sliceObserver = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const j = this.slices.canvases.indexOf(e.target as HTMLCanvasElement);
          if (!e.isIntersecting) {
            this.slicesInView.delete(j);
            continue;
          }
          this.slicesInView.add(j);
          this.drawSliceOnce(j);
        }
      },
      { rootMargin: "300px" },
    );
    for (const c of this.slices.canvases) this.sliceObserver.observe(c);
    this.logY.addEventListener("change", () => this.drawCharts());
    this.history.addEventListener("mousemove", (e) => this.pointAt(e));
    replace(
      main,
      h(
        "h1",
        {},
        detail.row.name,
        " ",
        h("span", { className: "muted ns" }, `in ${detail.row.namespace}`),
        " ",
        live,
      ),
      this.header,
      this.announce,
      h(
        "nav",
        { className: "sections", "aria-label": "Sections" },
        sections.map(([id, t]) => h("a", { href: `#${id}`, "data-section": id }, t)),
      ),
      section(
        "history",
        "Optimisation history",
        h(
          "p",
          { className: "muted" },
          "Each loss by point id, the best so far (orange line), and where each generation starts (dashed).",
        ),
        h("figure", {}, this.history),
        h(
          "div",
          { className: "toolbar" },
          this.logY,
          h("label", { for: "log-y" }, " logarithmic loss axis"),
          this.readout,
        ),
      ),
      section(
        "parallel",
        "Parallel coordinates",
        h(
          "p",
          { className: "muted" },
          "One line per evaluated point, coloured by loss rank: yellow is best, dark purple worst.",
        ),
        h("figure", {}, this.parallel),
      ),
      section(
        "slices",
        "Slice plots",
        h(
          "p",
          { className: "muted" },
          "Loss against each parameter, coloured by point id (early dark, late yellow).",
        ),
        this.slices.el,
      ),
      section(
        "importance",
        "Parameter importance",
        h(
          "p",
          { className: "muted" },
          "Share of the loss's variation each parameter explains on its own (see docs/dashboard.md).",
        ),
        this.importance,
      ),
      section("points", "Points", this.table.el),
      section("generations", "Generations", this.generations),
      section("conditions", "Conditions", this.conditions),
      section("events", "Events", this.events),
    );
    main.addEventListener("click", (e) => this.jump(e));
    this.renderHeader();
    this.renderGenerations(detail.generations);
    this.renderConditions(detail.conditions);
    this.renderEvents(detail.events);
    let width = main.clientWidth;
    this.resize = new ResizeObserver(() => {
      if (main.clientWidth === width) return;
      width = main.clientWidth;
      this.sliceVersion.clear(); // a new size: every slice plot is drawn again
      this.scheduleDraw();
    });
    this.resize.observe(main);
  }

  /** jump moves the focus to a section (in-page links must not change the route). */
  private jump(e: Event): void {
    const id = (e.target as HTMLElement).closest("a")?.dataset.section;
    if (!id) return;
    e.preventDefault();
    const target = document.getElementById(id);
    target?.setAttribute("tabindex", "-1");
    target?.focus();
    target?.scrollIntoView();
  }

  /** firstPaint draws everything once and marks when the charts are on screen. */
  firstPaint(): void {
    performance.mark("hpo:draw-start");
    this.drawCharts(); // the points table drew itself when made
    performance.mark("hpo:drawn");
    requestAnimationFrame(() => {
      performance.mark("hpo:first-paint");
      document.body.dataset.painted = String(this.store.size);
      setTimeout(() => replace(this.importance, importanceBars(this.store)), 0);
    });
  }

  private drawCharts(): void {
    const t0 = performance.now();
    this.hit = drawHistory(this.history, this.store, this.row.direction, this.logY.checked);
    drawParallel(this.parallel, this.store, this.row.direction);
    for (const j of this.slicesInView) this.drawSliceOnce(j);
    this.lastDrawMs = performance.now() - t0;
    this.lastDrawAt = performance.now();
  }

  /** drawSliceOnce draws slice plot j unless it already shows the current points. */
  private drawSliceOnce(j: number): void {
    if (this.sliceVersion.get(j) === this.store.version) return;
    const canvas = this.slices.canvases[j];
    if (!canvas) return;
    drawSlice(canvas, this.store, j);
    this.sliceVersion.set(j, this.store.version);
  }

  /** scheduleDraw redraws soon: at once for small requests, spaced out when drawing is slow. */
  private scheduleDraw(): void {
    if (this.drawTimer !== undefined) return;
    const wait = Math.max(0, this.lastDrawAt + Math.min(1000, this.lastDrawMs * 4) - performance.now());
    this.drawTimer = window.setTimeout(() => {
      requestAnimationFrame(() => {
        this.drawTimer = undefined;
        this.drawCharts();
        this.table.refresh();
        replace(this.importance, importanceBars(this.store));
      });
    }, wait);
  }

  private pointAt(e: MouseEvent): void {
    const rect = this.history.getBoundingClientRect();
    const i = this.hit(e.clientX - rect.left, e.clientY - rect.top);
    if (i === undefined) return;
    const s = this.store;
    const params = s.params.map((p, j) => `${p.name}=${show(s.value(j, i))}`).join(", ");
    this.readout.textContent = `point ${s.ids[i]} (generation ${s.generation[i]}): loss ${formatNumber(s.loss[i])}; ${params}`;
  }

  /** apply takes one live event. */
  apply(event: keyof RequestStreamEvents, data: unknown): void {
    switch (event) {
      case "points": {
        const d = data as RequestStreamEvents["points"];
        this.store.merge(d.params, d.rows);
        const last = d.rows.at(-1);
        if (last)
          this.announce.textContent = `point ${last.id}: ${last.loss !== null ? `loss ${last.loss}` : ["new", "evaluated", "failed"][last.state]}`;
        this.table.update();
        this.scheduleDraw();
        return;
      }
      case "request": {
        const d = data as RequestStreamEvents["request"];
        this.row = d.row;
        this.renderHeader();
        this.renderConditions(d.conditions);
        return;
      }
      case "generations":
        this.renderGenerations((data as RequestStreamEvents["generations"]).rows);
        return;
      case "events":
        this.renderEvents((data as RequestStreamEvents["events"]).rows);
        return;
      case "deleted":
        this.live.textContent = "deleted";
        replace(this.announce, "This request was deleted.");
    }
  }

  private renderHeader(): void {
    const r = this.row;
    replace(
      this.header,
      h(
        "dl",
        { className: "facts" },
        h("div", {}, h("dt", {}, "Phase"), h("dd", {}, phaseBadge(r.phase))),
        h("div", {}, h("dt", {}, "Method"), h("dd", {}, r.method)),
        h("div", {}, h("dt", {}, "Progress"), h("dd", {}, progressBar(r))),
        h(
          "div",
          {},
          h("dt", {}, `Best loss (${r.direction})`),
          h(
            "dd",
            { id: "best-loss" },
            `${formatNumber(r.bestLoss)}${r.bestId ? ` (point ${r.bestId})` : ""}`,
          ),
        ),
        h("div", {}, h("dt", {}, "Generations"), h("dd", {}, String(r.generations))),
        h("div", {}, h("dt", {}, "Age"), h("dd", {}, age(r.created))),
      ),
      r.message ? h("p", { className: "message" }, r.message) : null,
    );
  }

  private renderGenerations(rows: GenerationRow[]): void {
    const shown = rows.slice(-100).reverse();
    const jobs = rows.some((g) => g.job);
    const cols = [
      "#",
      "ids",
      "points",
      "evaluated",
      "failed",
      ...(jobs ? ["Job", "pods", "state", "duration", "pod failures"] : []),
      "message",
    ];
    replace(
      this.generations,
      rows.length > shown.length
        ? h("p", { className: "muted" }, `The latest ${shown.length} of ${rows.length} generations.`)
        : null,
      this.hidden.includes("jobs")
        ? h("p", { className: "muted" }, "Jobs and pods are hidden: you may not list them in this namespace.")
        : null,
      table(
        cols,
        shown.map((g) => [
          String(g.number),
          g.firstId !== undefined ? `${g.firstId}–${g.lastId}` : "–",
          String(g.points),
          String(g.evaluated),
          String(g.failed),
          ...(jobs
            ? [
                g.job ?? "–",
                (g.pods ?? []).join(", ") || "–",
                g.state ?? "–",
                duration(g.durationSeconds),
                String(g.failures ?? 0),
              ]
            : []),
          g.message ?? "",
        ]),
        "No generation yet.",
      ),
    );
  }

  private renderConditions(rows: ConditionRow[]): void {
    replace(
      this.conditions,
      table(
        ["type", "status", "reason", "message", "since"],
        rows.map((c) => [c.type, c.status, c.reason ?? "", c.message ?? "", age(c.lastTransitionTime)]),
        "No conditions yet.",
      ),
    );
  }

  private renderEvents(rows: EventRow[]): void {
    replace(
      this.events,
      this.hidden.includes("events")
        ? h("p", { className: "muted" }, "Events are hidden: you may not list events in this namespace.")
        : table(
            ["type", "reason", "message", "count", "last seen"],
            rows.map((e) => [e.type, e.reason, e.message, String(e.count), age(e.last)]),
            "No events.",
          ),
    );
  }

  /** close stops watching the page's size. */
  close(): void {
    this.resize.disconnect();
    this.sliceObserver.disconnect();
    clearTimeout(this.drawTimer);
  }
}

/** show is a parameter value for reading. */
function show(v: unknown): string {
  return typeof v === "number" ? formatNumber(v) : typeof v === "string" ? v : JSON.stringify(v);
}

/** table is a plain table of text cells (or a note when empty). */
function table(headers: string[], rows: string[][], empty: string): HTMLElement {
  if (rows.length === 0) return h("p", { className: "muted" }, empty);
  return h(
    "div",
    { className: "table-wrap" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            {},
            r.map((c) => h("td", {}, c)),
          ),
        ),
      ),
    ),
  );
}
