import { describe, expect, it } from "vitest";
import type { CallOptions } from "./client.ts";
import { type Clock, FakeClock } from "./clock.ts";
import { AlreadyExistsError, ConflictError, NotFoundError, UnavailableError } from "./errors.ts";
import {
  formatMicroTime,
  heldByAnother,
  type LeaderElectionOptions,
  LeaderElector,
  type Lease,
  type LeaseClient,
  type LeaseSpec,
  observeLease,
} from "./leader.ts";
import { createMetrics, metricValue } from "./metrics.ts";

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;
/** SLACK covers the poll step of the harness and the 10 ms margin of the wake-up at expiry. */
const SLACK = 100;
const T0 = Date.parse("2026-12-07T04:00:00Z");

/** FakeLeaseStore holds one Lease with API-server semantics: 404, 409 on a stale resourceVersion or a second create. */
class FakeLeaseStore {
  lease: Lease | undefined;
  private rv = 0;

  /** client is a LeaseClient on this store; while failing.on every call fails as if the network were cut. */
  client(failing = { on: false }): LeaseClient {
    const guard = async <T>(call: () => T): Promise<T> => {
      if (failing.on) throw new UnavailableError(503, "injected network failure");
      return structuredClone(call());
    };
    return {
      get: <T>(_path: string, _opts?: CallOptions) => guard(() => this.read() as T),
      create: <T>(_path: string, body: unknown) => guard(() => this.create(body as Lease) as T),
      replace: <T>(_path: string, body: unknown) => guard(() => this.replace(body as Lease) as T),
    };
  }

  /** put writes spec as another process would (a holder on its own clock). */
  put(spec: LeaseSpec): void {
    this.store({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "l", namespace: "ns" },
      spec,
    });
  }

  private read(): Lease {
    if (!this.lease) throw new NotFoundError(404, 'leases.coordination.k8s.io "l" not found');
    return this.lease;
  }

  private create(body: Lease): Lease {
    if (this.lease) throw new AlreadyExistsError(409, 'leases.coordination.k8s.io "l" already exists');
    return this.store(body);
  }

  private replace(body: Lease): Lease {
    if (this.read().metadata.resourceVersion !== body.metadata.resourceVersion)
      throw new ConflictError(409, "the object has been modified");
    return this.store(body);
  }

  private store(body: Lease): Lease {
    this.lease = structuredClone({
      ...body,
      metadata: { ...body.metadata, resourceVersion: String(++this.rv) },
    });
    return this.lease;
  }
}

/** skewed is a clock that reads base's time plus offsetMs and shares its timers. */
const skewed = (base: FakeClock, offsetMs: number): Clock => ({
  now: () => base.now() + offsetMs,
  after: (ms, fn) => base.after(ms, fn),
});

/** Candidate is an elector on the fake store with a record of when (base clock) it started and stopped leading. */
interface Candidate {
  elector: LeaderElector;
  started: number[];
  stopped: number[];
  signals: AbortSignal[];
  failing: { on: boolean };
  done: Promise<void>;
}

function candidate(
  store: FakeLeaseStore,
  base: FakeClock,
  identity: string,
  opts: Partial<LeaderElectionOptions> = {},
): Candidate {
  const c: Candidate = {
    started: [],
    stopped: [],
    signals: [],
    failing: { on: false },
  } as unknown as Candidate;
  c.elector = new LeaderElector({
    client: store.client(c.failing),
    namespace: "ns",
    name: "l",
    identity,
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    clock: base,
    onStartedLeading: (signal) => {
      c.started.push(base.now());
      c.signals.push(signal);
    },
    onStoppedLeading: () => c.stopped.push(base.now()),
    ...opts,
  });
  c.done = c.elector.run();
  return c;
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** advance moves the fake clock by ms in 50 ms steps, letting the electors run and calling each() after every step. */
async function advance(clock: FakeClock, ms: number, each: () => void = () => {}): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await flush();
    clock.advance(Math.min(50, ms - t));
    await flush();
    each();
  }
}

/** holderSpec is a lease held by "other", renewed at (other's clock) renewedAt. */
const holderSpec = (renewedAt: number, holder = "other"): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: LEASE / 1000,
  acquireTime: formatMicroTime(T0 - 60_000),
  renewTime: formatMicroTime(renewedAt),
  leaseTransitions: 3,
});

describe("observeLease and heldByAnother", () => {
  const spec = holderSpec(T0);
  it("keeps the first observation time while the record stays the same", () => {
    const first = observeLease(undefined, spec, 1000);
    expect(observeLease(first, { ...spec }, 9000)).toBe(first);
    expect(first.at).toBe(1000);
  });

  it.each<[string, LeaseSpec]>([
    ["holderIdentity", { ...spec, holderIdentity: "third" }],
    ["leaseDurationSeconds", { ...spec, leaseDurationSeconds: 30 }],
    ["acquireTime", { ...spec, acquireTime: formatMicroTime(T0) }],
    ["renewTime", { ...spec, renewTime: formatMicroTime(T0 + 1) }],
    ["leaseTransitions", { ...spec, leaseTransitions: 4 }],
  ])("restamps the observation when %s changes", (_field, changed) => {
    const first = observeLease(undefined, spec, 1000);
    expect(observeLease(first, changed, 9000).at).toBe(9000);
  });

  it.each<[string, boolean, LeaseSpec, number]>([
    ["held, seen just now", true, spec, 0],
    ["held, unchanged for leaseDuration − 1 ms", true, spec, LEASE - 1],
    ["held, unchanged for leaseDuration", false, spec, LEASE],
    ["renewTime an hour in the past, seen just now", true, holderSpec(T0 - 3_600_000), 0],
    [
      "renewTime an hour in the future, unchanged for leaseDuration",
      false,
      holderSpec(T0 + 3_600_000),
      LEASE,
    ],
    ["no holder", false, { ...spec, holderIdentity: "" }, 0],
    ["held by us", false, holderSpec(T0, "me"), 0],
  ])("%s → held by another: %s", (_name, held, s, elapsed) => {
    expect(heldByAnother(observeLease(undefined, s, T0), "me", T0 + elapsed)).toBe(held);
  });
});

interface AcquireCase {
  name: string;
  /** lease is the Lease found at start (undefined: none), its renewTime relative to the candidate's clock. */
  lease?: { holder: string; renewOffsetMs: number };
  /** holderRenews makes "other" renew every retryPeriod for the first minute, writing renewOffsetMs-skewed times. */
  holderRenews?: boolean;
  /** acquiresAt is when the candidate must start leading (ms after start); undefined: not within the first minute. */
  acquiresAt?: number;
}

const acquireCases: AcquireCase[] = [
  { name: "no lease yet: creates it at once", acquiresAt: 0 },
  {
    name: "a released lease (no holder): takes it at once",
    lease: { holder: "", renewOffsetMs: 0 },
    acquiresAt: 0,
  },
  {
    name: "a lease held by our own identity (a restart): takes it at once",
    lease: { holder: "me", renewOffsetMs: 0 },
    acquiresAt: 0,
  },
  {
    name: "a fresh lease held by another that stops: waits leaseDuration",
    lease: { holder: "other", renewOffsetMs: 0 },
    acquiresAt: LEASE,
  },
  {
    name: "a lease whose renewTime says 10 s old: still waits a full leaseDuration on the local clock",
    lease: { holder: "other", renewOffsetMs: -10_000 },
    acquiresAt: LEASE,
  },
  {
    name: "renewTime an hour in the future (holder's clock ahead), holder dead: takes it after leaseDuration",
    lease: { holder: "other", renewOffsetMs: 3_600_000 },
    acquiresAt: LEASE,
  },
  {
    name: "the holder renews on time: stays out",
    lease: { holder: "other", renewOffsetMs: 0 },
    holderRenews: true,
  },
  {
    name: "renewTime an hour in the past (holder's clock behind) while the holder renews: stays out",
    lease: { holder: "other", renewOffsetMs: -3_600_000 },
    holderRenews: true,
  },
  {
    name: "renewTime an hour in the future while the holder renews: stays out",
    lease: { holder: "other", renewOffsetMs: 3_600_000 },
    holderRenews: true,
  },
];

describe("LeaderElector judges expiry by the local time it saw the lease change", () => {
  it.each(acquireCases)("$name", async (tc) => {
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    if (tc.lease) store.put(holderSpec(T0 + tc.lease.renewOffsetMs, tc.lease.holder));
    let lastRenewal = T0;
    const renew = () => {
      if (!tc.holderRenews || clock.now() - lastRenewal < RETRY) return;
      lastRenewal = clock.now();
      store.put(holderSpec(clock.now() + (tc.lease?.renewOffsetMs ?? 0)));
    };
    const me = candidate(store, clock, "me");
    await advance(clock, 60_000, renew);
    if (tc.acquiresAt === undefined) {
      expect(me.started).toEqual([]);
      expect(me.elector.leader).toBe("other");
      // Once the holder stops, the candidate takes over one leaseDuration after it saw the last renewal.
      await advance(clock, LEASE + 2 * RETRY);
      expect(me.started).toHaveLength(1);
      const after = (me.started[0] ?? 0) - lastRenewal;
      expect(after).toBeGreaterThanOrEqual(LEASE);
      expect(after).toBeLessThanOrEqual(LEASE + 1.2 * RETRY + SLACK);
    } else {
      expect(me.started).toHaveLength(1);
      const at = (me.started[0] ?? 0) - T0;
      expect(at).toBeGreaterThanOrEqual(tc.acquiresAt);
      expect(at).toBeLessThanOrEqual(tc.acquiresAt + SLACK);
      expect(store.lease?.spec?.holderIdentity).toBe("me");
    }
    expect(me.elector.isLeader).toBe(true);
    await me.elector.stop();
  });

  it("renews while it leads, keeping acquireTime and counting one transition per change of holder", async () => {
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    store.put({ ...holderSpec(T0), holderIdentity: "" });
    const me = candidate(store, clock, "me");
    await advance(clock, 100);
    const acquired = store.lease?.spec;
    await advance(clock, 30_000);
    expect(store.lease?.spec).toMatchObject({
      holderIdentity: "me",
      acquireTime: acquired?.acquireTime,
      leaseTransitions: 4,
      renewTime: formatMicroTime(T0 + 30_000),
    });
    await me.elector.stop();
  });

  it("stops leading when renewals fail past renewDeadline, before a follower can take over", async () => {
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    const metrics = createMetrics({ processMetrics: false });
    const leader = candidate(store, clock, "leader", { metrics });
    await advance(clock, 100);
    const follower = candidate(store, clock, "follower");
    await advance(clock, 4_950);
    leader.failing.on = true; // the last successful renewal was sent at 4 s
    await advance(clock, 30_000);
    expect(leader.stopped).toHaveLength(1);
    const gaveUp = (leader.stopped[0] ?? 0) - T0;
    // Rounds start every retryPeriod: the one at 6 s retries until 6 + renewDeadline = 16 s.
    expect(gaveUp).toBeGreaterThanOrEqual(6_000 + RENEW - RETRY);
    expect(gaveUp).toBeLessThanOrEqual(6_000 + RENEW);
    expect(leader.signals[0]?.aborted).toBe(true);
    expect(leader.elector.isLeader).toBe(false);
    expect(await metricValue(metrics.registry, "leader_election_master_status", { name: "l" })).toBe(0);
    await expect(leader.done).resolves.toBeUndefined();
    expect(follower.started).toHaveLength(1);
    expect(follower.started[0] ?? 0).toBeGreaterThanOrEqual(T0 + 4_000 + LEASE);
    expect(leader.stopped[0] ?? 0).toBeLessThan(follower.started[0] ?? 0);
    await follower.elector.stop();
  });

  it("stops leading when its last write's lease runs out, even with renewDeadline left", async () => {
    // renewDeadline 10 s, retry 4 s, lease 11 s: a round starting 4 s after the last write would
    // retry until 14 s, after a follower may have taken over at 11 s.
    const opts = { leaseDurationMs: 11_000, renewDeadlineMs: 10_000, retryPeriodMs: 4_000 };
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    const leader = candidate(store, clock, "leader", opts);
    await advance(clock, 100);
    const follower = candidate(store, clock, "follower", opts);
    leader.failing.on = true; // the only successful write was the create at 0 s
    await advance(clock, 30_000);
    expect((leader.stopped[0] ?? Number.POSITIVE_INFINITY) - T0).toBeLessThan(11_000);
    expect(follower.started[0] ?? 0).toBeGreaterThanOrEqual(T0 + 11_000);
    await follower.elector.stop();
  });

  it("releases on stop so that a follower takes over at its next attempt", async () => {
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    const leader = candidate(store, clock, "leader");
    await advance(clock, 100);
    const follower = candidate(store, clock, "follower");
    await advance(clock, 10_000);
    const stopping = leader.elector.stop();
    await advance(clock, 100);
    await stopping;
    const released = clock.now();
    expect(leader.stopped).toEqual([released - 100]);
    expect(store.lease?.spec).toMatchObject({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
    await advance(clock, 1.2 * RETRY + SLACK);
    expect(follower.started).toHaveLength(1);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: "follower", leaseTransitions: 1 });
    await follower.elector.stop();
  });

  it("a stop without release leaves the lease to expire on the follower's clock", async () => {
    const clock = new FakeClock(T0);
    const store = new FakeLeaseStore();
    const leader = candidate(store, clock, "leader");
    await advance(clock, 100);
    const follower = candidate(store, clock, "follower");
    await advance(clock, 10_000);
    const lastWrite = Date.parse(store.lease?.spec?.renewTime ?? "");
    await leader.elector.stop({ release: false });
    await advance(clock, LEASE + 2 * RETRY);
    expect(store.lease?.spec?.holderIdentity).toBe("follower");
    expect(follower.started[0] ?? 0).toBeGreaterThanOrEqual(lastWrite + LEASE);
    expect(follower.started[0] ?? 0).toBeLessThanOrEqual(lastWrite + LEASE + 1.2 * RETRY + SLACK);
    await follower.elector.stop();
  });

  it.each([
    ["the one behind", -30_000, 30_000],
    ["the one ahead", 30_000, -30_000],
  ])(
    "two candidates whose clocks are a minute apart, %s first: one leader at every step, clean handover",
    async (_n, firstOffset, secondOffset) => {
      const clock = new FakeClock(T0);
      const store = new FakeLeaseStore();
      const first = candidate(store, clock, "first", { clock: skewed(clock, firstOffset) });
      const second = candidate(store, clock, "second", { clock: skewed(clock, secondOffset) });
      const counts = new Set<number>();
      const leaders = () => [first, second].filter((c) => c.elector.isLeader);
      await advance(clock, 50);
      await advance(clock, 120_000, () => counts.add(leaders().length));
      expect([...counts]).toEqual([1]);
      const [leader, follower] = first.elector.isLeader ? [first, second] : [second, first];
      expect(leader.started).toHaveLength(1);
      expect(follower.started).toEqual([]);
      const stopping = leader.elector.stop();
      await advance(clock, 50, () => counts.add(leaders().length));
      await stopping;
      await advance(clock, 1.2 * RETRY + SLACK, () => counts.add(leaders().length));
      expect(follower.started).toHaveLength(1);
      expect(Math.max(...counts)).toBe(1);
      expect(leader.stopped[0] ?? 0).toBeLessThanOrEqual(follower.started[0] ?? 0);
      await follower.elector.stop();
    },
  );
});
