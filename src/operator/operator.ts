/**
 * The operator process: wires the caches, the work queue, the reconciler, leader election and the
 * probe/metrics servers together, and shuts them down in order.
 */
import {
  type HPORequest,
  HPORequestResource,
  type HyperParameterSet,
  HyperParameterSetResource,
  LABEL_REQUEST,
} from "../api/index.ts";
import { EventRecorder } from "../controller/events.ts";
import { BuiltinGenerator, type Generator } from "../controller/generator.ts";
import { Reconciler, type ReconcilerMetrics } from "../controller/reconciler.ts";
import { SetAggregates } from "../controller/setsview.ts";
import { LABEL_MANAGED } from "../jobs/manifests.ts";
import { admitGenerator, defaultPodPolicy, refusalMessage } from "../jobs/policy.ts";
import { PROTOCOL_ARGS } from "../jobs/protocol.ts";
import { ContainerGenerator, type ContainerSettings, withPreset } from "../jobs/runner.ts";
import { createMessaging } from "../messaging/wiring.ts";
import { KubeClient, loadKubeConfig } from "../runtime/client.ts";
import { Controller } from "../runtime/controller.ts";
import { Informer, type KubeObject, keyOf } from "../runtime/informer.ts";
import { LeaderElector } from "../runtime/leader.ts";
import type { Logger } from "../runtime/log.ts";
import { createMetrics, type Metrics, requestMetrics } from "../runtime/metrics.ts";
import { healthz, metricsHandler, readyz, startHttpServer } from "../runtime/server.ts";
import { WorkerPool } from "../workers/pool.ts";
import type { OperatorConfig } from "./config.ts";
import { requestChanged, setChanged } from "./predicates.ts";

/** Operator is a running operator. */
export interface Operator {
  /** done resolves when the operator has stopped (after stop(), or when it lost leadership). */
  done: Promise<void>;
  stop(): Promise<void>;
  metrics: Metrics;
}

function reconcilerMetrics(m: Metrics): ReconcilerMetrics {
  const phases = new Map<string, string>();
  const refresh = () => {
    const counts = new Map<string, number>();
    for (const p of phases.values()) counts.set(p, (counts.get(p) ?? 0) + 1);
    m.requests.reset();
    for (const [phase, n] of counts) m.requests.set({ phase }, n);
  };
  return {
    pointsGenerated: (method, n) => m.pointsGenerated.inc({ method }, n),
    lossesRecorded: (n) => m.lossesRecorded.inc(n),
    generationDuration: (method, s) => m.generationDuration.observe({ method }, s),
    generationFailed: (method) => m.generationFailures.inc({ method }),
    phase: (key, phase) => {
      if (phase === undefined) phases.delete(key);
      else phases.set(key, phase);
      refresh();
    },
  };
}

/** containerSettings are the settings of generator Jobs, with the preset of method: nevergrad. */
export function containerSettings(cfg: OperatorConfig): ContainerSettings {
  return {
    operatorImage: cfg.operatorImage,
    ttlSecondsAfterFinished: Math.round(cfg.jobTtlMs / 1000),
    gzipAboveBytes: 256 * 1024,
    pendingTimeoutMs: cfg.pendingTimeoutMs,
    policy: cfg.generators.policy,
    outputLimitBytes: cfg.generators.outputLimitBytes,
    // A pod stuck on an image pull changes no Job: look again every few seconds while a Job runs.
    pollMs: 5_000,
    presets: {
      nevergrad: {
        image: cfg.nevergradImage,
        command: ["python", "/app/main.py"],
        args: [...PROTOCOL_ARGS],
      },
    },
  };
}

/**
 * podPolicyCheck is the core's admission of a request: a container generator's spec (with its
 * method's preset) under the admin's generator pod policy; a refusal's message, else undefined.
 */
export function podPolicyCheck(settings: ContainerSettings): (req: HPORequest) => string | undefined {
  return (req) => {
    if (req.spec.method !== "container" && req.spec.method !== "nevergrad") return undefined;
    const g = withPreset(req, settings.presets).spec.generator ?? {};
    const admitted = admitGenerator(g, settings.policy ?? defaultPodPolicy);
    return admitted.ok ? undefined : refusalMessage(admitted.reasons);
  };
}

/** startOperator starts everything and returns at once; the caller awaits done or calls stop. */
export async function startOperator(cfg: OperatorConfig, log: Logger): Promise<Operator> {
  const kubeconfig = loadKubeConfig(cfg.kubeconfig, cfg.context);
  const metrics = createMetrics();
  const clientOptions = { qps: cfg.kubeApiQps, burst: cfg.kubeApiBurst, metrics: requestMetrics(metrics) };
  const client = new KubeClient(kubeconfig, clientOptions);
  const informerOpts = { client, namespaces: cfg.namespaces, log: log.child({ component: "informer" }) };
  const requests = new Informer<HPORequest & KubeObject>({ ...informerOpts, ...HPORequestResource });
  const sets = new Informer<HyperParameterSet & KubeObject>({
    ...informerOpts,
    ...HyperParameterSetResource,
  });
  // Per-request summaries of the sets, kept from every change of the cache (reconciler and announcer).
  const aggregates = new SetAggregates().follow(sets);
  const pool = new WorkerPool(cfg.methodWorkers);
  // A built-in method computes in the background; when it is done, its request is reconciled again.
  let enqueue = (_key: string) => {};
  const builtin = new BuiltinGenerator(pool, cfg.methodTimeoutMs, (req) => enqueue(keyOf(req as KubeObject)));
  const jobSettings = containerSettings(cfg);
  const jobs = new ContainerGenerator(client, jobSettings);
  const generatorFor = (req: HPORequest): Generator =>
    req.spec.method === "container" || req.spec.method === "nevergrad" ? jobs : builtin;
  const jobInformer = new Informer<KubeObject>({
    ...informerOpts,
    apiVersion: "batch/v1",
    plural: "jobs",
    labelSelector: `${LABEL_MANAGED}=hpo-operator`,
  });
  const recorder = new EventRecorder(client, "hpo-operator", (err) =>
    log.warn("could not record an event", { error: (err as Error).message }),
  );
  const rmetrics = reconcilerMetrics(metrics);
  const reconciler = new Reconciler({
    client,
    requests,
    sets,
    aggregates,
    generatorFor,
    recorder,
    metrics: rmetrics,
    settings: {
      policy: { retries: cfg.retries, retryBaseMs: cfg.retryBaseMs, retryMaxMs: cfg.retryMaxMs },
      setBytes: cfg.setBytes,
      statusIntervalMs: 1_000,
      paramsBytesWithoutSpace: 1_024,
      admit: podPolicyCheck(jobSettings),
    },
  });
  // Announcing new points on ActiveMQ is a controller of its own (src/messaging), on the same caches.
  // The announcer also hears the reconciler's writes from the watch; the nudge after each reconcile
  // saves it that round trip.
  const messaging = createMessaging({
    settings: cfg.broker,
    client,
    requests,
    sets,
    aggregates,
    recorder,
    metrics,
    log,
    resyncMs: cfg.resyncMs,
  });
  const controller = new Controller({
    name: "hporequest",
    reconcile: (key, ctx) =>
      reconciler.reconcile(key, ctx.log, ctx.signal).finally(() => messaging.announcer.enqueue(key)),
    workers: cfg.concurrency,
    // Generations run outside the reconcile; a reconcile is API calls only. Past this deadline its
    // calls are aborted and the key is retried with backoff.
    timeoutMs: 60_000,
    logger: log,
    metrics,
  });

  enqueue = (key) => controller.enqueue(key);
  requests.on((type, obj, old) => {
    if (type === "DELETED") {
      builtin.forget(obj.metadata?.uid ?? "");
      rmetrics.phase(keyOf(obj), undefined);
    }
    if (requestChanged(type, obj, old)) controller.enqueue(keyOf(obj));
  });
  sets.on((type, obj, old) => {
    if (setChanged(type, obj, old)) controller.enqueue(`${obj.metadata?.namespace}/${obj.spec?.request}`);
  });

  jobInformer.on((_type, obj) => {
    const request = obj.metadata?.labels?.[LABEL_REQUEST];
    if (request) controller.enqueue(`${obj.metadata?.namespace}/${request}`);
  });

  const ready = () => requests.hasSynced() && sets.hasSynced() && jobInformer.hasSynced();
  const probes = { "/healthz": healthz(), "/readyz": readyz({ caches: ready }) };
  const metricsRoutes = { "/metrics": metricsHandler(metrics.registry) };
  const same = cfg.metricsAddress === cfg.probeAddress;
  const probeServer = await startHttpServer(
    cfg.probeAddress,
    same ? { ...probes, ...metricsRoutes } : probes,
    log,
  );
  const metricsServer = same ? undefined : await startHttpServer(cfg.metricsAddress, metricsRoutes, log);
  log.info("serving probes and metrics", {
    probePort: probeServer.port,
    metricsPort: metricsServer?.port ?? probeServer.port,
  });

  requests.start();
  sets.start();
  jobInformer.start();
  let resync: NodeJS.Timeout | undefined;
  const lead = async () => {
    await Promise.all([requests.waitForSync(), sets.waitForSync()]);
    log.info("caches synced; reconciling", { requests: requests.list().length });
    controller.start();
    messaging.start();
    for (const r of requests.list()) controller.enqueue(keyOf(r));
    resync = setInterval(() => {
      for (const r of requests.list()) controller.enqueue(keyOf(r));
    }, cfg.resyncMs);
    resync.unref();
  };

  let stopping: Promise<void> | undefined;
  let elector: LeaderElector | undefined;
  let resolveDone = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("shutting down");
      clearInterval(resync);
      await controller.stop();
      await messaging.stop();
      await elector?.stop({ release: true });
      await Promise.all([requests.stop(), sets.stop(), jobInformer.stop()]);
      await recorder.flush();
      await pool.close();
      await probeServer.close();
      await metricsServer?.close();
      client.close();
      leaseClient.close();
      log.info("stopped");
      resolveDone();
    })();
    return stopping;
  };

  const leaseClient = new KubeClient(kubeconfig, clientOptions);
  if (cfg.leaderElect) {
    elector = new LeaderElector({
      // A client of its own, as controller-runtime gives leader election: its rate limit and
      // connections are never taken by reconciles and watches, so the Lease is renewed on time.
      client: leaseClient,
      namespace: cfg.leaderElectionNamespace,
      name: cfg.leaderElectionId,
      identity: cfg.identity,
      leaseDurationMs: cfg.leaseDurationMs,
      renewDeadlineMs: cfg.renewDeadlineMs,
      retryPeriodMs: cfg.retryPeriodMs,
      logger: log,
      metrics,
      onStartedLeading: () => {
        log.info("became the leader", { identity: cfg.identity });
        void lead();
      },
      onStoppedLeading: () => {
        // Like controller-runtime: a replica that lost its lease stops, and is restarted clean.
        log.warn("leadership lost; stopping", { identity: cfg.identity });
        void stop();
      },
    });
    void elector.run();
  } else {
    void lead();
  }
  return { done, stop, metrics };
}
