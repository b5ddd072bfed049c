import { describe, expect, it } from "vitest";
import { createMetrics, metricValue } from "./metrics.ts";

const names = [
  "controller_runtime_reconcile_total",
  "controller_runtime_reconcile_errors_total",
  "controller_runtime_terminal_reconcile_errors_total",
  "controller_runtime_reconcile_time_seconds",
  "controller_runtime_active_workers",
  "controller_runtime_max_concurrent_reconciles",
  "workqueue_depth",
  "workqueue_adds_total",
  "workqueue_queue_duration_seconds",
  "workqueue_work_duration_seconds",
  "workqueue_retries_total",
  "workqueue_unfinished_work_seconds",
  "workqueue_longest_running_processor_seconds",
  "leader_election_master_status",
  "hpo_points_generated_total",
  "hpo_losses_recorded_total",
  "hpo_generation_duration_seconds",
  "hpo_generation_failures_total",
  "hpo_requests",
  "rest_client_requests_total",
  "rest_client_request_duration_seconds",
];

describe("createMetrics", () => {
  it("registers every controller-runtime, workqueue, leader, rest client and HPO metric", async () => {
    const m = createMetrics({ processMetrics: false });
    const registered = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect([...registered].sort()).toEqual([...names].sort());
  });

  it("gives each instance its own registry, with Node process metrics by default", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.pointsGenerated.inc({ method: "random" }, 5);
    expect(await metricValue(a.registry, "hpo_points_generated_total", { method: "random" })).toBe(5);
    expect(await metricValue(b.registry, "hpo_points_generated_total", { method: "random" })).toBeUndefined();
    const text = await a.registry.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toContain('hpo_points_generated_total{method="random"} 5');
  });

  it("reads queue stats at scrape time and forgets untracked queues", async () => {
    const m = createMetrics({ processMetrics: false });
    let longest = 1;
    const untrack = m.trackQueue("q", () => ({ unfinishedSeconds: 3, longestSeconds: longest }));
    m.trackQueue("other", () => ({ unfinishedSeconds: 0, longestSeconds: 0 }));
    expect(await metricValue(m.registry, "workqueue_longest_running_processor_seconds", { name: "q" })).toBe(
      1,
    );
    longest = 2;
    expect(await metricValue(m.registry, "workqueue_longest_running_processor_seconds", { name: "q" })).toBe(
      2,
    );
    expect(await metricValue(m.registry, "workqueue_unfinished_work_seconds", { name: "q" })).toBe(3);
    untrack();
    expect(await metricValue(m.registry, "workqueue_unfinished_work_seconds", { name: "q" })).toBeUndefined();
    expect(await metricValue(m.registry, "workqueue_unfinished_work_seconds", { name: "other" })).toBe(0);
  });

  it("metricValue reads histogram series and matches labels", async () => {
    const m = createMetrics({ processMetrics: false });
    m.generationDuration.observe({ method: "tpe" }, 0.5);
    m.generationDuration.observe({ method: "tpe" }, 1.5);
    m.generationDuration.observe({ method: "random" }, 9);
    expect(await metricValue(m.registry, "hpo_generation_duration_seconds_sum", { method: "tpe" })).toBe(2);
    expect(await metricValue(m.registry, "hpo_generation_duration_seconds_count", { method: "random" })).toBe(
      1,
    );
    expect(
      await metricValue(m.registry, "hpo_generation_duration_seconds_bucket", { method: "tpe", le: 1 }),
    ).toBe(1);
  });
});
