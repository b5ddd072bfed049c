/**
 * EventRecorder posts Kubernetes Events (core/v1) about requests, off the reconcile path: record()
 * queues and returns; a failed post is logged, never retried into a loop. Repeats raise the count
 * of one Event, floods of similar events are combined and rate-limited (correlator.ts).
 */
import type { KubeClient } from "../runtime/client.ts";
import { NotFoundError } from "../runtime/errors.ts";
import { EventCorrelator } from "./correlator.ts";

/** EventTarget is the object an event is about. */
export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** Recorder is what the reconciler needs to emit events. */
export interface Recorder {
  record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): void;
}

/** EventRecorder sends events through the API server, deduplicated, combined and rate-limited. */
export class EventRecorder implements Recorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly onError: (err: unknown) => void;
  private readonly correlator: EventCorrelator;
  /** names maps a correlator key to the Event it made (namespace, name), for count updates. */
  private readonly names = new Map<string, { ns: string; name: string; first: string }>();
  private pending = Promise.resolve();
  private seq = 0;

  constructor(
    client: KubeClient,
    component: string,
    onError: (err: unknown) => void,
    correlator: EventCorrelator = new EventCorrelator(),
  ) {
    this.client = client;
    this.component = component;
    this.onError = onError;
    this.correlator = correlator;
  }

  record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): void {
    const ns = target.metadata?.namespace ?? "default";
    const object = target.metadata?.uid ?? `${ns}/${target.kind}/${target.metadata?.name}`;
    const c = this.correlator.correlate(object, type, reason, message.slice(0, 1024));
    if (c.action === "drop") return;
    const now = new Date().toISOString();
    const send =
      c.action === "update"
        ? () =>
            this.update(c.key, c.count, now, () => this.create(target, ns, type, reason, message, c.key, now))
        : () => this.create(target, ns, type, reason, c.message, c.key, now);
    this.pending = this.pending.then(send).then(
      () => undefined,
      (e) => this.onError(e),
    );
  }

  private async create(
    target: EventTarget,
    ns: string,
    type: string,
    reason: string,
    message: string,
    key: string,
    now: string,
  ): Promise<void> {
    const name = `${target.metadata?.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`;
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.metadata?.name,
        namespace: ns,
        uid: target.metadata?.uid,
        resourceVersion: target.metadata?.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.client.create(`/api/v1/namespaces/${ns}/events`, body);
    this.names.set(key, { ns, name, first: now });
    if (this.names.size > 4096) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
  }

  /** update raises the count of the Event a repeat belongs to; when it is gone, recreate() makes a new one. */
  private async update(
    key: string,
    count: number,
    now: string,
    recreate: () => Promise<void>,
  ): Promise<void> {
    const ev = this.names.get(key);
    if (!ev) return recreate();
    try {
      await this.client.mergePatch(`/api/v1/namespaces/${ev.ns}/events/${ev.name}`, {
        count,
        lastTimestamp: now,
      });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      this.names.delete(key);
      return recreate();
    }
  }

  /** flush waits for the queued events to be sent. */
  flush(): Promise<void> {
    return this.pending;
  }
}
