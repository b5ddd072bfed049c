import { describe, expect, it } from "vitest";
import { WatchFeed } from "../../test/support/watch-feed.ts";
import type { KubeClient } from "./client.ts";
import { InvalidError } from "./errors.ts";
import {
  backoffMs,
  compareResourceVersions,
  type EventType,
  Informer,
  type KubeObject,
  keyOf,
} from "./informer.ts";

describe("informer helpers", () => {
  it("backs off by doubling, capped, with jitter of at most 25 %", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 200, 5000, mid))).toEqual([200, 400, 800, 1600, 5000]);
    expect(backoffMs(1, 200, 5000, () => 0)).toBe(300);
    expect(backoffMs(1, 200, 5000, () => 1)).toBe(500);
  });
  it("keys objects by namespace/name", () => {
    expect(keyOf({ metadata: { namespace: "a", name: "b" } })).toBe("a/b");
  });
});

type Obj = KubeObject & { spec?: { n?: number } };

const obj = (name: string, rv: number, generation = 1): Obj => ({
  metadata: { namespace: "ns", name, resourceVersion: String(rv), generation },
});

/** endOfList is the bookmark that ends a streaming list's objects (KEP-3157). */
const endOfList = (rv: number) => ({
  type: "BOOKMARK",
  object: { metadata: { resourceVersion: String(rv), annotations: { "k8s.io/initial-events-end": "true" } } },
});

/**
 * fakeWatch is a client with one list answer and a watch stream the test feeds event by event;
 * the informer's own logic (caching, comparing, telling handlers) runs unchanged. A streaming
 * list gets the items and the bookmark that ends them, then the same feed.
 */
function fakeWatch(items: Obj[]) {
  const feed = new WatchFeed();
  const client = {
    get: async () => ({ items, metadata: { resourceVersion: "1" } }),
    async *lines(_path: string, opts: { signal?: AbortSignal; query?: Record<string, unknown> }) {
      if (opts.query?.sendInitialEvents) {
        for (const o of items) yield JSON.stringify({ type: "ADDED", object: o });
        yield JSON.stringify(endOfList(1));
      }
      yield* feed.read(opts.signal);
    },
  } as unknown as KubeClient;
  const send = async (type: EventType, o: Obj) => {
    feed.send({ type, object: o });
    // Let the informer's loop take the line.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { client, send };
}

async function started(items: Obj[]) {
  const { client, send } = fakeWatch(items);
  const quiet = { info() {}, warn() {}, debug() {} };
  const inf = new Informer<Obj>({ client, apiVersion: "hpo.dev/v1alpha1", plural: "things", log: quiet });
  const seen: { type: EventType; rv?: string; oldRv?: string; generationChanged: boolean }[] = [];
  inf.on((type, o, old) =>
    seen.push({
      type,
      rv: o.metadata?.resourceVersion,
      oldRv: old?.metadata?.resourceVersion,
      generationChanged: o.metadata?.generation !== old?.metadata?.generation,
    }),
  );
  inf.start();
  await inf.waitForSync();
  return { inf, send, seen };
}

describe("informer write-through (upsert) and watch events", () => {
  it("tells every watched change against the previous watched copy, even when a newer copy was upserted", async () => {
    const { inf, send, seen } = await started([obj("a", 1, 1)]);
    seen.length = 0;
    // The operator's status write returns rv 3, whose spec (generation 2) a reporter patched at rv 2.
    inf.upsert(obj("a", 3, 2));
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("3");
    await send("MODIFIED", obj("a", 2, 2));
    // The reporter's patch is still news to the handlers: its generation changed from the watched copy.
    expect(seen).toEqual([{ type: "MODIFIED", rv: "2", oldRv: "1", generationChanged: true }]);
    // ... and the older event does not take the newer copy out of the cache.
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("3");
    await send("MODIFIED", obj("a", 3, 2));
    expect(seen.at(-1)).toEqual({ type: "MODIFIED", rv: "3", oldRv: "2", generationChanged: false });
    await send("MODIFIED", obj("a", 4, 3));
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("4");
    expect(seen).toHaveLength(3);
    await inf.stop();
  });

  it("ignores a written copy the watch has already gone past", async () => {
    const { inf, send, seen } = await started([obj("a", 1, 1)]);
    // The watch delivers the operator's write (rv 2) and a reporter's patch (rv 3, generation 2)
    // before the reply of that write is put into the cache.
    await send("MODIFIED", obj("a", 2, 1));
    await send("MODIFIED", obj("a", 3, 2));
    inf.upsert(obj("a", 2, 1));
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("3");
    expect(seen.at(-1)).toEqual({ type: "MODIFIED", rv: "3", oldRv: "2", generationChanged: true });
    await inf.stop();
  });

  it("tells ADDED for an object the caller created and upserted before the watch delivered it", async () => {
    const { inf, send, seen } = await started([]);
    inf.upsert(obj("b", 5));
    await send("ADDED", obj("b", 5));
    expect(seen).toEqual([{ type: "ADDED", rv: "5", oldRv: undefined, generationChanged: true }]);
    expect(inf.get("ns", "b")?.metadata?.resourceVersion).toBe("5");
    await inf.stop();
  });

  it("tells cache listeners every change of the cached copy, upserts included, and nothing else", async () => {
    const { inf, send } = await started([obj("a", 1)]);
    const changes: [string | undefined, string | undefined][] = [];
    inf.onCache((before, after) =>
      changes.push([before?.metadata?.resourceVersion, after?.metadata?.resourceVersion]),
    );
    inf.upsert(obj("a", 3));
    await send("MODIFIED", obj("a", 2)); // older than the cache: the cached copy stays
    await send("MODIFIED", obj("a", 4));
    inf.upsert(obj("a", 4)); // the same version again replaces the copy with an equal one
    await send("ADDED", obj("b", 5));
    await send("DELETED", obj("a", 6));
    expect(changes).toEqual([
      ["1", "3"],
      ["3", "4"],
      ["4", "4"],
      [undefined, "5"],
      ["4", undefined],
    ]);
    await inf.stop();
  });

  it("forgets an upserted copy when the object is deleted", async () => {
    const { inf, send, seen } = await started([obj("c", 1)]);
    inf.upsert(obj("c", 7));
    await send("DELETED", obj("c", 8));
    expect(inf.get("ns", "c")).toBeUndefined();
    expect(seen.at(-1)?.type).toBe("DELETED");
    await send("ADDED", obj("c", 9));
    expect(inf.get("ns", "c")?.metadata?.resourceVersion).toBe("9");
    await inf.stop();
  });
});

describe("compareResourceVersions", () => {
  it("orders integer versions by value, whatever their length", () => {
    expect(compareResourceVersions("9", "10")).toBe(-1);
    expect(compareResourceVersions("100", "99")).toBe(1);
    expect(compareResourceVersions("12345678901234567890", "12345678901234567891")).toBe(-1);
    expect(compareResourceVersions("42", "42")).toBe(0);
  });
  it("cannot order what is not a positive integer without leading zeros", () => {
    for (const [a, b] of [
      ["01", "2"],
      ["0", "1"],
      ["abc", "1"],
      [undefined, "1"],
      ["", "1"],
    ] as const) {
      expect(compareResourceVersions(a, b)).toBeUndefined();
    }
  });
});

describe("informer cache", () => {
  it("keeps no managedFields, from the watch or from upsert", async () => {
    const withFields = (o: Obj) => ({
      ...o,
      metadata: { ...o.metadata, managedFields: [{ manager: "kubectl", operation: "Update" }] },
    });
    const { inf, send, seen } = await started([withFields(obj("d", 1))]);
    expect(inf.get("ns", "d")?.metadata).not.toHaveProperty("managedFields");
    const written = withFields(obj("d", 2));
    inf.upsert(written);
    expect(inf.get("ns", "d")?.metadata).not.toHaveProperty("managedFields");
    expect(written.metadata).toHaveProperty("managedFields"); // the caller's copy is left alone
    await send("MODIFIED", withFields(obj("d", 2)));
    expect(inf.get("ns", "d")?.metadata).not.toHaveProperty("managedFields");
    expect(seen.at(-1)?.rv).toBe("2");
    await inf.stop();
  });
});

/**
 * scripted is a client whose every streaming GET is a new feed the test writes to and ends; get
 * answers the paged list. It records what was asked.
 */
function scripted(opts: { refuseStreaming?: boolean; items?: Obj[] } = {}) {
  const feeds: { query: Record<string, unknown>; feed: WatchFeed }[] = [];
  const gets: unknown[] = [];
  let opened: (() => void) | undefined;
  const client = {
    get: async (_path: string, o: { query?: unknown }) => {
      gets.push(o.query);
      return { items: opts.items ?? [], metadata: { resourceVersion: "1" } };
    },
    async *lines(_path: string, o: { signal?: AbortSignal; query?: Record<string, unknown> }) {
      if (opts.refuseStreaming && o.query?.sendInitialEvents)
        throw new InvalidError(
          422,
          "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        );
      const feed = new WatchFeed();
      feeds.push({ query: o.query ?? {}, feed });
      opened?.();
      yield* feed.read(o.signal);
    },
  } as unknown as KubeClient;
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  /** feed n, once the informer has opened it. */
  const feed = async (n: number) => {
    while (feeds.length <= n) await new Promise<void>((r) => (opened = r));
    return feeds[n] as { query: Record<string, unknown>; feed: WatchFeed };
  };
  const send = async (n: number, ev: unknown) => {
    (await feed(n)).feed.send(ev);
    await settle();
  };
  const end = async (n: number) => {
    (await feed(n)).feed.end();
    await settle();
  };
  return { client, feeds, gets, send, end, feed };
}

function informerOn(client: KubeClient) {
  const quiet = { info() {}, warn() {}, debug() {} };
  const inf = new Informer<Obj>({
    client,
    apiVersion: "hpo.dev/v1alpha1",
    plural: "things",
    log: quiet,
    backoff: { initialMs: 1, maxMs: 1 },
  });
  const seen: string[] = [];
  inf.on((type, o) => seen.push(`${type} ${o.metadata?.name}@${o.metadata?.resourceVersion}`));
  return { inf, seen };
}

describe("informer streaming list (watch with sendInitialEvents)", () => {
  it("fills the cache as the objects arrive, syncs at the bookmark and goes on watching on the same stream", async () => {
    const api = scripted();
    const { inf, seen } = informerOn(api.client);
    inf.start();
    await api.send(0, { type: "ADDED", object: obj("a", 3) });
    expect(api.feeds[0]?.query).toMatchObject({
      watch: true,
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      allowWatchBookmarks: true,
    });
    // The first list shows what has come so far, and is not synced before its end.
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("3");
    expect(inf.hasSynced()).toBe(false);
    await api.send(0, { type: "ADDED", object: obj("b", 4) });
    // A bookmark without the annotation is not the end of the list.
    await api.send(0, { type: "BOOKMARK", object: { metadata: { resourceVersion: "4" } } });
    expect(inf.hasSynced()).toBe(false);
    await api.send(0, endOfList(5));
    expect(inf.hasSynced()).toBe(true);
    await api.send(0, { type: "MODIFIED", object: obj("a", 6) });
    expect(seen).toEqual(["ADDED a@3", "ADDED b@4", "MODIFIED a@6"]);
    expect(api.gets).toEqual([]);
    // The stream ends (the server's timeout): the watch resumes from the last version, with no list.
    await api.end(0);
    await api.feed(1);
    expect(api.feeds[1]?.query).toMatchObject({ watch: true, resourceVersion: "6" });
    expect(api.feeds[1]?.query.sendInitialEvents).toBeUndefined();
    await inf.stop();
  });

  it("lists again when the stream ends before its bookmark, telling each object once", async () => {
    const api = scripted();
    const { inf, seen } = informerOn(api.client);
    inf.start();
    await api.send(0, { type: "ADDED", object: obj("a", 3) });
    await api.end(0);
    await api.send(1, { type: "ADDED", object: obj("a", 3) });
    await api.send(1, { type: "ADDED", object: obj("b", 4) });
    expect(inf.hasSynced()).toBe(false);
    await api.send(1, endOfList(4));
    expect(inf.hasSynced()).toBe(true);
    expect(api.feeds[1]?.query.sendInitialEvents).toBe(true);
    expect(seen).toEqual(["ADDED a@3", "ADDED b@4"]);
    await inf.stop();
  });

  it("applies a later list (after 410 Gone) whole at its end: gone objects go, the cache never mixes two lists", async () => {
    const api = scripted();
    const { inf, seen } = informerOn(api.client);
    inf.start();
    await api.send(0, { type: "ADDED", object: obj("a", 3) });
    await api.send(0, { type: "ADDED", object: obj("b", 4) });
    await api.send(0, endOfList(4));
    await api.send(0, { type: "ERROR", object: { code: 410, message: "too old resource version" } });
    await api.send(1, { type: "ADDED", object: obj("a", 9) });
    expect(api.feeds[1]?.query.sendInitialEvents).toBe(true);
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("3");
    expect(inf.get("ns", "b")).toBeDefined();
    await api.send(1, endOfList(10));
    expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("9");
    expect(inf.get("ns", "b")).toBeUndefined();
    expect(seen).toEqual(["ADDED a@3", "ADDED b@4", "MODIFIED a@9", "DELETED b@4"]);
    await inf.stop();
  });

  it("lists in pages when the server refuses streaming lists (422), and does not ask for one again", async () => {
    const api = scripted({ refuseStreaming: true, items: [obj("a", 1)] });
    const { inf, seen } = informerOn(api.client);
    inf.start();
    await inf.waitForSync();
    expect(api.gets).toEqual([expect.objectContaining({ limit: 500 })]);
    expect(seen).toEqual(["ADDED a@1"]);
    await api.send(0, { type: "ERROR", object: { code: 410, message: "too old resource version" } });
    await api.feed(1);
    expect(api.gets).toHaveLength(2);
    expect(api.feeds.map((f) => f.query.sendInitialEvents)).toEqual([undefined, undefined]);
    await inf.stop();
  });
});
