/**
 * An operator serving 40 namespaces (three watches each: 120 streams, more than the 64 sockets
 * of the calls' connection pool) keeps renewing its Lease and reconciles a request created in the
 * 40th namespace: watches never starve calls. Its API requests carry client-go's metrics.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyRequest, points, waitFor } from "../support/hpo.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { metricSum, type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const namespaces = Array.from({ length: 40 }, (_, i) => `many-${process.pid}-${i + 1}`);
let op: OperatorProcess;

/** lease reads the Lease's holder, renewTime and transitions. */
function lease(ns: string): { holder: string; renewTime: string; transitions: number } {
  const l = JSON.parse(kubectlOk(["get", "lease", "hpo-many", "-n", ns, "-o", "json"]));
  return {
    holder: l.spec.holderIdentity,
    renewTime: l.spec.renewTime,
    transitions: l.spec.leaseTransitions ?? 0,
  };
}

beforeAll(async () => {
  const list = namespaces.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: list }));
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [
      `--namespaces=${namespaces.join(",")}`,
      "--leader-elect=true",
      `--leader-election-namespace=${namespaces[0]}`,
      "--leader-election-id=hpo-many",
      "--identity=many-namespaces",
      // A short lease: a renewal that waited behind the watches for 3 s would end leadership.
      "--lease-duration=4s",
      "--renew-deadline=3s",
      "--retry-period=500ms",
    ],
  });
}, 120_000);

afterAll(async () => {
  await op?.kill("SIGTERM");
  kubectl(["delete", "namespace", ...namespaces, "--wait=false"]);
});

describe("an operator serving 40 namespaces", () => {
  it("keeps renewing its Lease and reconciles a request in the 40th namespace", async () => {
    const last = namespaces[39] as string;
    const first = await waitFor(
      "the Lease",
      async () => lease(namespaces[0] as string).holder === "many-namespaces",
    );
    expect(first).toBe(true);
    applyRequest(last, "far", {
      method: "random",
      seed: 1,
      searchSpace: { a: { type: "float", low: 0, high: 1 } },
      maxPoints: 4,
      pointsPerGeneration: 2,
    });
    const got = await waitFor("points in the 40th namespace", async () => {
      const p = await points(last, "far");
      return p.length >= 2 ? p : undefined;
    });
    expect(got.map((p) => p.id)).toEqual(["1", "2"]);

    // Over 3 lease durations, the renewTime moves on and the holder never changes.
    const seen = new Set<string>();
    const until = Date.now() + 12_000;
    await waitFor(
      "12 s of renewals",
      async () => {
        const l = lease(namespaces[0] as string);
        expect(l.holder).toBe("many-namespaces");
        expect(l.transitions).toBe(0);
        seen.add(l.renewTime);
        return Date.now() > until;
      },
      20_000,
    );
    expect(seen.size).toBeGreaterThanOrEqual(6);
    expect(op.child.exitCode).toBeNull();
    const metrics = await op.metrics();
    expect(metricSum(metrics, "rest_client_requests_total")).toBeGreaterThan(120);
    expect(metrics).toMatch(
      /rest_client_request_duration_seconds_count\{verb="PUT",host="127\.0\.0\.1:\d+"\} \d+/,
    );
  }, 120_000);
});
