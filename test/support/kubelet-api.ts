/**
 * The test kubelet's calls to the API server: reading ConfigMaps and Secrets, service account
 * tokens, Events, pod status (one write at a time, the latest state winning) and pod deletion.
 */
import { type KubeClient, paths } from "../../src/runtime/client.ts";
import { ConflictError, InvalidError, NotFoundError } from "../../src/runtime/errors.ts";
import type { ObjectReader } from "./kubelet-spec.ts";
import { unknownTerminated } from "./kubelet-status.ts";
import type { ContainerStatus, DataObject, Pod, PodCondition, PodStatus } from "./kubelet-types.ts";
import type { TokenRequester } from "./kubelet-volumes.ts";

/** SMP is the strategic merge patch content type: pod conditions merge by type, as the kubelet's do. */
const SMP = "application/strategic-merge-patch+json";

/** EventRecorder records an Event about a pod. */
export type EventRecorder = (pod: Pod, type: "Normal" | "Warning", reason: string, message: string) => void;

/** objectReader reads ConfigMaps and Secrets, undefined when they do not exist. */
export function objectReader(client: KubeClient): ObjectReader {
  const read = async (plural: string, ns: string, name: string) => {
    try {
      return await client.get<DataObject>(paths.object("v1", plural, ns, name));
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  };
  return {
    configMap: (ns, name) => read("configmaps", ns, name),
    secret: (ns, name) => read("secrets", ns, name),
  };
}

/** tokenRequester issues pod-bound service account tokens through the TokenRequest API. */
export function tokenRequester(client: KubeClient): TokenRequester {
  return async (pod, audience, expirationSeconds) => {
    const { name, namespace, uid } = pod.metadata;
    const sa = pod.spec.serviceAccountName ?? "default";
    const r = await client.create<{ status: { token: string } }>(
      paths.object("v1", "serviceaccounts", namespace ?? "default", sa, "token"),
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          audiences: audience ? [audience] : [],
          expirationSeconds: expirationSeconds ?? 3607,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name, uid },
        },
      },
    );
    return r.status.token;
  };
}

/** eventRecorder records Events about pods as the kubelet of nodeName; failures are only logged. */
export function eventRecorder(client: KubeClient, nodeName: string, log: (l: string) => void): EventRecorder {
  return (pod, type, reason, message) => {
    const { name, namespace, uid } = pod.metadata;
    const now = new Date().toISOString();
    client
      .create(paths.collection("v1", "events", namespace), {
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: "v1", kind: "Pod", name, namespace, uid },
        type,
        reason,
        message,
        source: { component: "kubelet", host: nodeName },
        reportingComponent: "kubelet",
        reportingInstance: nodeName,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch((e) => log(`event ${reason} for ${namespace}/${name}: ${(e as Error).message}`));
  };
}

/** deletePodNow removes a pod object with grace period 0 (if it is still the same pod), as a
 * kubelet does once the pod's containers have stopped. */
export async function deletePodNow(client: KubeClient, pod: Pod, log: (msg: string) => void): Promise<void> {
  const { namespace = "default", name, uid } = pod.metadata;
  try {
    await client.delete(paths.object("v1", "pods", namespace, name), {
      body: { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid } },
    });
  } catch (e) {
    if (!(e instanceof NotFoundError || e instanceof ConflictError))
      log(`pod ${namespace}/${name}: delete: ${(e as Error).message}`);
  }
}

/**
 * reportLost fails a pod that a previous kubelet of this node had started: its processes died with
 * that kubelet, so every container that had not finished is reported as ContainerStatusUnknown
 * (exit code 137), as the kubelet does for containers it cannot find.
 */
export async function reportLost(client: KubeClient, pod: Pod, log: (msg: string) => void): Promise<void> {
  const { namespace = "default", name } = pod.metadata;
  const lose = (s: ContainerStatus): ContainerStatus =>
    s.state.terminated
      ? s
      : { ...s, ready: false, started: false, state: { terminated: unknownTerminated() } };
  const status: PodStatus = {
    phase: "Failed",
    reason: "ContainerStatusUnknown",
    message: "The test kubelet that ran this pod stopped; its processes are gone",
    ...(pod.status?.initContainerStatuses
      ? { initContainerStatuses: pod.status.initContainerStatuses.map(lose) }
      : {}),
    containerStatuses: (pod.status?.containerStatuses ?? []).map(lose),
  };
  try {
    await patchPodStatus(client, pod, status);
  } catch (e) {
    if (!(e instanceof NotFoundError || e instanceof ConflictError))
      log(`pod ${namespace}/${name}: status: ${(e as Error).message}`);
  }
}

/** patchPodStatus writes a pod's status (strategic merge), only to the pod with that uid. */
export function patchPodStatus(client: KubeClient, pod: Pod, status: PodStatus): Promise<Pod> {
  const { namespace = "default", name, uid } = pod.metadata;
  return client.request<Pod>("PATCH", paths.object("v1", "pods", namespace, name, "status"), {
    body: { metadata: { uid }, status },
    contentType: SMP,
  });
}

/** StatusSource is what a StatusReporter writes: the pod, and its status from the last conditions written. */
export interface StatusSource {
  pod(): Pod;
  status(previous: PodCondition[] | undefined): PodStatus;
  /** written receives the pod as the API server returned it. */
  written(pod: Pod): void;
}

/**
 * StatusReporter writes a pod's status whenever it is told the state changed: one write at a time,
 * each of the latest state, retried with back-off; it stops for good once the pod is gone.
 */
export class StatusReporter {
  private readonly client: KubeClient;
  private readonly source: StatusSource;
  private readonly log: (msg: string) => void;
  private last: PodCondition[] | undefined;
  private dirty = false;
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(client: KubeClient, source: StatusSource, log: (msg: string) => void) {
    this.client = client;
    this.source = source;
    this.log = log;
  }

  /** gone tells whether the pod is gone (or was replaced): nothing is written any more. */
  get gone(): boolean {
    return this.stopped;
  }

  /** stop ends all writing. */
  stop(): void {
    this.stopped = true;
  }

  /** report schedules a write of the current state. */
  report(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.writing ??= this.loop().finally(() => {
      this.writing = undefined;
    });
  }

  /** flush writes the current state and waits until it is written (or the pod is gone). */
  async flush(): Promise<void> {
    this.report();
    while (this.writing) await this.writing;
  }

  private async loop(): Promise<void> {
    for (let failures = 0; this.dirty && !this.stopped; ) {
      this.dirty = false;
      const pod = this.source.pod();
      const status = this.source.status(this.last);
      try {
        this.source.written(await patchPodStatus(this.client, pod, status));
        this.last = status.conditions;
        failures = 0;
      } catch (e) {
        const what = `pod ${pod.metadata.namespace}/${pod.metadata.name}: status`;
        // Gone, or replaced by a pod of the same name (the uid in the patch does not match).
        if (e instanceof NotFoundError || e instanceof ConflictError) this.stopped = true;
        else if (e instanceof InvalidError) return this.log(`${what} refused: ${e.message}`);
        else {
          this.log(`${what}: ${(e as Error).message}`);
          this.dirty = true;
          await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** failures++)));
        }
      }
    }
  }
}
