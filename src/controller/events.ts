/**
 * EventRecorder posts Kubernetes Events (core/v1) about requests, off the reconcile path: record()
 * queues and returns; a failed post is logged, never retried into a loop. Repeats are sent once,
 * floods of similar events are combined and rate-limited (correlator.ts).
 */
import type { KubeClient } from "../runtime/client.ts";
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
  private pending = Promise.resolve();
  private seq = 0;
  /** dropped counts the events the correlator kept back (repeats, and those past the rate limit). */
  dropped = 0;

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
    if (c.action === "drop") {
      this.dropped++;
      return;
    }
    const now = new Date().toISOString();
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
      message: c.message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.pending = this.pending
      .then(() => this.client.create(`/api/v1/namespaces/${ns}/events`, body))
      .then(
        () => undefined,
        (e) => this.onError(e),
      );
  }

  /** flush waits for the queued events to be sent. */
  flush(): Promise<void> {
    return this.pending;
  }
}
