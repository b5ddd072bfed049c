/**
 * The test kubelet's Node: registration (Ready, InternalIP 127.0.0.1, the kubelet port, allocatable
 * resources, no taints) and the heartbeat that keeps it Ready (a Lease in kube-node-lease renewed
 * every few seconds, and the Ready condition's heartbeat time refreshed less often).
 */
import { randomUUID } from "node:crypto";
import { availableParallelism, release, totalmem } from "node:os";
import type { KubeClient } from "../../src/runtime/client.ts";
import { AlreadyExistsError, NotFoundError } from "../../src/runtime/errors.ts";

/** NodeConfig describes the Node to register. */
export interface NodeConfig {
  name: string;
  port: number;
  labels: Record<string, string>;
  kubeletVersion: string;
}

/** nodeLabels are the well-known labels of a node, under extra ones. */
export function nodeLabels(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return {
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": arch,
    ...extra,
  };
}

const started = new Date().toISOString();
const bootID = randomUUID();

function conditions(now: string) {
  const c = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: started,
  });
  return [
    c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    c("Ready", "True", "KubeletReady", "kubelet is posting ready status (hpo-operator test kubelet)"),
  ];
}

/** nodeStatus is the status the kubelet reports for its Node. */
export function nodeStatus(cfg: NodeConfig, now = new Date().toISOString()) {
  const resources = {
    cpu: String(availableParallelism()),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: "110",
    "ephemeral-storage": "100Gi",
  };
  return {
    capacity: resources,
    allocatable: resources,
    conditions: conditions(now),
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.port } },
    nodeInfo: {
      machineID: cfg.name,
      systemUUID: cfg.name,
      bootID,
      kernelVersion: release(),
      osImage: "hpo-operator test kubelet (pods run as local processes)",
      containerRuntimeVersion: "local-process://0.1.0",
      kubeletVersion: cfg.kubeletVersion,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: nodeLabels(cfg.name)["kubernetes.io/arch"],
    },
  };
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

/**
 * registerNode creates the Node (or takes over an existing one of the same name), removes the
 * not-ready taint the TaintNodesByCondition admission plugin adds at creation (the node lifecycle
 * controller that would remove it is off here), and reports it Ready. It returns the Node's uid.
 */
export async function registerNode(client: KubeClient, cfg: NodeConfig): Promise<string> {
  const body = { apiVersion: "v1", kind: "Node", metadata: { name: cfg.name, labels: cfg.labels } };
  try {
    await client.create("/api/v1/nodes", { ...body, status: nodeStatus(cfg) });
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
  }
  await client.mergePatch(nodePath(cfg.name), {
    metadata: { labels: cfg.labels },
    spec: { taints: null, unschedulable: null },
  });
  const node = await client.mergePatch<{ metadata: { uid: string } }>(`${nodePath(cfg.name)}/status`, {
    status: nodeStatus(cfg),
  });
  return node.metadata.uid;
}

/** microTime formats a time as a MicroTime (six fractional digits). */
export function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** renewLease creates or renews the node's Lease in kube-node-lease. */
export async function renewLease(client: KubeClient, cfg: NodeConfig, nodeUID: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(cfg.name)}`;
  const spec = { holderIdentity: cfg.name, leaseDurationSeconds: 40, renewTime: microTime() };
  try {
    await client.mergePatch(path, { spec });
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    await client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: cfg.name,
        namespace: "kube-node-lease",
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: cfg.name, uid: nodeUID }],
      },
      spec,
    });
  }
}

/** heartbeatNode refreshes the node's conditions (their lastHeartbeatTime). */
export async function heartbeatNode(client: KubeClient, cfg: NodeConfig): Promise<void> {
  await client.mergePatch(`${nodePath(cfg.name)}/status`, {
    status: { conditions: conditions(new Date().toISOString()) },
  });
}

/** deleteNode removes the Node (its Lease goes with it through the owner reference). */
export async function deleteNode(client: KubeClient, name: string): Promise<void> {
  try {
    await client.delete(nodePath(name));
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
}
