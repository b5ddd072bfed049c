import { describe, expect, it } from "vitest";
import type { KubeClient } from "./client.ts";
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

/**
 * fakeWatch is a client with one list answer and a watch stream the test feeds event by event;
 * the informer's own logic (caching, comparing, telling handlers) runs unchanged.
 */
function fakeWatch(items: Obj[]) {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  const client = {
    get: async () => ({ items, metadata: { resourceVersion: "1" } }),
    async *lines(_path: string, opts: { signal?: AbortSignal }) {
      while (!opts.signal?.aborted) {
        const line = queue.shift();
        if (line !== undefined) {
          yield line;
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
          opts.signal?.addEventListener("abort", () => r(), { once: true });
        });
      }
    },
  } as unknown as KubeClient;
  const send = async (type: EventType, o: Obj) => {
    queue.push(JSON.stringify({ type, object: o }));
    wake?.();
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
