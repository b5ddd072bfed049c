/**
 * One request's page: its state, optimisation history, parallel coordinates, slice plots,
 * parameter importance, points, generations, conditions and events, all following the watch
 * through server-sent events. The points come as binary frames: all at once from a server that
 * follows the request, else as the server lists its sets (the page draws what has come, with a
 * progress line, and redraws as frames arrive). Marked for the benchmark: performance marks
 * "hpo:data" (the request and the first frame are in), "hpo:draw-start", "hpo:drawn",
 * "hpo:first-paint" (the frame after the first drawing) and "hpo:complete" (the frame after every
 * point is drawn); body[data-painted] at the first paint, body[data-complete] once every point and
 * the parameter importance are drawn.
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
import { follow, getFrames, getJson, requestPath, type Stream } from "./api.ts";
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

/** LOADING_DRAW_MS spaces the drawings while the points are still coming. */
const LOADING_DRAW_MS = 500;

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
  const frames = getFrames(`${base}/points.bin`);
  let more = true;
  try {
    const [detail, first] = await Promise.all([getJson<RequestDetail>(base), frames.next()]);
    if (first.done) throw new Error("the server sent no points");
    performance.mark("hpo:data");
    page = new RequestPage(main, detail, PointStore.decode(detail.params, first.value), live);
    for (const [k, d] of early.splice(0)) page.apply(k, d);
    page.firstPaint();
  } catch (e) {
    stream.close();
    void frames.return(undefined);
    throw e;
  }
  const shown = page;
  // The rest of the frames, while the server lists the sets (none when it had every point).
  void (async () => {
    for await (const frame of frames) {
      if (!more) return;
      shown.addFrame(frame);
    }
    // A page left while its points came is not marked complete (the next page owns the body's marks).
    if (more) shown.loaded();
  })().catch((e) => shown.loadFailed(e as Error));
  return {
    close: () => {
      more = false;
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
  /** loading says how far the points have come while the server lists them; hidden once all are in. */
  private readonly loading = h("p", { className: "loading muted", role: "status" });
  private complete = false;
  /** The store's version the charts show. */
  private drawnVersion = -1;
  /** Points a live update changed while frames were coming: a frame's older copy does not replace them. */
  private readonly liveIds = new Set<number>();

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
      this.loading,
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
    this.showLoading();
    requestAnimationFrame(() => {
      performance.mark("hpo:first-paint");
      document.body.dataset.painted = String(this.store.size);
      if (!this.complete)
        replace(this.importance, h("p", { className: "muted" }, "Shown once every point is in."));
    });
  }

  /** addFrame takes a frame of points the server listed since the previous one. */
  addFrame(frame: ArrayBuffer): void {
    this.store.absorb(PointStore.decode(this.store.params, frame), this.liveIds);
    this.table.refresh(); // the rows moved: the table's order is made again
    this.showLoading();
    this.scheduleDraw();
  }

  /** loaded: every point is in; the charts are drawn with all of them, and the moment marked. */
  loaded(): void {
    this.complete = true;
    this.liveIds.clear();
    this.showLoading();
    clearTimeout(this.drawTimer);
    this.drawTimer = undefined;
    requestAnimationFrame(() => {
      if (this.drawnVersion !== this.store.version) {
        this.drawCharts();
        this.table.refresh();
      }
      requestAnimationFrame(() => {
        performance.mark("hpo:complete");
        // The importance, below the charts, after them (as at a first paint).
        setTimeout(() => {
          replace(this.importance, importanceBars(this.store));
          document.body.dataset.complete = String(this.store.size);
        }, 0);
      });
    });
  }

  /** loadFailed says the points stopped coming, and why. */
  loadFailed(e: Error): void {
    this.loading.textContent = `Loading the points failed: ${e.message}. Reload the page to try again.`;
    this.loading.classList.add("error");
  }

  private showLoading(): void {
    const total = Math.max(this.row.total, this.store.size);
    this.loading.textContent = this.complete
      ? ""
      : `Loading the points as the API server lists them: ${this.store.size.toLocaleString("en")} of ${total.toLocaleString("en")}…`;
    this.loading.hidden = this.complete;
  }

  private drawCharts(): void {
    const t0 = performance.now();
    this.hit = drawHistory(this.history, this.store, this.row.direction, this.logY.checked);
    drawParallel(this.parallel, this.store, this.row.direction);
    for (const j of this.slicesInView) this.drawSliceOnce(j);
    this.drawnVersion = this.store.version;
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

  /**
   * scheduleDraw redraws soon: at once for small requests, spaced out when drawing is slow, and
   * while the points are still coming at most every LOADING_DRAW_MS, with the importance left for
   * when all are in (the machine's time goes to loading them).
   */
  private scheduleDraw(): void {
    if (this.drawTimer !== undefined) return;
    const gap = this.complete ? Math.min(1000, this.lastDrawMs * 4) : LOADING_DRAW_MS;
    const wait = Math.max(0, this.lastDrawAt + gap - performance.now());
    this.drawTimer = window.setTimeout(() => {
      requestAnimationFrame(() => {
        this.drawTimer = undefined;
        this.drawCharts();
        this.table.refresh();
        if (this.complete) replace(this.importance, importanceBars(this.store));
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
        if (!this.complete) for (const r of d.rows) this.liveIds.add(r.id);
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
