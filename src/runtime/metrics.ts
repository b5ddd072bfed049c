/**
 * Prometheus metrics of one operator instance: the controller-runtime and client-go names that
 * dashboards already know, the HPO metrics of this project, and Node's process metrics, all in a
 * Registry of their own (never prom-client's global one, so several instances can live in a test).
 */
import { Counter, collectDefaultMetrics, exponentialBuckets, Gauge, Histogram, Registry } from "prom-client";

/** ReconcileResult is the `result` label of controller_runtime_reconcile_total. */
export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

/** QueueStats is what a work queue reports when scraped: time spent on keys still being processed. */
export interface QueueStats {
  unfinishedSeconds: number;
  longestSeconds: number;
}

/** Metrics holds the registry and typed handles of every metric the operator reports. */
export interface Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalReconcileErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly workqueueDepth: Gauge<"name">;
  readonly workqueueAdds: Counter<"name">;
  readonly workqueueQueueDuration: Histogram<"name">;
  readonly workqueueWorkDuration: Histogram<"name">;
  readonly workqueueRetries: Counter<"name">;
  readonly leaderStatus: Gauge<"name">;
  readonly pointsGenerated: Counter<"method">;
  readonly lossesRecorded: Counter;
  readonly generationDuration: Histogram<"method">;
  readonly generationFailures: Counter<"method">;
  readonly requests: Gauge<"phase">;
  /** restClientRequests is client-go's rest_client_requests_total: API requests by code, method and host. */
  readonly restClientRequests: Counter<"code" | "method" | "host">;
  /** restClientRequestDuration is client-go's rest_client_request_duration_seconds, by verb and host. */
  readonly restClientRequestDuration: Histogram<"verb" | "host">;
  /**
   * trackQueue makes workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds
   * of queue `name` read stats() at each scrape; the returned function stops it.
   */
  trackQueue(name: string, stats: () => QueueStats): () => void;
}

/** MetricsOptions configure createMetrics. */
export interface MetricsOptions {
  /** processMetrics adds Node's default process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

/** reconcileBuckets are controller-runtime's buckets for controller_runtime_reconcile_time_seconds. */
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** queueBuckets are client-go's workqueue buckets: 10 ns to 1,000 s. */
const queueBuckets = exponentialBuckets(1e-8, 10, 12);
/** requestBuckets are client-go's buckets for rest_client_request_duration_seconds. */
const requestBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
/** generationBuckets cover a built-in method (ms) to a generator Job (minutes). */
const generationBuckets = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/** createMetrics makes a fresh registry with every operator metric registered in it. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const m = makers(registry);
  const queues = new Map<string, () => QueueStats>();
  const queueGauge = (name: string, help: string, pick: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["name"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [queue, stats] of queues) this.set({ name: queue }, pick(stats()));
      },
    });
  queueGauge(
    "workqueue_unfinished_work_seconds",
    "Seconds of work in progress not yet observed by work_duration; large values mean stuck workers.",
    (s) => s.unfinishedSeconds,
  );
  queueGauge(
    "workqueue_longest_running_processor_seconds",
    "Seconds the longest running processor of the queue has been running.",
    (s) => s.longestSeconds,
  );
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    ...controllerMetrics(m),
    ...queueMetrics(m),
    ...hpoMetrics(m),
    ...restClientMetrics(m),
    leaderStatus: m.gauge(
      "leader_election_master_status",
      "1 while this instance holds the leader lease `name`, 0 otherwise.",
      ["name"],
    ),
    trackQueue(name, stats) {
      queues.set(name, stats);
      return () => {
        if (queues.get(name) === stats) queues.delete(name);
      };
    },
  };
}

type Makers = ReturnType<typeof makers>;

/** makers returns constructors of metrics registered in registry. */
function makers(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers }),
  };
}

function controllerMetrics(m: Makers) {
  const c = ["controller"] as const;
  return {
    reconcileTotal: m.counter(
      "controller_runtime_reconcile_total",
      "Total number of reconciliations per controller and result.",
      ["controller", "result"] as const,
    ),
    reconcileErrors: m.counter(
      "controller_runtime_reconcile_errors_total",
      "Total number of reconciliation errors per controller.",
      c,
    ),
    terminalReconcileErrors: m.counter(
      "controller_runtime_terminal_reconcile_errors_total",
      "Total number of terminal reconciliation errors (not retried) per controller.",
      c,
    ),
    reconcileTime: m.histogram(
      "controller_runtime_reconcile_time_seconds",
      "Length of time per reconciliation per controller.",
      c,
      reconcileBuckets,
    ),
    activeWorkers: m.gauge(
      "controller_runtime_active_workers",
      "Number of workers currently reconciling, per controller.",
      c,
    ),
    maxConcurrentReconciles: m.gauge(
      "controller_runtime_max_concurrent_reconciles",
      "Maximum number of concurrent reconciles per controller.",
      c,
    ),
  };
}

function queueMetrics(m: Makers) {
  const n = ["name"] as const;
  return {
    workqueueDepth: m.gauge("workqueue_depth", "Current depth of the work queue.", n),
    workqueueAdds: m.counter("workqueue_adds_total", "Total number of adds handled by the work queue.", n),
    workqueueQueueDuration: m.histogram(
      "workqueue_queue_duration_seconds",
      "How long in seconds a key stays in the work queue before being requested.",
      n,
      queueBuckets,
    ),
    workqueueWorkDuration: m.histogram(
      "workqueue_work_duration_seconds",
      "How long in seconds processing a key from the work queue takes.",
      n,
      queueBuckets,
    ),
    workqueueRetries: m.counter(
      "workqueue_retries_total",
      "Total number of delayed adds (retries and timed requeues) handled by the work queue.",
      n,
    ),
  };
}

function hpoMetrics(m: Makers) {
  const method = ["method"] as const;
  return {
    pointsGenerated: m.counter(
      "hpo_points_generated_total",
      "Total number of hyperparameter points generated, per method.",
      method,
    ),
    lossesRecorded: m.counter(
      "hpo_losses_recorded_total",
      "Total number of losses merged into HyperParameterSet status.",
    ),
    generationDuration: m.histogram(
      "hpo_generation_duration_seconds",
      "How long in seconds one generation of points takes, per method.",
      method,
      generationBuckets,
    ),
    generationFailures: m.counter(
      "hpo_generation_failures_total",
      "Total number of failed generation attempts, per method.",
      method,
    ),
    requests: m.gauge("hpo_requests", "Number of HPORequests per phase.", ["phase"] as const),
  };
}

function restClientMetrics(m: Makers) {
  return {
    restClientRequests: m.counter(
      "rest_client_requests_total",
      "Number of HTTP requests to the API server, partitioned by status code, method, and host.",
      ["code", "method", "host"] as const,
    ),
    restClientRequestDuration: m.histogram(
      "rest_client_request_duration_seconds",
      "Request latency in seconds, until the response headers, partitioned by verb and host.",
      ["verb", "host"] as const,
      requestBuckets,
    ),
  };
}

/** requestMetrics feeds a KubeClient's request observations into the rest_client_* metrics of m. */
export function requestMetrics(m: Metrics): {
  observe(method: string, host: string, code: string, s: number): void;
} {
  return {
    observe(method, host, code, seconds) {
      m.restClientRequests.inc({ code, method, host });
      m.restClientRequestDuration.observe({ verb: method, host }, seconds);
    },
  };
}

/**
 * metricValue reads one sample from a registry: `name` may be a series of a histogram
 * (`..._sum`, `..._count`); labels must all match. Undefined when there is no such sample.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string | number> = {},
): Promise<number | undefined> {
  const direct = registry.getSingleMetric(name);
  const metric = direct ?? registry.getSingleMetric(name.replace(/_(sum|count|bucket)$/, ""));
  const values: { value: number; labels: object; metricName?: string }[] =
    (await metric?.get())?.values ?? [];
  const sample = values.find(
    (v) =>
      (direct ? v.metricName === undefined || v.metricName === name : v.metricName === name) &&
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
  );
  return sample?.value;
}
