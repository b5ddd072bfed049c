/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: candidates
 * try to acquire the lease every retryPeriod; the holder renews it every retryPeriod and gives up
 * leading when it cannot renew within renewDeadline; a lease is free when it has no holder, or when
 * its record has not changed for its leaseDurationSeconds. Every write is a PUT conditional on the
 * resourceVersion that was read, so of two candidates racing for a free lease exactly one wins (the
 * other gets a 409).
 *
 * Expiry is judged as client-go judges it, by the local clock only: each candidate remembers the
 * time, on its own clock, at which it last saw the lease's record (holder, duration, acquire and
 * renew times, transitions — compared in full) change, and takes a held lease only when that
 * record has stayed the same for leaseDurationSeconds since. The renewTime written by the holder is
 * never compared with the local clock, so clocks that disagree by any offset cannot give two
 * leaders; only clocks that run at different rates could (by more than leaseDuration/renewDeadline).
 * The price is that a candidate that has just started waits one leaseDuration before it takes a
 * lease left behind by a killed holder. The leader, for its part, stops leading once
 * leaseDurationSeconds have passed since it sent its last successful renewal, even when its
 * renewDeadline has not run out, because by then another candidate may have taken the lease.
 */

import { type CallOptions, paths } from "./client.ts";
import { type Clock, realClock } from "./clock.ts";
import { AlreadyExistsError, ConflictError, NotFoundError } from "./errors.ts";
import { type Logger, noopLogger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

/** LeaseSpec is the spec of a coordination.k8s.io/v1 Lease. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** Lease is a coordination.k8s.io/v1 Lease. */
export interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** LeaseClient is the part of KubeClient leader election needs. */
export interface LeaseClient {
  get<T>(path: string, opts?: CallOptions): Promise<T>;
  create<T>(path: string, body: unknown, opts?: CallOptions): Promise<T>;
  replace<T>(path: string, body: unknown, opts?: CallOptions): Promise<T>;
}

/** LeaderElectionOptions configure a LeaderElector. */
export interface LeaderElectionOptions {
  client: LeaseClient;
  namespace: string;
  /** name is the Lease's name (and the `name` label of leader_election_master_status). */
  name: string;
  /** identity names this candidate in holderIdentity; unique per process (e.g. pod name + uid). */
  identity: string;
  /** leaseDurationMs is how long a lease lasts unrenewed (default 15 s; whole seconds on the Lease). */
  leaseDurationMs?: number;
  /** renewDeadlineMs is how long the leader keeps retrying a failed renewal before it stops leading (default 10 s). */
  renewDeadlineMs?: number;
  /** retryPeriodMs is the time between acquire and renew attempts (default 2 s). */
  retryPeriodMs?: number;
  /** onStartedLeading runs when this candidate becomes leader; signal aborts when leading ends. */
  onStartedLeading?: (signal: AbortSignal) => void | Promise<void>;
  /** onStoppedLeading runs once when leading ends (lost, or stop()). */
  onStoppedLeading?: () => void;
  /** onNewLeader runs when the observed holder changes (to another identity, or to none). */
  onNewLeader?: (identity: string | undefined) => void;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

/** LEASE_API_VERSION is the group/version of Lease objects. */
export const LEASE_API_VERSION = "coordination.k8s.io/v1";

/** formatMicroTime writes ms since the epoch as a Kubernetes MicroTime: 2026-11-28T05:12:57.123456Z. */
export function formatMicroTime(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - whole) * 1000);
  return new Date(whole)
    .toISOString()
    .replace(/(\.\d{3})Z$/, (_m, frac: string) => `${frac}${String(micros).padStart(3, "0")}Z`);
}

/** parseMicroTime reads a MicroTime (or a Time without fraction) as ms since the epoch; NaN when malformed. */
export function parseMicroTime(s: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return Number.NaN;
  const fraction = Number(`0.${m[2] ?? "0"}`);
  return Date.parse(`${m[1]}${m[3]}`) + fraction * 1000;
}

/** LeaseObservation is a candidate's view of a Lease: its spec, and when (local clock) that record was first seen. */
export interface LeaseObservation {
  spec: LeaseSpec | undefined;
  /** record is the spec's election record in a canonical form, so that records compare in full. */
  record: string;
  /** at is the local time at which this record was first observed. */
  at: number;
}

/** leaseRecord is a Lease spec's election record as a string: equal strings mean equal records. */
export function leaseRecord(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? "",
    spec?.leaseDurationSeconds ?? 0,
    spec?.acquireTime ?? "",
    spec?.renewTime ?? "",
    spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * observeLease returns what a candidate knows after reading spec at local time now: the previous
 * observation, unchanged, when the record is the same; otherwise the new record, observed now.
 */
export function observeLease(
  previous: LeaseObservation | undefined,
  spec: LeaseSpec | undefined,
  now: number,
): LeaseObservation {
  const record = leaseRecord(spec);
  if (previous && previous.record === record) return previous;
  return { spec, record, at: now };
}

/** observedExpiry is the local time at which an observed record, unchanged, stops holding the lease. */
export function observedExpiry(obs: LeaseObservation): number {
  return obs.at + (obs.spec?.leaseDurationSeconds ?? 0) * 1000;
}

/**
 * heldByAnother tells whether the observed lease belongs to a holder other than identity: it has
 * a holder, and its record changed less than leaseDurationSeconds ago on the local clock. The
 * times written in the record play no part.
 */
export function heldByAnother(obs: LeaseObservation, identity: string, now: number): boolean {
  const holder = obs.spec?.holderIdentity;
  if (!holder || holder === identity) return false;
  return observedExpiry(obs) > now;
}

/** LeaderElector campaigns for a Lease and keeps it while it leads; it campaigns once (make a new one to run again). */
export class LeaderElector {
  readonly name: string;
  readonly identity: string;
  private readonly opts: LeaderElectionOptions;
  private readonly path: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stopper = new AbortController();
  private observation: LeaseObservation | undefined;
  /** heldUntil is when our last successful write stops holding the lease for others (local clock). */
  private heldUntil = 0;
  private leading: AbortController | undefined;
  private runPromise: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.opts = options;
    this.name = options.name;
    this.identity = options.identity;
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2_000;
    validateDurations(this.leaseMs, this.renewDeadlineMs, this.retryMs);
    if (!options.identity) throw new Error("leader election needs a non-empty identity");
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? noopLogger).child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
    this.path = paths.object(LEASE_API_VERSION, "leases", options.namespace, options.name);
    this.setStatus(false);
  }

  /** isLeader tells whether this candidate currently leads. */
  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** leader is the holder of the lease as last observed (undefined when free or unknown). */
  get leader(): string | undefined {
    return this.observation?.spec?.holderIdentity || undefined;
  }

  /**
   * run campaigns until this candidate leads, renews while it leads, and resolves when leading ends
   * (renewal failed past the deadline, another holder took the lease, or stop()). It resolves
   * without leading when stopped first; it never rejects.
   */
  run(): Promise<void> {
    this.runPromise ??= this.campaign();
    return this.runPromise;
  }

  /**
   * stop ends campaigning and leading. With release (default true) a leader clears holderIdentity
   * so a successor takes over at once; release: false behaves like a killed process, leaving the
   * lease to expire.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopper.abort(new Error("leader election stopped"));
    await this.runPromise;
    if ((options.release ?? true) && this.leader === this.identity) await this.release();
  }

  /** release clears holderIdentity if this candidate holds the lease; it resolves true once the lease is not ours. */
  async release(): Promise<boolean> {
    try {
      const lease = await this.opts.client.get<Lease>(this.path, { timeoutMs: this.renewDeadlineMs });
      if (lease.spec?.holderIdentity !== this.identity) return true;
      const now = formatMicroTime(this.clock.now());
      const spec: LeaseSpec = {
        ...lease.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
      };
      this.observe(
        await this.opts.client.replace<Lease>(
          this.path,
          { ...lease, spec },
          { timeoutMs: this.renewDeadlineMs },
        ),
      );
      this.heldUntil = 0;
      this.log.info("Released the leader lease");
      return true;
    } catch (err) {
      this.log.error("Failed to release the leader lease", { err });
      return false;
    }
  }

  private async campaign(): Promise<void> {
    const signal = this.stopper.signal;
    this.log.info("Attempting to acquire the leader lease");
    while (
      !signal.aborted &&
      !(await this.tryAcquireOrRenew(signal, this.clock.now() + this.renewDeadlineMs))
    ) {
      await this.sleep(this.acquireDelay());
    }
    if (signal.aborted) return;
    this.startLeading();
    await this.renewLoop(signal);
    this.stopLeading();
  }

  /**
   * renewLoop renews every retryPeriod; it returns on stop, when another holder took the lease, or
   * when renewal fails until renewDeadline (or until our last write's lease runs out, if sooner).
   */
  private async renewLoop(signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.sleep(this.retryMs);
      if (signal.aborted) return;
      const deadline = Math.min(this.clock.now() + this.renewDeadlineMs, this.heldUntil);
      while (!(await this.tryAcquireOrRenew(signal, deadline))) {
        if (signal.aborted) return;
        if (this.leader !== undefined && this.leader !== this.identity) {
          this.log.warn("Another candidate holds the lease", { holder: this.leader });
          return;
        }
        if (this.clock.now() + this.retryMs >= deadline) {
          this.log.error("Failed to renew the leader lease within the renew deadline");
          return;
        }
        await this.sleep(this.retryMs);
      }
    }
  }

  /**
   * tryAcquireOrRenew reads the lease and, unless another holder's record changed within its
   * leaseDuration on our clock, writes it as ours; its calls end by deadline (local time).
   */
  private async tryAcquireOrRenew(signal: AbortSignal, deadline: number): Promise<boolean> {
    const call = (): CallOptions => ({
      signal,
      timeoutMs: Math.max(1, Math.min(deadline - this.clock.now(), this.renewDeadlineMs)),
    });
    try {
      const current = await this.read(call());
      if (!current) return await this.create(call());
      const now = this.clock.now();
      if (this.observation && heldByAnother(this.observation, this.identity, now)) return false;
      const spec = this.nextSpec(current.spec, now);
      this.observe(await this.opts.client.replace<Lease>(this.path, { ...current, spec }, call()));
      this.heldUntil = now + (spec.leaseDurationSeconds ?? 0) * 1000;
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      if (err instanceof ConflictError || err instanceof AlreadyExistsError)
        this.log.debug("Lost a race for the lease");
      else this.log.warn("Leader lease call failed", { err });
      return false;
    }
  }

  private async read(call: CallOptions): Promise<Lease | undefined> {
    try {
      const lease = await this.opts.client.get<Lease>(this.path, call);
      this.observe(lease);
      return lease;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async create(call: CallOptions): Promise<boolean> {
    const now = this.clock.now();
    const spec = this.nextSpec(undefined, now);
    const lease: Lease = {
      apiVersion: LEASE_API_VERSION,
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec,
    };
    this.observe(
      await this.opts.client.create<Lease>(
        paths.collection(LEASE_API_VERSION, "leases", this.opts.namespace),
        lease,
        call,
      ),
    );
    this.heldUntil = now + (spec.leaseDurationSeconds ?? 0) * 1000;
    return true;
  }

  private nextSpec(old: LeaseSpec | undefined, now: number): LeaseSpec {
    const t = formatMicroTime(now);
    const ours = old?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.leaseMs / 1000)),
      acquireTime: ours ? old?.acquireTime : t,
      renewTime: t,
      leaseTransitions: old === undefined ? 0 : (old.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
  }

  /** acquireDelay waits a jittered retryPeriod, but wakes when the observed record would expire. */
  private acquireDelay(): number {
    const jittered = this.retryMs * (1 + 0.2 * Math.random());
    const obs = this.observation;
    const untilExpiry = obs?.spec?.holderIdentity ? observedExpiry(obs) - this.clock.now() : 0;
    return untilExpiry > 0 ? Math.min(jittered, untilExpiry + 10) : jittered;
  }

  /** observe records the lease as read or written now, and reports a change of holder. */
  private observe(lease: Lease): void {
    const before = this.leader;
    this.observation = observeLease(this.observation, lease.spec, this.clock.now());
    if (this.leader !== before && this.leader !== this.identity) {
      this.log.info("New leader observed", { leader: this.leader ?? null });
      this.opts.onNewLeader?.(this.leader);
    }
  }

  private startLeading(): void {
    this.leading = new AbortController();
    this.setStatus(true);
    this.log.info("Became leader");
    const signal = this.leading.signal;
    Promise.resolve()
      .then(() => this.opts.onStartedLeading?.(signal))
      .catch((err: unknown) => this.log.error("onStartedLeading failed", { err }));
  }

  private stopLeading(): void {
    if (!this.leading) return;
    this.leading.abort(new Error("leadership lost"));
    this.leading = undefined;
    this.setStatus(false);
    this.log.info("Stopped leading");
    this.opts.onStoppedLeading?.();
  }

  private setStatus(leading: boolean): void {
    this.opts.metrics?.leaderStatus.set({ name: this.name }, leading ? 1 : 0);
  }

  /** sleep waits ms, or less when stop() is called. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopper.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const cancel = this.clock.after(ms, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

function validateDurations(leaseMs: number, renewDeadlineMs: number, retryMs: number): void {
  if (!(leaseMs > renewDeadlineMs)) throw new Error("leaseDuration must be greater than renewDeadline");
  if (!(renewDeadlineMs > 1.2 * retryMs))
    throw new Error("renewDeadline must be greater than 1.2 × retryPeriod");
  if (!(retryMs > 0)) throw new Error("retryPeriod must be positive");
  if (leaseMs < 1000) throw new Error("leaseDuration must be at least 1 s (the Lease stores whole seconds)");
}
