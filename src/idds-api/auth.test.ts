import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import { tokenOf } from "./auth.ts";
import { parseApiConfig } from "./config.ts";
import { matchRequests, pickOne } from "./lookup.ts";
import { normalisePrefix, pickMount } from "./server.ts";
import { TtlCache } from "./ttlcache.ts";

describe("tokenOf", () => {
  it("reads the token as idds-client sends it (oidc) and as a Bearer header", () => {
    expect(tokenOf({ "x-idds-auth-type": "oidc", "x-idds-auth-token": "t1" })).toBe("t1");
    expect(tokenOf({ authorization: "Bearer t2" })).toBe("t2");
    expect(tokenOf({ "x-idds-auth-type": "x509_proxy", authorization: "bearer t3" })).toBe("t3");
  });
  it("answers 401 without a token, and names X.509 proxies as unsupported", () => {
    expect(() => tokenOf({})).toThrow(
      expect.objectContaining({ status: 401, exceptionClass: "IDDSException" }),
    );
    expect(() => tokenOf({ "x-idds-auth-type": "x509_proxy" })).toThrow(/X.509 proxies are not supported/);
    expect(() => tokenOf({ "x-idds-auth-type": "oidc" })).toThrow(/no token/);
  });
});

describe("TtlCache", () => {
  it("shares one load among concurrent callers and keeps the value for its time", async () => {
    let now = 0;
    let loads = 0;
    const c = new TtlCache<number>({ ttlMs: 100, now: () => now });
    const load = async () => ++loads;
    expect(await Promise.all([c.get("k", load), c.get("k", load)])).toEqual([1, 1]);
    now = 99;
    expect(await c.get("k", load)).toBe(1);
    now = 100;
    expect(await c.get("k", load)).toBe(2);
  });
  it("does not remember a failed load", async () => {
    const c = new TtlCache<number>({ ttlMs: 100 });
    await expect(c.get("k", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await c.get("k", async () => 5)).toBe(5);
  });
  it("drops the oldest entries beyond maxEntries", async () => {
    const c = new TtlCache<number>({ ttlMs: 100, maxEntries: 2 });
    for (const k of ["a", "b", "c"]) await c.get(k, async () => 1);
    expect(c.size).toBe(2);
  });
});

const req = (name: string, uid: string, workload?: string): HPORequest =>
  ({
    metadata: {
      name,
      namespace: "ns",
      uid,
      annotations: workload ? { "hpo.dev/workload-id": workload } : {},
    },
    spec: {},
  }) as unknown as HPORequest;

describe("lookup", () => {
  const a = req("a", "00000000-0000-1000-0000-000000000000", "77");
  const b = req("b", "00000000-0000-2000-0000-000000000000", "77");
  it("matches by workload_id, request_id or both", () => {
    expect(matchRequests([a, b], { workloadId: 77 })).toHaveLength(2);
    // request_id is the uid's first 13 hex digits: 1 for a, 2 for b.
    expect(matchRequests([a, b], { requestId: 2 })).toEqual([b]);
    expect(matchRequests([a, b], { workloadId: 77, requestId: 1 })).toEqual([a]);
    expect(matchRequests([a, b], { workloadId: 78, requestId: 1 })).toHaveLength(0);
  });
  it("names none and several in errors that say what to do", () => {
    expect(() => pickOne([], { requestId: 5 })).toThrow(
      expect.objectContaining({ status: 404, message: "no HPORequest has request_id 5" }),
    );
    expect(() => pickOne([a, b], { workloadId: 77 })).toThrow(/give request_id too/);
    expect(pickOne([a], { workloadId: 77 })).toBe(a);
  });
});

describe("mounts", () => {
  const idds = { prefix: "/idds", handler: () => {} };
  const dash = { prefix: "dashboard/", handler: () => {} };
  it("picks the mount of the longest prefix and gives the path after it", () => {
    expect(pickMount([idds, dash], "/idds/hpo/1")).toEqual({ mount: idds, subpath: "/hpo/1" });
    expect(pickMount([idds, dash], "/dashboard")).toEqual({ mount: dash, subpath: "/" });
    expect(pickMount([idds], "/iddsx")).toBeUndefined();
    const root = { prefix: "", handler: () => {} };
    expect(pickMount([root, idds], "/idds/ping")?.mount).toBe(idds);
    expect(pickMount([root, idds], "/hpo/1")).toEqual({ mount: root, subpath: "/hpo/1" });
  });
  it("normalises prefixes", () => {
    expect(["idds", "/idds/", " /idds", "/", ""].map(normalisePrefix)).toEqual([
      "/idds",
      "/idds",
      "/idds",
      "",
      "",
    ]);
  });
});

describe("parseApiConfig", () => {
  const tls = ["--tls-cert-file=c", "--tls-private-key-file=k"];
  it("reads flags over environment over defaults", () => {
    const cfg = parseApiConfig([...tls, "--namespaces=a, b"], {
      HPO_API_PATH_PREFIX: "/x/",
      HPO_API_AUTH_CACHE_TTL: "2s",
    });
    expect(cfg).toMatchObject({
      prefix: "/x",
      namespaces: ["a", "b"],
      authCacheTtlMs: 2000,
      bindAddress: ":8443",
      dashboardMaxPoints: 200_000,
    });
    expect(parseApiConfig([...tls, "--dashboard-max-points=0"], {}).dashboardMaxPoints).toBe(0);
    expect(parseApiConfig(tls, { HPO_API_DASHBOARD_MAX_POINTS: "50000" }).dashboardMaxPoints).toBe(50_000);
  });
  it("says what to fix", () => {
    expect(() => parseApiConfig([], {})).toThrow(/give --tls-cert-file and --tls-private-key-file/);
    expect(() => parseApiConfig([...tls, "--auth-cache-ttl=soon"], {})).toThrow(
      /--auth-cache-ttl: "soon" is not a duration/,
    );
    expect(() => parseApiConfig([...tls, "--bind-address=x:y"], {})).toThrow(/invalid bind address/);
    expect(() => parseApiConfig([...tls, "--dashboard-max-points=lots"], {})).toThrow(
      /--dashboard-max-points: "lots" must be a whole number >= 0/,
    );
  });
});
