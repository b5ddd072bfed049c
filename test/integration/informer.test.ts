/**
 * The informer's first list on real API servers: a streaming list (a watch with
 * sendInitialEvents, KEP-3157) where the server has one, as kube-apiserver v1.35 does by default,
 * and pages of 500 where the server refuses it (a control plane of this file's own started with
 * --feature-gates=WatchList=false, as 1.30, 1.31 and 1.33 ship). Either way the cache gets every
 * object once, and the watch that follows delivers the next change.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CallOptions, KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { Informer, type KubeObject } from "../../src/runtime/informer.ts";
import { type ControlPlane, startControlPlane } from "../support/controlplane.ts";
import { waitFor } from "../support/hpo.ts";

const COUNT = 520; // more than one page of 500
const NS = "informer-list";

/** spied passes every call to kube and records the queries of lists and streams. */
function spied(kube: KubeClient) {
  const calls: { kind: "get" | "lines"; query: Record<string, unknown> }[] = [];
  const client = {
    get: (path: string, opts?: CallOptions) => {
      calls.push({ kind: "get", query: { ...opts?.query } });
      return kube.get(path, opts);
    },
    lines: (path: string, opts?: CallOptions & { idleTimeoutMs?: number }) => {
      calls.push({ kind: "lines", query: { ...opts?.query } });
      return kube.lines(path, opts);
    },
  } as unknown as KubeClient;
  return { client, calls };
}

/** fill makes the namespace and COUNT ConfigMaps labelled for the test. */
async function fill(kube: KubeClient): Promise<void> {
  await kube.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  const path = paths.collection("v1", "configmaps", NS);
  for (let i = 0; i < COUNT; i += 40) {
    await Promise.all(
      Array.from({ length: Math.min(40, COUNT - i) }, (_, k) =>
        kube.create(path, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `cm-${i + k}`, labels: { test: "informer" } },
          data: { n: String(i + k) },
        }),
      ),
    );
  }
}

/** follow starts an informer of the test's ConfigMaps and counts its events by type and name. */
function follow(client: KubeClient) {
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), debug() {} };
  const inf = new Informer<KubeObject & { data?: Record<string, string> }>({
    client,
    apiVersion: "v1",
    plural: "configmaps",
    namespaces: [NS],
    labelSelector: "test=informer",
    log,
  });
  const events: string[] = [];
  inf.on((type, o) => events.push(`${type} ${o.metadata?.name}`));
  inf.start();
  return { inf, events, logs };
}

/** listsAndFollows checks the cache after the first list, then that a change arrives by the watch. */
async function listsAndFollows(kube: KubeClient, f: ReturnType<typeof follow>): Promise<void> {
  await f.inf.waitForSync();
  expect(f.inf.list(NS)).toHaveLength(COUNT);
  expect(new Set(f.events).size).toBe(COUNT);
  expect(f.events.every((e) => e.startsWith("ADDED "))).toBe(true);
  await kube.mergePatch(paths.object("v1", "configmaps", NS, "cm-7"), { data: { n: "changed" } });
  await waitFor("the change by the watch", async () => f.inf.get(NS, "cm-7")?.data?.n === "changed", 10_000);
  expect(f.events.at(-1)).toBe("MODIFIED cm-7");
}

describe("the informer's list on kube-apiserver v1.35 (WatchList on)", () => {
  let kube: KubeClient;
  beforeAll(async () => {
    kube = new KubeClient(loadKubeConfig(inject("kubeconfig")), { qps: 0 });
    await fill(kube);
  }, 120_000);
  afterAll(async () => {
    await kube?.delete(`/api/v1/namespaces/${NS}`).catch(() => {});
    kube?.close();
  });

  it("is one streaming list that goes on as the watch: no page, no second request", async () => {
    const { client, calls } = spied(kube);
    const f = follow(client);
    try {
      await listsAndFollows(kube, f);
      expect(calls).toEqual([
        {
          kind: "lines",
          query: expect.objectContaining({
            watch: true,
            sendInitialEvents: true,
            resourceVersionMatch: "NotOlderThan",
            labelSelector: "test=informer",
          }),
        },
      ]);
      expect(f.logs).toEqual([]);
    } finally {
      await f.inf.stop();
    }
  });
});

describe("the informer's list on a server with WatchList off", () => {
  let cp: ControlPlane;
  let kube: KubeClient;
  beforeAll(async () => {
    cp = await startControlPlane({
      withControllerManager: false,
      log: () => {},
      apiServerArgs: ["--feature-gates=WatchList=false"],
    });
    kube = new KubeClient(loadKubeConfig(cp.kubeconfig), { qps: 0 });
    await fill(kube);
  }, 180_000);
  afterAll(async () => {
    kube?.close();
    await cp?.stop();
  });

  it("falls back to pages of 500 after the server's refusal, and asks for no streaming list again", async () => {
    const { client, calls } = spied(kube);
    const f = follow(client);
    try {
      await listsAndFollows(kube, f);
      expect(f.logs).toEqual(["the API server refuses streaming lists: listing in pages"]);
      expect(calls.map((c) => `${c.kind} ${c.query.sendInitialEvents ? "streaming" : ""}`)).toEqual([
        "lines streaming",
        "get ",
        "get ",
        "lines ",
      ]);
      expect(calls[1]?.query).toMatchObject({ limit: 500 });
      expect(calls[2]?.query.continue).toEqual(expect.any(String));
      expect(calls[3]?.query).toMatchObject({ watch: true, resourceVersion: expect.any(String) });
    } finally {
      await f.inf.stop();
    }
  });
});
