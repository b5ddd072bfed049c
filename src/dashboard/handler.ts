/**
 * createDashboardHandler is the dashboard as one Node http handler: the page and its bundle, JSON
 * endpoints and server-sent events, all read-only. `kubectl hpo dashboard` serves it on 127.0.0.1
 * with the user's credentials (serve.ts); the in-cluster API server mounts it under a prefix and
 * passes an authorise hook, which is asked before anything is read for a browser:
 *
 *   GET  {base}/                                       the page (hash routes: #/ and #/r/NS/NAME)
 *   GET  {base}/assets/app.js, app.css                 the bundle
 *   GET  {base}/api/requests                           {rows}: requests the reader may list
 *   GET  {base}/api/requests/stream                    events snapshot, upsert, remove
 *   GET  {base}/api/requests/NS/NAME                   RequestDetail (wire.ts)
 *   GET  {base}/api/requests/NS/NAME/stream            events request, points, generations, events, deleted
 *   GET  {base}/api/requests/NS/NAME/points.bin        the points for the page (binary frames, wire.ts)
 *   GET  {base}/api/requests/NS/NAME/points.csv|.json  the points, ?state=new,evaluated,failed
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HyperParameterSet } from "../api/index.ts";
import { RequestNotFoundError } from "../client/errors.ts";
import { ApiError, ForbiddenError, UnavailableError } from "../runtime/errors.ts";
import { type Asset, loadAssets } from "./assets.ts";
import { csvLines, jsonPoint, parseStateFilter } from "./model.ts";
import type { DashboardReader } from "./reader.ts";
import { openEventStream } from "./sse.ts";
import { DashboardBusyError, RequestsView, type RequestView, RequestViews } from "./views.ts";
import type { GenerationRow, RequestRow, RequestStreamEvents } from "./wire.ts";

/**
 * Authorize decides whether the browser's user may do verb on resource in namespace (in the
 * cluster: a SubjectAccessReview for the user its TokenReview named). Without it, the reader's own
 * credentials are the only check (the local case).
 */
export type Authorize = (
  req: IncomingMessage,
  verb: string,
  resource: string,
  namespace: string,
) => Promise<boolean>;

/** DashboardOptions configure createDashboardHandler. */
export interface DashboardOptions {
  reader: DashboardReader;
  authorize?: Authorize;
  /** The namespaces served, exactly (default: every namespace the reader may list requests in). */
  namespaces?: string[];
  /** Namespaces to show when the reader may list requests in none it can find (default: the reader's). */
  fallbackNamespaces?: string[];
  /** The prefix the handler is mounted under, such as "/dashboard" (default: none). */
  basePath?: string;
  /** Host headers to accept (DNS rebinding protection for the local server); default any. */
  allowedHosts?: string[];
  /** How long a request's view outlives its last page (default 60 s). */
  lingerMs?: number;
  /**
   * The most points the requests followed for pages may hold between them (0 or undefined: no
   * limit); a page past it is answered 503 (see RequestViews).
   */
  maxPoints?: number;
}

/** DashboardHandler serves the dashboard; close() ends its watches. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

/** HttpError is an answer other than 200, with a message for the page. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** createDashboardHandler makes the dashboard's handler. */
export function createDashboardHandler(options: DashboardOptions): DashboardHandler {
  const assets = loadAssets();
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  const { reader, authorize } = options;
  const scope = options.namespaces?.length ? options.namespaces : undefined;
  const requests = new RequestsView(reader, scope, options.fallbackNamespaces ?? [reader.kube.namespace]);
  const views = new RequestViews(reader, options.lingerMs, options.maxPoints);

  const allowed = async (req: IncomingMessage, verb: string, resource: string, ns: string) =>
    !authorize || (await authorize(req, verb, resource, ns));

  const handler = (async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD")
        throw new HttpError(405, "the dashboard is read-only");
      const host = req.headers.host ?? "";
      if (options.allowedHosts && !options.allowedHosts.includes(host)) {
        throw new HttpError(
          421,
          `unexpected Host header ${JSON.stringify(host)}: open the URL the command printed`,
        );
      }
      const url = new URL(req.url ?? "/", "http://dashboard");
      if (!url.pathname.startsWith(base)) throw new HttpError(404, "not found");
      const path = url.pathname.slice(base.length);
      if (path === "") {
        res.writeHead(308, { location: `${base}/` }).end();
        return;
      }
      await route(req, res, path, url.searchParams);
    } catch (e) {
      fail(res, e);
    }
  }) as DashboardHandler;

  const route = async (req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams) => {
    if (path === "/" || path === "/index.html") return sendAsset(req, res, assets.index, "no-cache");
    if (path === "/assets/app.js") return sendAsset(req, res, assets.js);
    if (path === "/assets/app.css") return sendAsset(req, res, assets.css);
    if (path === "/api/requests") {
      await requests.ready();
      return sendJson(res, { rows: await visible(req, requests.rows()) });
    }
    if (path === "/api/requests/stream") return listStream(req, res);
    const m =
      /^\/api\/requests\/([^/]+)\/([^/]+)(\/stream|\/points\.bin|\/points\.csv|\/points\.json)?$/.exec(path);
    if (!m) throw new HttpError(404, `no such page: ${path}`);
    const ns = decodeURIComponent(m[1] as string);
    const name = decodeURIComponent(m[2] as string);
    if (scope && !scope.includes(ns))
      throw new HttpError(
        404,
        `namespace ${ns} is not served here (this dashboard serves ${scope.join(", ")})`,
      );
    if (
      !(await allowed(req, "get", "hporequests", ns)) ||
      !(await allowed(req, "list", "hyperparametersets", ns))
    )
      throw new HttpError(403, `you may not read HPORequests and HyperParameterSets in namespace ${ns}`);
    const view = await views.acquire(ns, name);
    try {
      const exporting = m[3] === "/points.csv" || m[3] === "/points.json";
      // Pages start with what has been listed and get the rest as it comes; exports wait for all of it.
      await (exporting ? view.ready() : view.pageReady());
      if (!view.req()) throw new HttpError(404, `HPORequest "${name}" not found in namespace "${ns}"`);
      if (m[3] === "/stream") return await requestStream(req, res, view, await hiddenFor(req, view)); // until the browser goes
      if (m[3] === "/points.bin") return await sendPoints(res, view);
      if (exporting) return exportPoints(res, view, m[3] as string, q);
      const detail = view.detail();
      if (!detail) throw new HttpError(404, `HPORequest "${name}" not found in namespace "${ns}"`);
      const hidden = await hiddenFor(req, view);
      return sendJson(res, {
        ...detail,
        hidden: [...new Set([...detail.hidden, ...hidden])],
        events: hidden.has("events") ? [] : detail.events,
        generations: redactGenerations(detail.generations, hidden),
      });
    } finally {
      views.release(view);
    }
  };

  /** hiddenFor lists the optional sections the browser's user may not read (Jobs and pods: containers only). */
  const hiddenFor = async (req: IncomingMessage, view: RequestView): Promise<Set<string>> => {
    const sections = view.req()?.spec.method === "container" ? ["events", "jobs", "pods"] : ["events"];
    const hidden = new Set<string>();
    for (const s of sections) if (!(await allowed(req, "list", s, view.namespace))) hidden.add(s);
    return hidden;
  };

  /** visible keeps the rows of namespaces the browser's user may list requests in. */
  const visible = async (req: IncomingMessage, rows: RequestRow[]): Promise<RequestRow[]> => {
    if (!authorize) return rows;
    const decided = new Map<string, Promise<boolean>>();
    const may = (ns: string) => {
      let d = decided.get(ns);
      if (!d) {
        d = allowed(req, "list", "hporequests", ns);
        decided.set(ns, d);
      }
      return d;
    };
    const keep = await Promise.all(rows.map((r) => may(r.namespace)));
    return rows.filter((_, i) => keep[i]);
  };

  const listStream = async (req: IncomingMessage, res: ServerResponse) => {
    await requests.ready();
    const stream = openEventStream(req, res);
    const decided = new Map<string, boolean>();
    const may = async (ns: string) => {
      if (!decided.has(ns)) decided.set(ns, await allowed(req, "list", "hporequests", ns));
      return decided.get(ns) === true;
    };
    const stop = requests.subscribe((event, data) => {
      const ns =
        event === "upsert"
          ? (data as { row: RequestRow }).row.namespace
          : (data as { namespace: string }).namespace;
      void may(ns)
        .then((ok) => ok && stream.send(event, data))
        .catch(() => {}); // a review that failed shows nothing
    });
    stream.send("snapshot", { rows: await visible(req, requests.rows()) });
    await stream.closed;
    stop();
  };

  const requestStream = async (
    req: IncomingMessage,
    res: ServerResponse,
    view: RequestView,
    hidden: Set<string>,
  ) => {
    const stream = openEventStream(req, res);
    const stop = view.subscribe((event, data) => {
      if (event === "events" && hidden.has("events")) return;
      if (event === "generations") {
        const rows = (data as RequestStreamEvents["generations"]).rows;
        stream.send(event, { rows: redactGenerations(rows, hidden) });
        return;
      }
      stream.send(event, data);
    });
    await stream.closed;
    stop();
  };

  handler.close = async () => {
    await Promise.all([requests.stop(), views.stop()]);
  };
  return handler;
}

/** redactGenerations drops the Jobs and pods of generations when the reader may not see them. */
function redactGenerations(rows: GenerationRow[], hidden: Set<string>): GenerationRow[] {
  if (!hidden.has("jobs") && !hidden.has("pods")) return rows;
  return rows.map(({ job, pods, failures, ...rest }) => ({
    ...rest,
    ...(hidden.has("jobs") ? {} : { job, failures }),
    ...(hidden.has("pods") ? {} : { pods }),
  }));
}

function exportPoints(res: ServerResponse, view: RequestView, kind: string, q: URLSearchParams): void {
  const states = parseStateFilter(q.get("state"));
  if (states instanceof Error) throw new HttpError(400, states.message);
  const all = view.pointRows();
  if (!all) throw new HttpError(404, "the request is gone");
  const rows = all.rows.filter((r) => states.has(r.state));
  const file = `${view.name}-points.${kind.endsWith("csv") ? "csv" : "json"}`;
  res.writeHead(200, {
    ...securityHeaders,
    "content-type": kind.endsWith("csv") ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="${file}"`,
    "cache-control": "no-store",
  });
  if (kind.endsWith("csv")) {
    for (const line of csvLines(rows, all.params)) res.write(line);
  } else {
    res.write("[");
    rows.forEach((r, i) => {
      res.write(`${i ? ",\n" : "\n"}${JSON.stringify(jsonPoint(r, all.params))}`);
    });
    res.write("\n]\n");
  }
  res.end();
}

function sendAsset(
  req: IncomingMessage,
  res: ServerResponse,
  a: Asset,
  cache = "public, max-age=3600",
): void {
  if (req.headers["if-none-match"] === a.etag) {
    res.writeHead(304, { etag: a.etag }).end();
    return;
  }
  res.writeHead(200, { ...securityHeaders, "content-type": a.type, etag: a.etag, "cache-control": cache });
  res.end(req.method === "HEAD" ? undefined : a.body);
}

/**
 * pointsHeaders go with the points. Their cache-control: the browser may keep a private copy but
 * must ask again each time (no validator is sent, so it reads them anew). Not no-store: with it,
 * Chromium's DevTools reports a streamed fetch read to its end as aborted
 * (microsoft/playwright#42742), which the browser tests would take for a failed request.
 */
const pointsHeaders = {
  ...securityHeaders,
  "content-type": "application/octet-stream",
  "cache-control": "private, no-cache",
};

/** FRAME_MS is how often a page loading points gets the sets listed since its previous frame. */
const FRAME_MS = 200;

/**
 * sendPoints answers points.bin (wire.ts): every point in one frame once the request's sets are
 * listed; while their first list is still coming, every FRAME_MS a frame of the sets listed until
 * then (the first frame: all listed so far, so a first paint shows a fair share of the points),
 * and the answer ends with the list.
 */
async function sendPoints(res: ServerResponse, view: RequestView): Promise<void> {
  if (view.setsListed()) return sendBinary(res, view.binaryPoints());
  if (!view.req()) throw new HttpError(404, "the request is gone");
  // The sets listed before this answer, then those the list brings while it lasts.
  const pending: HyperParameterSet[] = view.cachedSets();
  let ended = false;
  let wake = () => {};
  const stop = view.followListing((set) => {
    if (set) pending.push(set);
    else {
      ended = true;
      wake();
    }
  });
  res.once("close", () => {
    ended = true;
    wake();
  });
  try {
    res.writeHead(200, pointsHeaders);
    let first = true;
    for (;;) {
      if (!ended)
        await new Promise<void>((r) => {
          const timer = setTimeout(r, FRAME_MS);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
      const sets = pending.splice(0);
      // The first frame goes even when empty: the page starts with it.
      const frame = sets.length > 0 || first ? view.pointFrame(sets) : undefined;
      if (frame && !res.destroyed) res.write(frame);
      first = false;
      if (ended) break;
    }
  } finally {
    stop();
  }
  res.end();
}

function sendBinary(res: ServerResponse, body: Buffer | undefined): void {
  if (!body) throw new HttpError(404, "the request is gone");
  res.writeHead(200, { ...pointsHeaders, "content-length": body.length });
  res.end(body);
}

function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, {
    ...securityHeaders,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(JSON.stringify(body));
}

/** fail answers with the error as JSON {error}: what went wrong, never a stack trace. */
function fail(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const [status, message] = describe(e);
  sendJson(res, { error: message }, status);
}

function describe(e: unknown): [number, string] {
  if (e instanceof HttpError) return [e.status, e.message];
  // The authorise hook's refusals (such as a 401 for a missing or refused token) keep their status.
  const status = (e as { status?: unknown }).status;
  if (e instanceof Error && typeof status === "number" && status >= 400 && status < 500)
    return [status, e.message];
  if (e instanceof RequestNotFoundError) return [404, e.message];
  if (e instanceof DashboardBusyError) return [503, e.message];
  if (e instanceof ForbiddenError)
    return [
      403,
      `forbidden: ${e.status?.message ?? e.message} (ask for RBAC access to read hporequests and hyperparametersets)`,
    ];
  if (e instanceof UnavailableError) return [503, `cannot reach the Kubernetes API server: ${e.message}`];
  if (e instanceof ApiError) return [502, `the API server refused: ${e.status?.message ?? e.message}`];
  return [500, e instanceof Error ? e.message : String(e)];
}
