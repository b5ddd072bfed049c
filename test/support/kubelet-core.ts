/**
 * The test kubelet itself, in the current process (test/support/kubelet.ts runs it in a child
 * process of its own): it registers a Node and keeps it Ready, binds pending pods to it (there is
 * no scheduler), runs their containers through an image table, reports pod status as a kubelet
 * does, and serves container logs to the API server. See docs/development.md.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { ConflictError, NotFoundError } from "../../src/runtime/errors.ts";
import { Informer } from "../../src/runtime/informer.ts";
import { deletePodNow, eventRecorder, objectReader, reportLost, tokenRequester } from "./kubelet-api.ts";
import {
  deleteNode,
  heartbeatNode,
  type NodeConfig,
  nodeLabels,
  registerNode,
  renewLease,
} from "./kubelet-node.ts";
import { type PodDeps, PodWorker } from "./kubelet-pod.ts";
import {
  type KubeletServer,
  type LogLookup,
  selfSignedCertificate,
  startKubeletServer,
} from "./kubelet-server.ts";
import { type ImageTable, nodeSelectorMatches } from "./kubelet-spec.ts";
import { isTerminalPhase } from "./kubelet-status.ts";
import type { Pod } from "./kubelet-types.ts";

/** KubeletOptions configure a test kubelet. */
export interface KubeletOptions {
  /** kubeconfig is the path of a kubeconfig allowed to manage nodes, pods and leases. */
  kubeconfig: string;
  /** nodeName of the Node to register (default `kubelet-<random>`). */
  nodeName?: string;
  /** images maps image references to local commands. */
  images: ImageTable;
  /** workRoot holds pod folders, logs and the TLS key (default: a temp folder removed by stop). */
  workRoot?: string;
  /** log receives diagnostic lines (default: dropped). */
  log?: (line: string) => void;
  /** namespaces limits which pending pods are bound to this node (default: all). */
  namespaces?: string[];
  /** labels are extra Node labels (for nodeSelector). */
  labels?: Record<string, string>;
  /** backoffMs is the first delay of image-pull and restart back-offs (default 1000, doubling to 30 s). */
  backoffMs?: number;
  /** leaseSeconds is the Lease renewal period (default 10). */
  leaseSeconds?: number;
  /** keepNode leaves the Node registered after stop (default: deleted). */
  keepNode?: boolean;
  /**
   * reportUnschedulable: a pending pod of its namespaces whose nodeSelector this node does not match
   * gets the scheduler's PodScheduled=False condition (reason Unschedulable), as the only node of
   * the cluster would have it (default false: another test kubelet may take the pod).
   */
  reportUnschedulable?: boolean;
}

/** RunningKubelet is a test kubelet running in this process. */
export interface RunningKubelet {
  nodeName: string;
  /** port is the HTTPS port of the kubelet API (container logs). */
  port: number;
  workRoot: string;
  /** processes lists the container processes running now. */
  processes(): { namespace: string; pod: string; container: string; pid: number }[];
  /** stop kills every container process, stops serving and (unless keepNode) deletes the Node. */
  stop(): Promise<void>;
}

const defaultScheduler = "default-scheduler";

/** baseEnv is the environment every container starts from: PATH (this Node first) and the
 * kubernetes service variables pointing at the API server. */
function baseEnv(server: URL): Record<string, string> {
  const host = server.hostname.replace(/^\[|\]$/g, "");
  const port = server.port || "443";
  return {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: port,
    KUBERNETES_SERVICE_PORT_HTTPS: port,
    KUBERNETES_PORT: `tcp://${host}:${port}`,
  };
}

/** runKubelet registers a Node and starts running the pods bound to it, in this process. */
export async function runKubelet(opts: KubeletOptions): Promise<RunningKubelet> {
  const log = opts.log ?? (() => {});
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const nodeName = opts.nodeName ?? `kubelet-${randomBytes(3).toString("hex")}`;
  const workRoot = opts.workRoot ?? mkdtempSync(join(tmpdir(), "hpo-kubelet-"));
  mkdirSync(join(workRoot, "pods"), { recursive: true });
  const workers = new Map<string, PodWorker>();
  const cleanups: (() => Promise<void> | void)[] = [() => client.close()];
  if (!opts.workRoot) cleanups.push(() => rmSync(workRoot, { recursive: true, force: true }));
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const lookup: LogLookup = (ns, pod, container, previous) => {
      const w = [...workers.values()].findLast((w) => w.matches(ns, pod));
      return w ? w.logSource(container, previous) : { status: 404, message: `pod "${pod}" does not exist` };
    };
    const tls = selfSignedCertificate(workRoot, nodeName);
    const server: KubeletServer = await startKubeletServer(tls, lookup, log);
    cleanups.push(() => server.close());
    const version = await client.get<{ gitVersion: string }>("/version");
    const cfg: NodeConfig = {
      name: nodeName,
      port: server.port,
      labels: nodeLabels(nodeName, opts.labels),
      kubeletVersion: version.gitVersion,
    };
    const nodeUID = await registerNode(client, cfg);
    if (!opts.keepNode) cleanups.push(() => deleteNode(client, nodeName).catch((e) => log(String(e))));
    cleanups.push(startHeartbeat(client, cfg, nodeUID, (opts.leaseSeconds ?? 10) * 1000, log));
    const deps: PodDeps = {
      client,
      images: opts.images,
      net: { nodeName, hostIP: "127.0.0.1", podIP: "127.0.0.1" },
      podsRoot: join(workRoot, "pods"),
      baseEnv: baseEnv(client.server),
      reader: objectReader(client),
      requestToken: tokenRequester(client),
      event: eventRecorder(client, nodeName, log),
      log,
      backoffMs: opts.backoffMs ?? 1000,
    };
    const informer = watchPods(
      client,
      deps,
      cfg.labels,
      workers,
      opts.namespaces,
      log,
      opts.reportUnschedulable ?? false,
    );
    cleanups.push(async () => {
      await informer.stop();
      await Promise.all([...workers.values()].map((w) => w.kill()));
    });
    await informer.waitForSync();
    log(`kubelet ${nodeName}: Ready, serving on 127.0.0.1:${server.port}, pods in ${workRoot}`);
    let stopped: Promise<void> | undefined;
    return {
      nodeName,
      port: server.port,
      workRoot,
      processes: () => [...workers.values()].flatMap((w) => w.namedProcesses()),
      stop: () => {
        stopped ??= cleanup();
        return stopped;
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

function startHeartbeat(
  client: KubeClient,
  cfg: NodeConfig,
  nodeUID: string,
  periodMs: number,
  log: (l: string) => void,
): () => void {
  let beats = 0;
  const beat = async () => {
    try {
      await renewLease(client, cfg, nodeUID);
      if (++beats % 4 === 0) await heartbeatNode(client, cfg);
    } catch (e) {
      log(`kubelet ${cfg.name}: heartbeat: ${(e as Error).message}`);
    }
  };
  void beat();
  const timer = setInterval(beat, periodMs);
  return () => clearInterval(timer);
}

function watchPods(
  client: KubeClient,
  deps: PodDeps,
  labels: Record<string, string>,
  workers: Map<string, PodWorker>,
  namespaces: string[] | undefined,
  log: (l: string) => void,
  reportUnschedulable: boolean,
): Informer<Pod> {
  const informer = new Informer<Pod>({
    client,
    apiVersion: "v1",
    plural: "pods",
    namespaces,
    log: {
      info: (m, f) => log(`${m} ${JSON.stringify(f ?? {})}`),
      warn: (m, f) => log(`${m} ${JSON.stringify(f ?? {})}`),
      debug: () => {},
    },
  });
  const binder = new Binder(client, deps.net.nodeName, labels, log, (ns, name) => informer.get(ns, name));
  binder.reportUnschedulable = reportUnschedulable;
  informer.on((type, pod) => {
    const uid = pod.metadata.uid ?? "";
    if (type === "DELETED") {
      workers.get(uid)?.forget();
      workers.delete(uid);
      return;
    }
    if (!pod.spec.nodeName) return binder.consider(pod);
    if (pod.spec.nodeName !== deps.net.nodeName) return;
    const known = workers.get(uid);
    if (known) return known.update(pod);
    if (pod.metadata.deletionTimestamp || isTerminalPhase(pod.status?.phase)) {
      // Not ours to run (finished, or deleted before it started): only let the deletion complete.
      if (pod.metadata.deletionTimestamp) void deletePodNow(client, pod, log);
      return;
    }
    // Started by an earlier kubelet of this node: its processes are gone.
    if (pod.status?.startTime) return void reportLost(client, pod, log);
    const w = new PodWorker(deps, pod);
    workers.set(uid, w);
    w.start();
  });
  informer.start();
  return informer;
}

/** Binder is the scheduler the control plane lacks: it binds pending pods to this node. */
class Binder {
  /** reportUnschedulable: tell pods this node cannot take that no node can (the scheduler's condition). */
  reportUnschedulable = false;
  private readonly inFlight = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly client: KubeClient;
  private readonly nodeName: string;
  private readonly labels: Record<string, string>;
  private readonly log: (l: string) => void;
  private readonly current: (ns: string, name: string) => Pod | undefined;

  constructor(
    client: KubeClient,
    nodeName: string,
    labels: Record<string, string>,
    log: (l: string) => void,
    current: (ns: string, name: string) => Pod | undefined,
  ) {
    this.client = client;
    this.nodeName = nodeName;
    this.labels = labels;
    this.log = log;
    this.current = current;
  }

  /** consider binds an unbound pod that this node can take. */
  consider(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    if (pod.metadata.deletionTimestamp || isTerminalPhase(pod.status?.phase)) return;
    if ((pod.spec.schedulerName ?? defaultScheduler) !== defaultScheduler) return;
    if (!nodeSelectorMatches(pod, this.labels)) {
      this.unschedulable(pod);
      return;
    }
    if (this.inFlight.has(uid)) return;
    this.inFlight.add(uid);
    void this.bind(pod).then((ok) => {
      if (ok) return;
      this.inFlight.delete(uid);
      setTimeout(() => {
        const now = this.current(pod.metadata.namespace ?? "", pod.metadata.name);
        if (now && !now.spec.nodeName) this.consider(now);
      }, 1000);
    });
  }

  /** unschedulable writes the condition kube-scheduler writes when no node fits the pod, once. */
  private unschedulable(pod: Pod): void {
    const { namespace, name, uid } = pod.metadata;
    if (!this.reportUnschedulable || this.reported.has(uid ?? "")) return;
    this.reported.add(uid ?? "");
    const condition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message:
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
      lastTransitionTime: new Date().toISOString(),
    };
    void this.client
      .request("PATCH", paths.object("v1", "pods", namespace ?? "default", name, "status"), {
        body: { status: { conditions: [condition] } },
        contentType: "application/strategic-merge-patch+json",
      })
      .catch((e) => this.log(`unschedulable ${namespace}/${name}: ${(e as Error).message}`));
  }

  private async bind(pod: Pod): Promise<boolean> {
    const { namespace, name, uid } = pod.metadata;
    try {
      await this.client.create(paths.object("v1", "pods", namespace ?? "default", name, "binding"), {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace, uid },
        target: { apiVersion: "v1", kind: "Node", name: this.nodeName },
      });
      return true;
    } catch (e) {
      // Bound by someone else, or gone: nothing to retry.
      if (e instanceof ConflictError || e instanceof NotFoundError) return true;
      this.log(`bind ${namespace}/${name}: ${(e as Error).message}`);
      return false;
    }
  }
}
