/**
 * EventRecorder posts Kubernetes Events (core/v1) about requests, off the reconcile path: record()
 * queues and returns; a failed post is logged, never retried into a loop.
 */
import type { KubeClient } from "../runtime/client.ts";

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

/** EventRecorder sends events through the API server. */
export class EventRecorder implements Recorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly onError: (err: unknown) => void;
  private pending = Promise.resolve();
  private seq = 0;

  constructor(client: KubeClient, component: string, onError: (err: unknown) => void) {
    this.client = client;
    this.component = component;
    this.onError = onError;
  }

  record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): void {
    const ns = target.metadata?.namespace ?? "default";
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
      message: message.slice(0, 1024),
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
