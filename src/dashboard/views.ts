/**
 * Live views: list/watch caches of what a page shows, shared by every browser that shows it, and
 * turned into the wire format (wire.ts) as snapshots and as changes for server-sent events. A view
 * of one request lives while a page follows it, and a minute after (so a reload is fast).
 */
import {
  type HPORequest,
  type HyperParameterSet,
  initialOf,
  LABEL_REQUEST,
  type Point,
  pointsOfSets,
  setsOfRequest,
} from "../api/index.ts";
import { paths } from "../runtime/client.ts";
import { ForbiddenError } from "../runtime/errors.ts";
import {
  changedPoints,
  conditionRows,
  encodePoints,
  eventRows,
  generationsOf,
  type Job,
  type KubeEvent,
  type Pod,
  paramsOf,
  pointRowOf,
  rowOf,
} from "./model.ts";
import type { Cache, DashboardReader } from "./reader.ts";
import type { ListStreamEvents, RequestDetail, RequestRow, RequestStreamEvents } from "./wire.ts";

const API = "hpo.dev/v1alpha1";

/** Listener receives a view's changes as (event name, data). */
export type Listener<E> = <K extends keyof E>(event: K, data: E[K]) => void;

/** RequestsView follows every HPORequest the reader may list (one shared cache). */
export class RequestsView {
  private cache: Cache<HPORequest> | undefined;
  private starting: Promise<Cache<HPORequest>> | undefined;
  private readonly listeners = new Set<Listener<ListStreamEvents>>();

  private readonly reader: DashboardReader;
  private readonly scope: string[] | undefined;
  private readonly fallbackNamespaces: string[];

  /** scope: the namespaces to follow (undefined: those the reader may list, else fallbackNamespaces). */
  constructor(reader: DashboardReader, scope: string[] | undefined, fallbackNamespaces: string[]) {
    this.reader = reader;
    this.scope = scope;
    this.fallbackNamespaces = fallbackNamespaces;
  }

  /** ready starts the cache on first use and waits for its first list. */
  async ready(): Promise<void> {
    this.starting ??= (async () => {
      const namespaces = this.scope ?? (await this.reader.readableNamespaces(this.fallbackNamespaces));
      const cache = this.reader.cache<HPORequest>({ apiVersion: API, plural: "hporequests", namespaces });
      cache.informer.on((type, obj) => {
        const event =
          type === "DELETED"
            ? ({
                name: "remove",
                data: { namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" },
              } as const)
            : ({ name: "upsert", data: { row: rowOf(obj) } } as const);
        for (const l of this.listeners) l(event.name, event.data as never);
      });
      this.cache = cache;
      return cache;
    })();
    const cache = await this.starting;
    try {
      await cache.ready();
    } catch (e) {
      this.starting = undefined; // a refusal may be lifted: try again next time
      throw e;
    }
  }

  /** rows are the requests, newest first. */
  rows(): RequestRow[] {
    const rows = (this.cache?.informer.list() ?? []).map(rowOf);
    return rows.sort((a, b) => (b.created ?? "").localeCompare(a.created ?? ""));
  }

  /** subscribe adds a listener until the returned function is called. */
  subscribe(l: Listener<ListStreamEvents>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** stop ends the watch. */
  async stop(): Promise<void> {
    await this.cache?.stop();
  }
}

/** Optional sections of a request's page and the caches behind them. */
type Section = "events" | "jobs" | "pods";

/** RequestView follows one request: itself, its sets, its Events and (containers) Jobs and pods. */
export class RequestView {
  private readonly request: Cache<HPORequest>;
  private readonly sets: Cache<HyperParameterSet>;
  private readonly optional = new Map<Section, Cache<never>>();
  private readonly hidden = new Set<Section>();
  private readonly listeners = new Set<Listener<RequestStreamEvents>>();
  private generationsTimer: NodeJS.Timeout | undefined;
  /** setsVersion counts the changes of the sets; memo keeps the points (and their binary form) of one. */
  private setsVersion = 0;
  private memo: { key: string; points: Point[]; binary?: Buffer } | undefined;
  /** started: the request and the optional sections are listed; allListed: the sets too. */
  private readonly started: Promise<void>;
  private readonly allListed: Promise<void>;
  /** listing are told each set the first list of the sets brings, then undefined at its end. */
  private readonly listing = new Set<(set: HyperParameterSet | undefined) => void>();
  users = 0;
  private readonly reader: DashboardReader;
  readonly namespace: string;
  readonly name: string;

  constructor(reader: DashboardReader, namespace: string, name: string) {
    this.reader = reader;
    this.namespace = namespace;
    this.name = name;
    const ns = [namespace];
    const byRequest = `${LABEL_REQUEST}=${name}`;
    this.request = reader.cache({
      apiVersion: API,
      plural: "hporequests",
      namespaces: ns,
      fieldSelector: `metadata.name=${name}`,
    });
    this.sets = reader.cache({
      apiVersion: API,
      plural: "hyperparametersets",
      namespaces: ns,
      labelSelector: byRequest,
    });
    this.request.informer.on((type, obj) => this.requestChanged(type, obj));
    this.sets.informer.on((type, set, old) => this.setChanged(type, set, old));
    this.addOptional("events", {
      apiVersion: "v1",
      plural: "events",
      namespaces: ns,
      fieldSelector: `involvedObject.name=${name},involvedObject.kind=HPORequest`,
    });
    this.started = this.start(byRequest);
    this.allListed = Promise.all([this.started, this.sets.ready()]).then(() => {});
    // At the end of the sets' first list, the pages loading points are told, and see the generations.
    const listEnd = () => {
      for (const l of this.listing) l(undefined);
      this.listing.clear();
      this.generationsChanged();
    };
    this.sets.ready().then(listEnd, listEnd);
  }

  private async start(byRequest: string): Promise<void> {
    await this.request.ready();
    if (this.req()?.spec.method === "container") {
      const ns = [this.namespace];
      this.addOptional("jobs", {
        apiVersion: "batch/v1",
        plural: "jobs",
        namespaces: ns,
        labelSelector: byRequest,
      });
      this.addOptional("pods", {
        apiVersion: "v1",
        plural: "pods",
        namespaces: ns,
        labelSelector: byRequest,
      });
    }
    await Promise.all(
      [...this.optional].map(([section, cache]) =>
        cache.ready().catch((e) => {
          if (!(e instanceof ForbiddenError)) throw e;
          this.hidden.add(section);
        }),
      ),
    );
  }

  private addOptional(section: Section, spec: Parameters<DashboardReader["cache"]>[0]): void {
    const cache = this.reader.cache<never>(spec);
    cache.informer.on(() => (section === "events" ? this.emitEvents() : this.generationsChanged()));
    this.optional.set(section, cache);
  }

  /** ready waits for every first list (the sets' too); it rejects when the request cannot be read. */
  ready(): Promise<void> {
    return this.allListed;
  }

  /**
   * pageReady waits for what a page needs before it shows anything: the request, its optional
   * sections, and the first of its sets (the rest come through pointFrames as they are listed).
   */
  async pageReady(): Promise<void> {
    await this.started;
    await this.sets.begun();
  }

  /** setsListed tells whether the sets' first list is in (then binaryPoints has every point). */
  setsListed(): boolean {
    return this.sets.informer.hasSynced();
  }

  /**
   * followListing calls l with each set the sets' first list brings from now on, then with
   * undefined at its end (at once when it has ended); it returns the function that stops it.
   */
  followListing(l: (set: HyperParameterSet | undefined) => void): () => void {
    if (this.setsListed()) {
      l(undefined);
      return () => {};
    }
    this.listing.add(l);
    return () => this.listing.delete(l);
  }

  /** pointFrame is the points of some sets of the request, in the binary format (one frame). */
  pointFrame(sets: readonly HyperParameterSet[]): Buffer | undefined {
    const req = this.req();
    if (!req) return undefined;
    const points = pointsOfSets(setsOfRequest(sets, req), initialOf(req));
    return encodePoints(points, paramsOf(req, points));
  }

  /** cachedSets are the sets listed so far. */
  cachedSets(): HyperParameterSet[] {
    return this.sets.informer.list();
  }

  /** req is the request, once listed (undefined when it does not exist). */
  req(): HPORequest | undefined {
    return this.request.informer.get(this.namespace, this.name);
  }

  /** points are the request's points, in id order, kept until a set changes (pages load them twice). */
  private points(req: HPORequest): Point[] {
    const key = `${this.setsVersion}/${req.metadata?.uid}`;
    if (this.memo?.key !== key) {
      const points = pointsOfSets(setsOfRequest(this.sets.informer.list(), req), initialOf(req));
      this.memo = { key, points };
    }
    return this.memo.points;
  }

  private listed<T>(section: Section): T[] {
    return (this.optional.get(section)?.informer.list() ?? []) as T[];
  }

  /** detail is everything the request's page shows; undefined when the request does not exist. */
  detail(): RequestDetail | undefined {
    const req = this.req();
    if (!req) return undefined;
    const points = this.points(req);
    const params = paramsOf(req, points);
    return {
      row: rowOf(req),
      params,
      pointsPerSet: req.status?.pointsPerSet,
      generations: generationsOf(req, points, this.listed<Job>("jobs"), this.listed<Pod>("pods")),
      conditions: conditionRows(req),
      events: eventRows(this.listed<KubeEvent>("events")),
      hidden: [...this.hidden],
    };
  }

  /** binaryPoints are the request's points in the binary format of wire.ts (PointsHeader). */
  binaryPoints(): Buffer | undefined {
    const req = this.req();
    if (!req) return undefined;
    const points = this.points(req);
    const memo = this.memo as { binary?: Buffer };
    memo.binary ??= encodePoints(points, paramsOf(req, points));
    return memo.binary;
  }

  /** rows are the request's points in the wire order of parameters (for exports). */
  pointRows(): { params: ReturnType<typeof paramsOf>; rows: ReturnType<typeof pointRowOf>[] } | undefined {
    const req = this.req();
    if (!req) return undefined;
    const points = this.points(req);
    const params = paramsOf(req, points);
    return { params, rows: points.map((p) => pointRowOf(p, params)) };
  }

  private emit<K extends keyof RequestStreamEvents>(event: K, data: RequestStreamEvents[K]): void {
    for (const l of this.listeners) l(event, data);
  }

  private requestChanged(type: string, req: HPORequest): void {
    if (type === "DELETED") {
      this.emit("deleted", { namespace: this.namespace, name: this.name });
      return;
    }
    this.emit("request", { row: rowOf(req), conditions: conditionRows(req), params: paramsOf(req) });
    this.generationsChanged();
  }

  private setChanged(type: string, set: HyperParameterSet, old: HyperParameterSet | undefined): void {
    this.setsVersion++;
    if (!this.setsListed()) {
      if (type !== "DELETED") for (const l of this.listing) l(set);
      return;
    }
    const req = this.req();
    if (!req || type === "DELETED") return;
    const changed = changedPoints(set, old, initialOf(req));
    if (changed.length === 0) return;
    const params = paramsOf(req, changed);
    this.emit("points", {
      params: params.map((p) => p.name),
      rows: changed.map((p) => pointRowOf(p, params)),
    });
    this.generationsChanged();
  }

  /** generationsChanged sends the generations again, at most about once a second. */
  private generationsChanged(): void {
    if (this.generationsTimer || this.listeners.size === 0) return;
    this.generationsTimer = setTimeout(() => {
      this.generationsTimer = undefined;
      const req = this.req();
      if (!req) return;
      const rows = generationsOf(req, this.points(req), this.listed<Job>("jobs"), this.listed<Pod>("pods"));
      this.emit("generations", { rows });
    }, 1000);
  }

  private emitEvents(): void {
    this.emit("events", { rows: eventRows(this.listed<KubeEvent>("events")) });
  }

  /** subscribe adds a listener until the returned function is called. */
  subscribe(l: Listener<RequestStreamEvents>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** stop ends every watch of the view. */
  async stop(): Promise<void> {
    clearTimeout(this.generationsTimer);
    await Promise.all([
      this.request.stop(),
      this.sets.stop(),
      ...[...this.optional.values()].map((c) => c.stop()),
    ]);
  }
}

/**
 * DashboardBusyError refuses a page whose request would take the points the dashboard follows
 * over its limit (the in-cluster API server's --dashboard-max-points): answered 503, with what to do.
 */
export class DashboardBusyError extends Error {}

/**
 * RequestViews keeps one RequestView per request while pages use it, and lingerMs after. With
 * maxPoints, the requests it follows hold at most that many points between them (each counted at
 * the size its status gave when its first page came): a new one first ends views no page uses,
 * the longest unused first, and is refused (DashboardBusyError) when that is not enough.
 */
export class RequestViews {
  private readonly views = new Map<
    string,
    { view: RequestView; points: number; timer?: NodeJS.Timeout; releasedAt?: number }
  >();

  private readonly reader: DashboardReader;
  private readonly lingerMs: number;
  private readonly maxPoints: number;

  constructor(reader: DashboardReader, lingerMs = 60_000, maxPoints = 0) {
    this.reader = reader;
    this.lingerMs = lingerMs;
    this.maxPoints = maxPoints;
  }

  /** acquire returns the view of a request (made on first use); release it when done. */
  async acquire(namespace: string, name: string): Promise<RequestView> {
    const key = `${namespace}/${name}`;
    let entry = this.views.get(key);
    if (!entry) {
      const points = this.maxPoints > 0 ? await this.sizeOf(namespace, name) : 0;
      entry = this.views.get(key); // another page may have made it meanwhile
      if (!entry) {
        this.makeRoom(name, points);
        entry = { view: new RequestView(this.reader, namespace, name), points };
        this.views.set(key, entry);
        // A view that cannot read its request is not kept.
        entry.view.ready().catch(() => this.drop(key));
      }
    }
    clearTimeout(entry.timer);
    entry.releasedAt = undefined;
    entry.view.users++;
    return entry.view;
  }

  /** sizeOf is how many points a request has, as its status says (0 when it cannot be read). */
  private async sizeOf(namespace: string, name: string): Promise<number> {
    const req = await this.reader.kube
      .get<HPORequest>(paths.object(API, "hporequests", namespace, name))
      .catch(() => undefined); // the view itself will say what is wrong
    return req?.status?.points?.total ?? 0;
  }

  /** makeRoom ends unused views until points more fit under maxPoints, or refuses. */
  private makeRoom(name: string, points: number): void {
    if (this.maxPoints <= 0) return;
    const followed = () => [...this.views.values()].reduce((n, e) => n + e.points, 0);
    const unused = [...this.views.entries()]
      .filter(([, e]) => e.view.users === 0)
      .sort(([, a], [, b]) => (a.releasedAt ?? 0) - (b.releasedAt ?? 0));
    for (const [key] of unused) {
      if (followed() + points <= this.maxPoints) break;
      this.drop(key);
    }
    const now = followed();
    if (now + points > this.maxPoints) {
      throw new DashboardBusyError(
        `the dashboard follows ${now.toLocaleString("en")} points of requests open in other pages, and "${name}" has ${points.toLocaleString("en")}: over its limit of ${this.maxPoints.toLocaleString("en")} (hpo-operator api --dashboard-max-points). Try again when other pages close, or ask the cluster's admin to raise the limit (and the API server's memory with it)`,
      );
    }
  }

  /** release says a page no longer uses the view. */
  release(view: RequestView): void {
    const key = `${view.namespace}/${view.name}`;
    const entry = this.views.get(key);
    if (!entry || entry.view !== view) return;
    view.users--;
    if (view.users > 0) return;
    entry.releasedAt = Date.now();
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.drop(key), this.lingerMs);
    entry.timer.unref();
  }

  private drop(key: string): void {
    const entry = this.views.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.views.delete(key);
    void entry.view.stop();
  }

  /** stop ends every view. */
  async stop(): Promise<void> {
    await Promise.all([...this.views.keys()].map((k) => this.drop(k)));
  }
}
