/**
 * The points of a request whose sets the dashboard's server is still listing: the page gets the
 * request at once and the points in frames as the sets come, and the answer ends with the list.
 * The API server is a small scripted fake (each watch a feed the test writes to), so what arrives
 * when is the test's to decide; the dashboard's handler, views, caches and informers are the real
 * ones, and the frames are read with the browser's own code. The real API server and Chromium do
 * the same in test/integration/dashboard.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WatchFeed } from "../../test/support/watch-feed.ts";
import type { HPORequest, HyperParameterSet } from "../api/index.ts";
import type { KubeClient } from "../runtime/client.ts";
import { createDashboardHandler, type DashboardHandler } from "./handler.ts";
import { DashboardReader } from "./reader.ts";
import { readFrames } from "./web/frames.ts";
import { PointStore } from "./web/store.ts";

const endOfList = {
  type: "BOOKMARK",
  object: { metadata: { resourceVersion: "100", annotations: { "k8s.io/initial-events-end": "true" } } },
};

/** feedOf names the feed of a watch: its kind and the request its selector names ("sets/big"). */
function feedOf(path: string, query: Record<string, unknown>): string {
  const selector = `${query.labelSelector ?? ""},${query.fieldSelector ?? ""}`;
  const name = /(?:metadata\.name=|hpo\.dev\/request=|involvedObject\.name=)([^,]+)/.exec(selector)?.[1];
  return `${path.split("/").at(-1)}/${name}`;
}

/**
 * fakeApi answers each watch with a feed the test writes to (by kind and request: "hporequests/big")
 * and a GET of a request with what requests holds.
 */
function fakeApi(requests: Record<string, HPORequest> = {}) {
  const feeds = new Map<string, WatchFeed>();
  const feed = (key: string) => {
    let f = feeds.get(key);
    if (!f) {
      f = new WatchFeed();
      feeds.set(key, f);
    }
    return f;
  };
  const kube = {
    namespace: "team",
    async get(path: string) {
      const r = requests[path.split("/").at(-1) as string];
      if (!r) throw new Error(`no ${path}`);
      return r;
    },
    async *lines(path: string, opts: { signal?: AbortSignal; query?: Record<string, unknown> }) {
      yield* feed(feedOf(path, opts.query ?? {})).read(opts.signal);
    },
    close() {},
  } as unknown as KubeClient;
  const send = (key: string, ...events: unknown[]) => feed(key).send(...events);
  return { kube, send };
}

const request: HPORequest = {
  apiVersion: "hpo.dev/v1alpha1",
  kind: "HPORequest",
  metadata: { name: "big", namespace: "team", uid: "u1", resourceVersion: "1" },
  spec: { method: "random", maxPoints: 40, searchSpace: { x: { type: "float", low: 0, high: 1 } } },
  status: {
    phase: "Finished",
    pointsPerSet: 8,
    points: { total: 40, evaluated: 40, unevaluated: 0, failed: 0 },
  },
};

/** set k holds points 8k-7..8k, each evaluated with loss id/100. */
function set(k: number): HyperParameterSet {
  const ids = Array.from({ length: 8 }, (_, i) => 8 * (k - 1) + i + 1);
  return {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HyperParameterSet",
    metadata: {
      name: `big-${k}`,
      namespace: "team",
      resourceVersion: String(10 + k),
      labels: { "hpo.dev/request": "big" },
      ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: "big", uid: "u1" }],
    },
    spec: {
      request: "big",
      firstId: ids[0] as number,
      lastId: ids[7] as number,
      losses: Object.fromEntries(ids.map((id) => [String(id), id / 100])),
    },
    status: {
      total: 8,
      points: ids.map((id) => ({ id: String(id), generation: 1, params: { x: id / 1000 } })),
    },
  };
}

let server: Server | undefined;
let handler: DashboardHandler | undefined;
afterEach(async () => {
  await handler?.close();
  server?.closeAllConnections(); // keep-alive connections would hold close() for 5 s
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

async function serve(kube: KubeClient, maxPoints?: number): Promise<string> {
  handler = createDashboardHandler({ reader: new DashboardReader(kube), maxPoints });
  const h = handler;
  const s = createServer((req, res) => void h(req, res));
  server = s;
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/requests/team/big`;
}

describe("a request's points while the dashboard's server lists its sets", () => {
  it("come in frames as the sets come, after the request at once, and end with the list", async () => {
    const api = fakeApi();
    const base = await serve(api.kube);
    api.send("hporequests/big", { type: "ADDED", object: request }, endOfList);
    api.send("events/big", endOfList);
    // Sets listed in name order (big-1, big-10, big-2, ...): their ids interleave.
    api.send("hyperparametersets/big", { type: "ADDED", object: set(1) }, { type: "ADDED", object: set(4) });

    const detail = (await (await fetch(base)).json()) as { row: { total: number } };
    expect(detail.row.total).toBe(40);

    const res = await fetch(`${base}/points.bin`);
    expect(res.headers.get("content-length")).toBeNull(); // not all there yet: streamed
    const frames = readFrames(res.body as ReadableStream<Uint8Array>);
    const params = [{ name: "x", type: "float" as const }];
    const first = await frames.next();
    const store = PointStore.decode(params, first.value as ArrayBuffer);
    expect([...store.view(store.ids)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 25, 26, 27, 28, 29, 30, 31, 32]);

    api.send("hyperparametersets/big", { type: "ADDED", object: set(2) });
    const second = await frames.next();
    store.absorb(PointStore.decode(params, second.value as ArrayBuffer));
    expect(store.size).toBe(24);

    api.send(
      "hyperparametersets/big",
      { type: "ADDED", object: set(3) },
      { type: "ADDED", object: set(5) },
      endOfList,
    );
    for await (const f of frames) store.absorb(PointStore.decode(params, f));
    expect([...store.view(store.ids)]).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect([...store.view(store.loss)]).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) / 100));

    // Once listed, the points are one frame, whole.
    const again = await fetch(`${base}/points.bin`);
    const body = await again.arrayBuffer();
    expect(Number(again.headers.get("content-length"))).toBe(body.byteLength);
    const whole = PointStore.decode(params, body);
    expect([...whole.view(whole.ids)]).toEqual([...store.view(store.ids)]);
  });

  it("are exported only once every set is listed", async () => {
    const api = fakeApi();
    const base = await serve(api.kube);
    api.send("hporequests/big", { type: "ADDED", object: request }, endOfList);
    api.send("events/big", endOfList);
    api.send("hyperparametersets/big", { type: "ADDED", object: set(1) });
    const csv = fetch(`${base}/points.csv`).then((r) => r.text());
    api.send(
      "hyperparametersets/big",
      ...[2, 3, 4, 5].map((k) => ({ type: "ADDED", object: set(k) })),
      endOfList,
    );
    expect((await csv).trim().split("\n")).toHaveLength(41);
  });
});

describe("the points the dashboard follows for open pages (--dashboard-max-points)", () => {
  it("refuse a request's page past the limit with 503 and what to do; an unused view makes room", async () => {
    const other: HPORequest = { ...request, metadata: { ...request.metadata, name: "other", uid: "u2" } };
    const api = fakeApi({ big: request, other });
    const base = await serve(api.kube, 50);
    const url = (name: string, path = "") => base.replace(/big$/, name) + path;
    api.send("hporequests/big", { type: "ADDED", object: request }, endOfList);
    api.send("events/big", endOfList);
    api.send("hyperparametersets/big", { type: "ADDED", object: set(1) }, endOfList);
    // A page follows "big" (40 points) while its event stream is open.
    const page = new AbortController();
    const stream = await fetch(url("big", "/stream"), { signal: page.signal });
    expect(stream.status).toBe(200);

    const refused = await fetch(url("other"));
    expect(refused.status).toBe(503);
    const { error } = (await refused.json()) as { error: string };
    expect(error).toContain('follows 40 points of requests open in other pages, and "other" has 40');
    expect(error).toContain("over its limit of 50 (hpo-operator api --dashboard-max-points)");

    // The page goes: its view lingers unused, and the next request's page ends it to fit.
    await stream.body?.cancel();
    api.send("hporequests/other", { type: "ADDED", object: other }, endOfList);
    api.send("events/other", endOfList);
    api.send("hyperparametersets/other", endOfList);
    const admitted = await waitFor(async () => {
      const r = await fetch(url("other"));
      return r.status === 503 ? undefined : r;
    });
    expect(admitted.status).toBe(200);
    expect(((await admitted.json()) as { row: { name: string } }).row.name).toBe("other");
  });
});

/** waitFor retries check until it gives a value (the server sees a closed page a moment later). */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("timed out");
}
