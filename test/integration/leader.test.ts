/**
 * Leader election against the real API server: candidates in one process, each with its own
 * identity (and, to show that clock skew does not matter, its own clock), racing for one Lease.
 * Durations are short (lease 3 s, renew deadline 2 s, retry 0.5 s), and assertions are about order
 * and ratios, not tight wall-clock bounds.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type CallOptions, KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { type Clock, realClock } from "../../src/runtime/clock.ts";
import { UnavailableError } from "../../src/runtime/errors.ts";
import { LeaderElector, type Lease, type LeaseClient, parseMicroTime } from "../../src/runtime/leader.ts";
import { createMetrics, type Metrics, metricValue } from "../../src/runtime/metrics.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";

const LEASE_MS = 3000;
const RENEW_MS = 2000;
const RETRY_MS = 500;
const MICROTIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let ns = "";
let client: KubeClient;
const electors: LeaderElector[] = [];

beforeAll(() => {
  ns = newNamespace("leader");
  client = new KubeClient(loadKubeConfig(inject("kubeconfig")));
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop({ release: false })));
});
afterAll(() => {
  client.close();
  deleteNamespace(ns);
});

/** Candidate is an elector with a record of when it started and stopped leading. */
interface Candidate {
  elector: LeaderElector;
  metrics: Metrics;
  events: { what: "started" | "stopped"; at: number }[];
  signals: AbortSignal[];
  /** failing makes every lease call of this candidate fail, as if its network were cut. */
  failing: { on: boolean };
}

/** offsetClock is the real clock moved by offsetMs, as on a machine whose clock is that far off. */
const offsetClock = (offsetMs: number): Clock => ({
  now: () => Date.now() + offsetMs,
  after: realClock.after,
});

function candidate(lease: string, identity: string, clock?: Clock): Candidate {
  const metrics = createMetrics({ processMetrics: false });
  const c: Candidate = {
    metrics,
    events: [],
    signals: [],
    failing: { on: false },
    elector: undefined as never,
  };
  c.elector = new LeaderElector({
    client: faultyClient(client, c.failing),
    namespace: ns,
    name: lease,
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    metrics,
    clock,
    onStartedLeading: (signal) => {
      c.events.push({ what: "started", at: Date.now() });
      c.signals.push(signal);
    },
    onStoppedLeading: () => c.events.push({ what: "stopped", at: Date.now() }),
  });
  electors.push(c.elector);
  void c.elector.run();
  return c;
}

function faultyClient(real: KubeClient, failing: { on: boolean }): LeaseClient {
  const guard = <T>(call: () => Promise<T>): Promise<T> =>
    failing.on ? Promise.reject(new UnavailableError(0, "injected network failure")) : call();
  return {
    get: <T>(path: string, opts?: CallOptions) => guard(() => real.get<T>(path, opts)),
    create: <T>(path: string, body: unknown, opts?: CallOptions) =>
      guard(() => real.create<T>(path, body, opts)),
    replace: <T>(path: string, body: unknown, opts?: CallOptions) =>
      guard(() => real.replace<T>(path, body, opts)),
  };
}

function readLease(name: string): Promise<Lease> {
  return client.get<Lease>(paths.object("coordination.k8s.io/v1", "leases", ns, name));
}

/** waitFor polls cond until it holds and returns the time it took; it throws after timeoutMs. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const leaseName = () => `lease-${randomBytes(3).toString("hex")}`;

/** pair starts two candidates and waits until one of them leads; it returns [leader, follower]. */
async function pair(lease: string): Promise<[Candidate, Candidate]> {
  const a = candidate(lease, "candidate-a");
  const b = candidate(lease, "candidate-b");
  await waitFor(() => a.elector.isLeader || b.elector.isLeader, 10_000, "a leader");
  return a.elector.isLeader ? [a, b] : [b, a];
}

describe("LeaderElector on a real Lease", () => {
  it("elects exactly one of two candidates and keeps the lease renewed", async () => {
    const lease = leaseName();
    const [leader, follower] = await pair(lease);
    const first = await readLease(lease);
    for (let i = 0; i < 8; i++) {
      await sleep(RETRY_MS / 2);
      expect([leader.elector.isLeader, follower.elector.isLeader]).toEqual([true, false]);
    }
    const later = await readLease(lease);
    expect(later.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(follower.elector.leader).toBe(leader.elector.identity);
    expect(parseMicroTime(later.spec?.renewTime ?? "")).toBeGreaterThan(
      parseMicroTime(first.spec?.renewTime ?? ""),
    );
    expect(later.spec?.acquireTime).toBe(first.spec?.acquireTime);
    expect(follower.events).toEqual([]);
    expect(await metricValue(leader.metrics.registry, "leader_election_master_status", { name: lease })).toBe(
      1,
    );
    expect(
      await metricValue(follower.metrics.registry, "leader_election_master_status", { name: lease }),
    ).toBe(0);
  });

  it("writes the Lease fields as Kubernetes expects", async () => {
    const lease = leaseName();
    const [leader] = await pair(lease);
    const l = await readLease(lease);
    expect(l.spec).toMatchObject({
      holderIdentity: leader.elector.identity,
      leaseDurationSeconds: LEASE_MS / 1000,
      leaseTransitions: 0,
    });
    expect(l.spec?.renewTime).toMatch(MICROTIME);
    expect(l.spec?.acquireTime).toMatch(MICROTIME);
    expect(Math.abs(parseMicroTime(l.spec?.renewTime ?? "") - Date.now())).toBeLessThan(LEASE_MS);
  });

  it("hands over at once when the leader releases the lease", async () => {
    const lease = leaseName();
    const [leader, follower] = await pair(lease);
    const released = Date.now();
    await leader.elector.stop();
    expect(leader.signals[0]?.aborted).toBe(true);
    expect(leader.events.map((e) => e.what)).toEqual(["started", "stopped"]);
    expect(await metricValue(leader.metrics.registry, "leader_election_master_status", { name: lease })).toBe(
      0,
    );
    const took = await waitFor(() => follower.elector.isLeader, 10_000, "the follower to lead");
    expect(Date.now() - released).toBeLessThan(LEASE_MS);
    expect(took).toBeLessThan(LEASE_MS - RETRY_MS);
    const l = await readLease(lease);
    expect(l.spec?.holderIdentity).toBe(follower.elector.identity);
    expect(l.spec?.leaseTransitions).toBe(1);
    expect(l.spec?.leaseDurationSeconds).toBe(LEASE_MS / 1000);
  });

  it("replaces a killed leader only after its lease expires, within leaseDuration + 2 × retryPeriod", async () => {
    const lease = leaseName();
    const [leader, follower] = await pair(lease);
    const before = await readLease(lease);
    await leader.elector.stop({ release: false });
    const killed = Date.now();
    await waitFor(() => follower.elector.isLeader, 20_000, "the follower to lead");
    const handover = Date.now() - killed;
    expect(handover).toBeGreaterThanOrEqual(LEASE_MS - 2 * RETRY_MS);
    expect(handover).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS);
    const after = await readLease(lease);
    expect(after.spec?.holderIdentity).toBe(follower.elector.identity);
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
    expect(parseMicroTime(after.spec?.acquireTime ?? "")).toBeGreaterThan(
      parseMicroTime(before.spec?.acquireTime ?? ""),
    );
  });

  it("stops leading when renewals fail past the renew deadline, before anyone else takes over", async () => {
    const lease = leaseName();
    const [leader, follower] = await pair(lease);
    leader.failing.on = true;
    const cut = Date.now();
    await waitFor(() => !leader.elector.isLeader, 10_000, "the leader to give up");
    const gaveUp = Date.now() - cut;
    expect(leader.signals[0]?.aborted).toBe(true);
    expect(gaveUp).toBeLessThan(LEASE_MS);
    await waitFor(() => follower.elector.isLeader, 10_000, "the follower to lead");
    const stopped = leader.events.find((e) => e.what === "stopped")?.at ?? Number.POSITIVE_INFINITY;
    const started = follower.events.find((e) => e.what === "started")?.at ?? 0;
    expect(stopped).toBeLessThan(started);
    expect(await leader.elector.run()).toBeUndefined();
  });

  it("counts transitions over several handovers and never has two leaders at once", async () => {
    const lease = leaseName();
    const cands = [candidate(lease, "c-0"), candidate(lease, "c-1"), candidate(lease, "c-2")];
    let maxLeaders = 0;
    const watch = setInterval(() => {
      maxLeaders = Math.max(maxLeaders, cands.filter((c) => c.elector.isLeader).length);
    }, 10);
    try {
      for (let handover = 1; handover <= 2; handover++) {
        await waitFor(() => cands.some((c) => c.elector.isLeader), 10_000, "a leader");
        const leader = cands.find((c) => c.elector.isLeader);
        await leader?.elector.stop();
        await waitFor(() => cands.some((c) => c !== leader && c.elector.isLeader), 10_000, "a successor");
        expect((await readLease(lease)).spec?.leaseTransitions).toBe(handover);
      }
    } finally {
      clearInterval(watch);
    }
    expect(maxLeaders).toBe(1);
  });

  it("with clocks 30 s ahead and 30 s behind, has exactly one leader at every observation and hands over cleanly", async () => {
    const lease = leaseName();
    // The one behind leads first: judged by renewTime, the one ahead would see its lease 60 s old.
    const behind = candidate(lease, "behind", offsetClock(-30_000));
    await waitFor(() => behind.elector.isLeader, 10_000, "the candidate behind to lead");
    const ahead = candidate(lease, "ahead", offsetClock(30_000));
    const cands = [behind, ahead];
    const samples: number[] = [];
    const watch = setInterval(() => samples.push(cands.filter((c) => c.elector.isLeader).length), 10);
    try {
      await sleep(3 * LEASE_MS);
      expect(new Set(samples)).toEqual(new Set([1]));
      expect(behind.elector.isLeader).toBe(true);
      expect(ahead.elector.leader).toBe("behind");
      expect(ahead.events).toEqual([]);
      const held = await readLease(lease);
      // The lease carries the skewed clock's time, half a minute behind.
      const renewed = parseMicroTime(held.spec?.renewTime ?? "");
      expect(renewed).toBeGreaterThan(Date.now() - 30_000 - LEASE_MS);
      expect(renewed).toBeLessThan(Date.now() - 30_000 + LEASE_MS);

      const released = Date.now();
      await behind.elector.stop();
      await waitFor(() => ahead.elector.isLeader, 10_000, "the candidate ahead to lead");
      expect(Date.now() - released).toBeLessThan(LEASE_MS);
      const handedOver = samples.length;
      await sleep(3 * LEASE_MS);
      expect(new Set(samples.slice(handedOver))).toEqual(new Set([1]));
      expect((await readLease(lease)).spec).toMatchObject({ holderIdentity: "ahead", leaseTransitions: 1 });
    } finally {
      clearInterval(watch);
    }
    expect(Math.max(...samples)).toBe(1);
    const stopped = behind.events.find((e) => e.what === "stopped")?.at ?? Number.POSITIVE_INFINITY;
    expect(stopped).toBeLessThanOrEqual(ahead.events.find((e) => e.what === "started")?.at ?? 0);
  });

  it("with skewed clocks, replaces a killed leader one leaseDuration after the follower last saw it renew", async () => {
    const lease = leaseName();
    const ahead = candidate(lease, "ahead", offsetClock(30_000));
    await waitFor(() => ahead.elector.isLeader, 10_000, "the candidate ahead to lead");
    const behind = candidate(lease, "behind", offsetClock(-30_000));
    const cands = [ahead, behind];
    let maxLeaders = 0;
    const watch = setInterval(() => {
      maxLeaders = Math.max(maxLeaders, cands.filter((c) => c.elector.isLeader).length);
    }, 10);
    try {
      await sleep(2 * LEASE_MS);
      expect(behind.events).toEqual([]);
      await ahead.elector.stop({ release: false });
      const killed = Date.now();
      // Judged by renewTime, the lease written 30 s ahead would look valid to this one for 60 s more.
      await waitFor(() => behind.elector.isLeader, 20_000, "the candidate behind to lead");
      const handover = Date.now() - killed;
      expect(handover).toBeGreaterThanOrEqual(LEASE_MS - 2 * RETRY_MS);
      expect(handover).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS);
    } finally {
      clearInterval(watch);
    }
    expect(maxLeaders).toBe(1);
  });
});
